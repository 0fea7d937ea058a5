#!/usr/bin/env bash
# usage.sh: what counting views costs the learner pages (issue #16's budget: "counting views
# costs the learner pages less than 5 % of their requests per second, same benchmark, counting
# on and off"). Two `outpost serve` over two identical data folders, one with
# `count_views = true`, one with `count_views = false`; wrk loads resource pages (/r/...) on
# each in turn, cycling over RESOURCES pages so the counter holds many keys, ROUNDS times in
# alternating order. Prints each round's requests/s on and off, the medians, the median of the
# per-round ratios on/off with its spread, the cost (1 - ratio) and the budget with PASS/FAIL;
# then the rows and views each usage.db holds beside the resource pages requested of it (with
# counting on they should be equal: wrk's warm-ups count too; with counting off, no views).
#
# Usage: bench/usage.sh
#
# Needs (benchmark only): wrk, curl, python3.
#
# Environment:
#   OUTPOST_BUILD  build directory (default build/release under the repository root)
#   OUTPOST_BIN    the outpost CLI (default $OUTPOST_BUILD/cli/outpost)
#   BENCH_DIR      working directory (default /tmp/outpost-bench/usage)
#   RESOURCES      resource pages in the channel and in wrk's cycle (default 200)
#   CONNECTIONS    wrk connections (default 64); WRK_THREADS (default 2)
#   ROUNDS         rounds (default 5); DURATION seconds per server and round (default 5);
#   WARMUP         seconds of wrk before each measurement (default 1)
#
# Method: as serve.sh, both servers are up for the whole run and measured in turn in the same
# round (on first in odd rounds, off first in even rounds), so machine drift hits both alike; a
# ratio is taken per round and the median of those is the figure. Pages come from the page cache
# after the first request of each (as in a class), which is where counting's share of the work
# is largest. Exit code 0 when everything ran, whatever the figures.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-build/release}
[[ $build = /* ]] || build=$repo_root/$build
outpost=${OUTPOST_BIN:-$build/cli/outpost}
bench_dir=${BENCH_DIR:-/tmp/outpost-bench/usage}
resources=${RESOURCES:-200}
conns=${CONNECTIONS:-64}
wrk_threads=${WRK_THREADS:-2}
rounds=${ROUNDS:-5}
duration=${DURATION:-5}
warmup=${WARMUP:-1}

die() { echo "usage.sh: $*" >&2; exit 1; }
for tool in wrk curl python3; do command -v "$tool" >/dev/null || die "$tool not found"; done
[[ -x $outpost ]] || die "no outpost CLI at $outpost; build it (ninja -C build/release outpost) or set OUTPOST_BUILD / OUTPOST_BIN"

mkdir -p "$bench_dir"
channel=$bench_dir/channel
rm -rf "$channel" "$bench_dir"/on "$bench_dir"/off
mkdir -p "$channel"
printf '[channel]\nid = "bench"\ntitle = "Bench"\n' >"$channel/outpost.toml"
python3 - "$channel" "$resources" <<'EOF'
import sys, pathlib
root, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    d = root / f"unit-{i // 20:02d}"
    d.mkdir(exist_ok=True)
    body = "<p>" + "Water rises, cools and falls again as rain. " * 40 + "</p>"
    (d / f"lesson-{i:04d}.html").write_text(f"<!doctype html><html lang=en><title>Lesson {i}</title>{body}</html>")
EOF
lua=$bench_dir/cycle.lua
python3 - "$resources" >"$lua" <<'EOF'
import sys
n = int(sys.argv[1])
print("local paths = {")
for i in range(n):
    print(f'  "/r/bench/unit-{i // 20:02d}/lesson-{i:04d}.html",')
print("}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend")
EOF

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A base pid
for mode in on off; do
  data=$bench_dir/$mode
  "$outpost" import --data "$data" "$channel" >/dev/null
  # wrk's connections all come from 127.0.0.1: lift the per-address limit (64) above them.
  printf 'count_views = %s\nmax_connections_per_address = 4096\n' \
    "$([[ $mode = on ]] && echo true || echo false)" >"$data/server.toml"
  port=$(free_port)
  "$outpost" serve --data "$data" --listen "127.0.0.1:$port" >"$bench_dir/$mode.log" 2>&1 &
  pids+=($!)
  pid[$mode]=$!
  base[$mode]=http://127.0.0.1:$port
  for _ in $(seq 100); do curl -fs -o /dev/null "${base[$mode]}/" && break; sleep 0.1; done
  curl -fs -o /dev/null "${base[$mode]}/r/bench/unit-00/lesson-0000.html" || die "$mode: no resource page"
done

declare -A sent=([on]=1 [off]=1)  # requests made to each (the check of each server's page)
requests_of() { awk '/requests in/ {print $1}' "$1"; }
measure() {  # measure MODE: requests/s of one wrk run (its warm-up's and its requests added to sent)
  local out=$bench_dir/wrk.out
  wrk -t"$wrk_threads" -c"$conns" -d"${warmup}s" -s "$lua" "${base[$1]}" >"$out"
  sent[$1]=$(( sent[$1] + $(requests_of "$out") ))
  local before after
  before=$(cpu_ticks "${pid[$1]}")
  wrk -t"$wrk_threads" -c"$conns" -d"${duration}s" -s "$lua" "${base[$1]}" >"$out"
  after=$(cpu_ticks "${pid[$1]}")
  sent[$1]=$(( sent[$1] + $(requests_of "$out") ))
  grep -q "Non-2xx" "$out" && die "$1: some pages were not answered 200: $(cat "$out")"
  # requests/s, and the server's CPU microseconds per request over the measured run
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$(requests_of "$out")" \
    '/^Requests\/sec:/ {printf "%s %.2f\n", $2, ticks * 1e6 / hz / n}' "$out"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of every thread

echo "usage.sh: $resources resource pages, $conns connections, $rounds rounds of ${duration}s, $(nproc) cores"
printf '%-6s %12s %12s %8s %14s %14s %8s\n' round "on req/s" "off req/s" ratio "on CPU us/req" "off CPU us/req" ratio
ons=() offs=() ratios=() cpu_ratios=()
for r in $(seq "$rounds"); do
  if (( r % 2 )); then measure on >"$bench_dir/on.rps"; measure off >"$bench_dir/off.rps"
  else measure off >"$bench_dir/off.rps"; measure on >"$bench_dir/on.rps"; fi
  read -r on on_cpu <"$bench_dir/on.rps"
  read -r off off_cpu <"$bench_dir/off.rps"
  ratio=$(python3 -c "print(f'{$on / $off:.3f}')")
  cpu_ratio=$(python3 -c "print(f'{$on_cpu / $off_cpu:.3f}')")
  printf '%-6s %12s %12s %8s %14s %14s %8s\n' "$r" "$on" "$off" "$ratio" "$on_cpu" "$off_cpu" "$cpu_ratio"
  ons+=("$on") offs+=("$off") ratios+=("$ratio") cpu_ratios+=("$cpu_ratio")
done
python3 - "${ons[*]}" "${offs[*]}" "${ratios[*]}" "${cpu_ratios[*]}" <<'EOF'
import statistics, sys
on, off, ratio, cpu = ([float(x) for x in a.split()] for a in sys.argv[1:5])
m, c = statistics.median(ratio), statistics.median(cpu)
print(f"median: {statistics.median(on):.0f} req/s on, {statistics.median(off):.0f} off; ratio on/off {m:.3f} "
      f"(rounds from {min(ratio):.3f} to {max(ratio):.3f}); server CPU per request on/off {c:.3f} "
      f"(from {min(cpu):.3f} to {max(cpu):.3f})")
cost = (1 - m) * 100
print(f"budget: counting costs the learner pages < 5 % of their requests/s: cost {cost:.1f} % -> {'PASS' if cost < 5 else 'FAIL'}")
print(f"        (the same in server CPU per request: {100 * (c - 1):+.1f} %)")
EOF
for p in "${pids[@]}"; do kill "$p"; done
wait 2>/dev/null || true
pids=()
python3 - "$bench_dir/on/usage.db" "${sent[on]}" "$bench_dir/off/usage.db" "${sent[off]}" <<'EOF'
import sqlite3, sys
for f, sent in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    c = sqlite3.connect(f)
    rows, views = c.execute("select count(*), coalesce(sum(views), 0) from usage").fetchone()
    print(f"{f}: {rows} rows, {views} views for {sent} resource pages requested")
EOF
