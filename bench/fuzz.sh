#!/usr/bin/env bash
# The long fuzz run (bench/README.md, "Fuzzing"): each target of fuzz/ for RUNS executions
# (default 10 million) or SECONDS, JOBS targets at a time (default: the cores), each starting
# from its seed corpus and keeping what it finds in $FUZZ_DIR/corpus/<target>. Prints per target
# the executions, executions per second, the coverage (libFuzzer's edge count "cov" and
# feature count "ft") and the crashes found, whose inputs it leaves in $FUZZ_DIR/crashes/.
#
#   bench/fuzz.sh [-r RUNS | -t SECONDS] [-j JOBS] [TARGET...]
#
# TIMEOUT (default 10) is libFuzzer's -timeout, seconds of wall clock per input: a run niced
# beside other work must raise it, or a starved input is reported as a timeout (seen here: a
# 0.1 s input took over 10 s at nice 19 beside a full build); a fuzzer paused with SIGSTOP (to
# quiet a benchmark) counts the pause too, so raise it above the longest pause (3600).
#
# Needs the fuzz build (clang):
#   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DOUTPOST_FUZZ=ON
#   ninja -C build/fuzz
# Exits 1 if a target crashed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_FUZZ_BUILD:-$root/build/fuzz}
dir=${FUZZ_DIR:-/tmp/outpost-fuzz}
runs=10000000
seconds=0
jobs=$(nproc)
while getopts "r:t:j:" opt; do
  case $opt in
    r) runs=$OPTARG ;;
    t) seconds=$OPTARG; runs=0 ;;
    j) jobs=$OPTARG ;;
    *) sed -n 2,12p "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets <"$build/fuzz_targets.txt"
mkdir -p "$dir/crashes" "$dir/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

one() {  # one TARGET: runs it, its log in $dir/logs/TARGET.log
  local t=$1 limit
  mkdir -p "$dir/corpus/$t"
  rm -f "$dir/crashes/$t-"*  # count only what this run finds
  if [ "$runs" -gt 0 ]; then limit=-runs=$runs; else limit=-max_total_time=$seconds; fi
  "$build/fuzz/$t" "$limit" -timeout="${TIMEOUT:-10}" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/crashes/$t-" "$dir/corpus/$t" "$root/fuzz/corpus/$t" \
    >"$dir/logs/$t.log" 2>&1 || true
}
export -f one
export build dir runs seconds root
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'one {}'

status=0
printf '%-24s %12s %9s %8s %8s %8s\n' target executions exec/s cov ft crashes
for t in "${targets[@]}"; do
  log=$dir/logs/$t.log
  execs=$(grep -oE 'number_of_executed_units: *[0-9]+' "$log" | tail -n 1 | awk '{print $2}')
  rate=$(grep -oE 'average_exec_per_sec: *[0-9]+' "$log" | tail -n 1 | awk '{print $2}')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
  # libFuzzer also saves inputs slower than 10 s there (slow-unit-*): reported, not crashes.
  crashes=$(find "$dir/crashes" -name "$t-*" ! -name "$t-slow-unit-*" | wc -l)
  [ "$crashes" -eq 0 ] || status=1
  printf '%-24s %12s %9s %8s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
done
[ "$status" -eq 0 ] || echo "crash inputs: $dir/crashes/ (logs: $dir/logs/)"
exit "$status"
