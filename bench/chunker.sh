#!/usr/bin/env bash
# chunker.sh: compares the throughput of outpost's chunker (FastCDC boundaries + BLAKE2b-256 of
# every chunk, bench/chunk_bench) with coreutils' b2sum on the same 1 GB file of incompressible
# random data, read from a warm page cache. Budget: chunker >= 0.80 x b2sum.
#
# Usage: bench/chunker.sh [chunk_bench options, e.g. --avg 32768]
#
# Environment:
#   OUTPOST_BUILD  build directory holding bench/chunk_bench (default: build/release under the
#                  repository root; a relative path is taken from the repository root)
#   CHUNK_BENCH    the chunk_bench binary itself (default: $OUTPOST_BUILD/bench/chunk_bench)
#   BENCH_DIR      cache directory for the test file (default: /tmp/outpost-bench)
#   BENCH_BYTES    size of the test file in bytes (default: 1000000000)
#   BENCH_RUNS     runs of each tool; the best one counts (default: 3)
#
# Prints a table and a PASS/FAIL line; the exit code is 0 either way (it is a report), and
# non-zero only when the benchmark could not run.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-build/release}
[[ $build = /* ]] || build=$repo_root/$build
chunk_bench=${CHUNK_BENCH:-$build/bench/chunk_bench}
bench_dir=${BENCH_DIR:-/tmp/outpost-bench}
bytes=${BENCH_BYTES:-1000000000}
runs=${BENCH_RUNS:-3}
budget=0.80

die() { echo "chunker.sh: $*" >&2; exit 1; }

[[ -x $chunk_bench ]] || die "no chunk_bench at $chunk_bench; build it with:
  cmake -S $repo_root -B $repo_root/build/release -G Ninja -DCMAKE_BUILD_TYPE=Release
  ninja -C $repo_root/build/release chunk_bench
or set OUTPOST_BUILD / CHUNK_BENCH"
command -v b2sum >/dev/null || die "b2sum (coreutils) not found"
[[ $bytes =~ ^[0-9]+$ && $bytes -gt 0 ]] || die "BENCH_BYTES must be a positive integer"
[[ $runs =~ ^[0-9]+$ && $runs -gt 0 ]] || die "BENCH_RUNS must be a positive integer"

mkdir -p "$bench_dir"
file=$bench_dir/random-$bytes.bin

# The test file: made once, then reused while it has the right size.
if [[ ! -f $file || $(stat -c %s "$file") -ne $bytes ]]; then
  avail_kb=$(df -Pk "$bench_dir" | awk 'NR == 2 { print $4 }')
  (( avail_kb * 1024 > bytes + 100000000 )) || die "not enough space in $bench_dir for $bytes bytes"
  echo "making $file ($bytes bytes of /dev/urandom)..." >&2
  head -c "$bytes" /dev/urandom > "$file.tmp.$$"
  mv "$file.tmp.$$" "$file"
fi

# Warm the page cache, so both tools read from memory and the CPU work is what is compared.
cat "$file" > /dev/null

now() { date +%s.%N; }

# best_of CMD...: runs CMD $runs times (output discarded) and prints the shortest wall time.
best_of() {
  local best="" i t0 t1 t
  for (( i = 0; i < runs; i++ )); do
    t0=$(now)
    "$@" > /dev/null
    t1=$(now)
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    if [[ -z $best ]] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
  done
  echo "$best"
}

mbps() { awk -v n="$bytes" -v s="$1" 'BEGIN { printf "%.1f", (s > 0) ? n / 1e6 / s : 0 }'; }

b2_s=$(best_of b2sum "$file")
cb_s=$(best_of "$chunk_bench" "$file" "$@")
# One more run for chunk_bench's own figures (chunk count, mean size, its internal timer).
cb_json=$("$chunk_bench" "$file" "$@")

json_field() {  # json_field NAME: a number field of $cb_json
  sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p" <<<"$cb_json"
}

b2_mbps=$(mbps "$b2_s")
cb_mbps=$(mbps "$cb_s")
ratio=$(awk -v c="$cb_s" -v b="$b2_s" 'BEGIN { printf "%.2f", (c > 0) ? b / c : 0 }')
verdict=$(awk -v r="$ratio" -v m="$budget" 'BEGIN { print (r >= m) ? "PASS" : "FAIL" }')

echo "file:    $file ($bytes bytes, page cache warm, best of $runs)"
echo "chunker: min $(json_field min_size) / avg $(json_field avg_size) / max $(json_field max_size)," \
     "$(json_field chunks) chunks, mean $(json_field mean_chunk) bytes"
printf '%-24s %10s %10s\n' tool seconds MB/s
printf '%-24s %10s %10s\n' "b2sum" "$b2_s" "$b2_mbps"
printf '%-24s %10s %10s\n' "chunk_bench" "$cb_s" "$cb_mbps"
printf '%-24s %10s\n' "ratio chunker/b2sum" "$ratio"
echo "chunk_bench internal timer (last run): $(json_field mb_per_s) MB/s"
echo "budget: ratio >= $budget  $verdict"
