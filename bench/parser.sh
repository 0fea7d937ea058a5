#!/usr/bin/env bash
# parser.sh: the HTTP request parser of two outpost builds, side by side, on the requests where
# the parser's share of the work is largest: a small file (a 3 KB style sheet), a 15 KB HTML
# page served as a file, and a 16 KiB range request into a video, each asked with the head a
# phone's Chromium sends (~600 bytes), by wrk on loopback. Also times the parser alone
# (parse_bench: heads per second on one core). Build A is the baseline (by default the
# hand-written parser of decision 18, built here from git), build B the tree's own build.
# Prints both figures, the ratio B/A per test (median over rounds, with its spread) and what B
# costs against A in percent. Decision 27 (docs/decisions.md) was taken on its figures.
#
# Usage: bench/parser.sh
#
# Environment:
#   OUTPOST_BUILD    build directory of B (default: build/release under the repository root)
#   OUTPOST_B, PARSE_BENCH_B   B's outpost CLI and parse_bench (default: in $OUTPOST_BUILD)
#   OUTPOST_A, PARSE_BENCH_A   A's (default: built from BASELINE_REF into $BENCH_DIR/baseline)
#   BASELINE_REF     the commit A is built from (default: the parent of the commit that added
#                    server/src/http/request_parser.cc, i.e. the last hand-written parser)
#   BENCH_DIR        working directory (default: /tmp/outpost-bench/parser)
#   CONNECTIONS (64), WRK_THREADS (2), ROUNDS (5), DURATION (5), WARMUP (1)
#
# Method: both servers stay up for the whole run; for each test, ROUNDS rounds measure A then B
# (B then A in even rounds), DURATION s each after a WARMUP s wrk warm-up, so neither always runs
# on the warmer machine; the ratio is taken per round and the median reported. parse_bench runs
# A, B alternately ROUNDS times too. Needs wrk, curl, python3; cmake, ninja and g++ for A.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-build/release}
[[ $build = /* ]] || build=$repo_root/$build
bench_dir=${BENCH_DIR:-/tmp/outpost-bench/parser}
conns=${CONNECTIONS:-64}
wrk_threads=${WRK_THREADS:-2}
rounds=${ROUNDS:-5}
duration=${DURATION:-5}
warmup=${WARMUP:-1}

die() { echo "parser.sh: $*" >&2; exit 1; }
log() { echo "parser.sh: $*" >&2; }
for tool in wrk curl python3; do command -v "$tool" >/dev/null || die "$tool not found"; done
for v in conns wrk_threads rounds duration warmup; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || die "$v must be a positive integer (got '${!v}')"
done
ulimit -n 65536 2>/dev/null || true
mkdir -p "$bench_dir"
bench_dir=$(cd "$bench_dir" && pwd)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

outpost_b=${OUTPOST_B:-$build/cli/outpost}
parse_b=${PARSE_BENCH_B:-$build/bench/parse_bench}
[[ -x $outpost_b && -x $parse_b ]] ||
  die "B: no $outpost_b or $parse_b; build them: ninja -C $build outpost parse_bench"

# A: built from git (git archive, so the repository's worktrees are left alone), cached by commit.
if [[ -z ${OUTPOST_A:-} || -z ${PARSE_BENCH_A:-} ]]; then
  if [[ -z ${BASELINE_REF:-} ]]; then
    added=$(git -C "$repo_root" log --diff-filter=A --format=%H -- server/src/http/request_parser.cc | tail -n 1)
    [[ -n $added ]] || die "no commit adds server/src/http/request_parser.cc: set BASELINE_REF"
    BASELINE_REF=$added^
  fi
  ref=$(git -C "$repo_root" rev-parse --short=12 "$BASELINE_REF")
  src=$bench_dir/baseline/$ref
  if [[ ! -x $src/build/cli/outpost || ! -x $src/build/bench/parse_bench ]]; then
    log "building A from $ref in $src ..."
    rm -rf "$src" && mkdir -p "$src"
    git -C "$repo_root" archive "$ref" | tar -x -C "$src"
    # The web UI's vendored scripts (pdf.js) come from npm, not git: the tree's own serve.
    [[ -d $repo_root/node_modules ]] && ln -s "$(readlink -f "$repo_root/node_modules")" "$src/node_modules"
    launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S "$src" -B "$src/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" > "$src/cmake.log" 2>&1 ||
      { tail -n 20 "$src/cmake.log" >&2; die "configuring A failed"; }
    ninja -j"${NINJA_JOBS:-2}" -C "$src/build" outpost parse_bench > "$src/ninja.log" 2>&1 ||
      { tail -n 20 "$src/ninja.log" >&2; die "building A failed"; }
  fi
  OUTPOST_A=${OUTPOST_A:-$src/build/cli/outpost}
  PARSE_BENCH_A=${PARSE_BENCH_A:-$src/build/bench/parse_bench}
  baseline_name=$ref
else
  baseline_name=$OUTPOST_A
fi

# The corpus: a channel with 20 HTML pages of ~15 KB, a ~3 KB style sheet, a 5 MB video.
corpus=$bench_dir/corpus/bench-parser
if [[ ! -f $corpus/lecture.mp4 ]]; then
  rm -rf "$bench_dir/corpus" && mkdir -p "$corpus"
  python3 - "$corpus" <<'PY'
import os, random, sys
out = sys.argv[1]; rng = random.Random(3)
words = "water cloud rain river sun heat vapour ocean lake snow ice wind energy plant soil sea".split()
def para(n): return " ".join(rng.choice(words) for _ in range(n)).capitalize() + "."
open(os.path.join(out, "outpost.toml"), "w").write('[channel]\nid = "bench-parser"\ntitle = "Parser benchmark"\n')
open(os.path.join(out, "style.css"), "w").write("".join(
    ".c%d { margin: %dpx; padding: %dpx; color: #%06x; }\n" % (i, i % 9, i % 7, rng.getrandbits(24)) for i in range(60)))
for i in range(20):
    body, size = [], 0
    while size < 15000:
        p = "<p>%s</p>\n" % para(rng.randint(40, 120)); body.append(p); size += len(p)
    html = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>Lesson %d</title>'
            '<link rel="stylesheet" href="style.css"></head><body>\n%s</body></html>\n') % (i, "".join(body))
    open(os.path.join(out, "lesson-%02d.html" % i), "w").write(html[:15000] if len(html) > 15000 else html)
with open(os.path.join(out, "lecture.mp4"), "wb") as f:
    f.write(b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2mp41" + (5000000 - 28).to_bytes(4, "big") + b"mdat")
    f.write(os.urandom(5000000 - 36))
PY
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A PID=() BASE=()
cleanup() { local s; for s in "${!PID[@]}"; do kill "${PID[$s]}" 2>/dev/null || true; wait "${PID[$s]}" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

work=$bench_dir/run
rm -rf "$work" && mkdir -p "$work"
printf 'max_connections_per_address = 4096\n' > "$work/server.toml"
for s in A B; do
  bin=$OUTPOST_A; [[ $s = B ]] && bin=$outpost_b
  "$bin" import --data "$work/data-$s" --json "$corpus" > "$work/import-$s.json" 2> "$work/import-$s.err" ||
    { tail -n 20 "$work/import-$s.err" >&2; die "$s: outpost import failed"; }
  BASE[$s]=http://127.0.0.1:$(free_port)
  "$bin" serve --data "$work/data-$s" --listen "${BASE[$s]#http://}" --config "$work/server.toml" \
    > "$work/outpost-$s.log" 2>&1 &
  PID[$s]=$!
  for (( i = 0; i < 150; i++ )); do curl -s -o /dev/null "${BASE[$s]}/" && break; sleep 0.1; done
  curl -s -o /dev/null "${BASE[$s]}/" || { cat "$work/outpost-$s.log" >&2; die "$s: outpost serve did not start"; }
done

# The head of Chromium 120 on Android over plain HTTP (wrk adds Host).
chromium='wrk.headers["Connection"] = "keep-alive"
wrk.headers["User-Agent"] = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
wrk.headers["Referer"] = "http://192.168.4.1:8080/t/bench-parser/"
wrk.headers["Accept-Encoding"] = "gzip, deflate"
wrk.headers["Accept-Language"] = "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7"
wrk.headers["Upgrade-Insecure-Requests"] = "1"'
printf '%s\n' "$chromium" > "$work/chromium.lua"
printf '%s\nwrk.headers["Range"] = "bytes=1000000-1016383"\n' "$chromium" > "$work/range.lua"
declare -A PATH_OF=([small]=/c/bench-parser/style.css [html]=/c/bench-parser/lesson-07.html [range]=/c/bench-parser/lecture.mp4)
declare -A LUA_OF=([small]=chromium.lua [html]=chromium.lua [range]=range.lua)
declare -A WANT_OF=([small]=200 [html]=200 [range]=206)
for s in A B; do
  for t in small html range; do
    range=(); [[ $t = range ]] && range=(-H 'Range: bytes=1000000-1016383')
    got=$(curl -s -o /dev/null -w '%{http_code}' "${range[@]}" "${BASE[$s]}${PATH_OF[$t]}")
    [[ $got = "${WANT_OF[$t]}" ]] || die "$s: ${PATH_OF[$t]} answered $got, expected ${WANT_OF[$t]}"
  done
done

# The server's CPU time (user + system, all threads) in clock ticks: divided by the requests
# wrk completed, it is the cost of a request, which other jobs on the machine move much less
# than they move requests/s (they take the cores; they do not make a request cost more).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ticks_per_s=$(getconf CLK_TCK)

declare -A RPS=() CPU=()
printf 'build\ttest\tround\treq/s\tcpu_us_per_req\n' > "$work/rounds.tsv"
measure() {  # measure BUILD TEST ROUND
  local s=$1 t=$2 r=$3 out=$work/wrk-$1-$2-r$3.txt c0 c1 n
  kill -0 "${PID[$s]}" 2>/dev/null || die "$s is no longer running; its log is in $work"
  wrk -t"$wrk_threads" -c"$conns" -d"${warmup}s" -s "$work/${LUA_OF[$t]}" "${BASE[$s]}${PATH_OF[$t]}" > /dev/null 2>&1 || true
  c0=$(cpu_ticks "${PID[$s]}")
  wrk -t"$wrk_threads" -c"$conns" -d"${duration}s" -s "$work/${LUA_OF[$t]}" "${BASE[$s]}${PATH_OF[$t]}" > "$out" 2>&1 || true
  c1=$(cpu_ticks "${PID[$s]}")
  RPS[$s,$t,$r]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  n=$(awk '/ requests in / { print $1 }' "$out")
  CPU[$s,$t,$r]=$(awk -v c="$(( c1 - c0 ))" -v n="${n:-0}" -v hz="$ticks_per_s" 'BEGIN { if (n > 0) printf "%.2f", c / hz * 1e6 / n; else print "-" }')
  [[ -n ${RPS[$s,$t,$r]} ]] || RPS[$s,$t,$r]=-
  if grep -qE 'Non-2xx|Socket errors' "$out"; then log "$s $t round $r: $(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ')"; fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$s" "$t" "$r" "${RPS[$s,$t,$r]}" "${CPU[$s,$t,$r]}" >> "$work/rounds.tsv"
  log "$t round $r/$rounds $s: ${RPS[$s,$t,$r]} req/s, ${CPU[$s,$t,$r]} us CPU/request"
}
median() { printf '%s\n' "$@" | awk '$1 != "-" { v[++n] = $1 + 0 } END { if (!n) { print "-"; exit }
  for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
  printf "%.6f\n", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'; }
span() { printf '%s\n' "$@" | awk '$1 != "-" { x = $1 + 0; if (!n++) lo = hi = x; if (x < lo) lo = x; if (x > hi) hi = x }
  END { if (n) printf "%.3f-%.3f\n", lo, hi; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-" && b > 0) printf "%.6f", a / b; else print "-" }'; }

for t in small html range; do
  for (( r = 1; r <= rounds; r++ )); do
    if (( r % 2 )); then measure A "$t" "$r"; measure B "$t" "$r"; else measure B "$t" "$r"; measure A "$t" "$r"; fi
  done
done
declare -A HEADS=()
for (( r = 1; r <= rounds; r++ )); do
  for s in A B; do
    bin=$PARSE_BENCH_A; [[ $s = B ]] && bin=$parse_b
    HEADS[$s,$r]=$("$bin" 1000000 3 | python3 -c 'import json,sys; print(json.load(sys.stdin)["heads_per_s"])')
    log "parse_bench round $r/$rounds $s: ${HEADS[$s,$r]} heads/s"
  done
done

echo "A: $baseline_name ($OUTPOST_A)"
echo "B: $(git -C "$repo_root" rev-parse --short=12 HEAD 2>/dev/null || echo '?') ($outpost_b)"
echo "wrk -t$wrk_threads -c$conns, ${duration}s per measurement after ${warmup}s warm-up, $rounds rounds A/B alternating; Chromium head"
echo "B cost: how much more B costs than A, from the median per-round ratio (requests/s: 1 - B/A; CPU: B/A - 1)"
printf '%-30s %11s %11s %7s %13s %7s\n' "test" "A" "B" "B/A" "B/A range" "B cost"
row() {  # row NAME KIND(rps|cpu|heads) TEST
  local name=$1 kind=$2 t=$3 a=() b=() q=() r x y m cost
  for (( r = 1; r <= rounds; r++ )); do
    case $kind in
      heads) x=${HEADS[A,$r]} y=${HEADS[B,$r]};;
      rps) x=${RPS[A,$t,$r]} y=${RPS[B,$t,$r]};;
      cpu) x=${CPU[A,$t,$r]} y=${CPU[B,$t,$r]};;
    esac
    a+=("$x"); b+=("$y"); q+=("$(ratio "$y" "$x")")
  done
  m=$(median "${q[@]}")
  if [[ $kind = cpu ]]; then cost=$(awk -v m="$m" 'BEGIN { printf "%.1f", (m - 1) * 100 }')
  else cost=$(awk -v m="$m" 'BEGIN { printf "%.1f", (1 - m) * 100 }'); fi
  printf '%-30s %11.2f %11.2f %7.3f %13s %6s%%\n' "$name" "$(median "${a[@]}")" "$(median "${b[@]}")" "$m" "$(span "${q[@]}")" "$cost"
}
row "small file (3 KB css) req/s" rps small
row "html page (15 KB) req/s" rps html
row "range (16 KiB of mp4) req/s" rps range
row "small file, CPU us/request" cpu small
row "html page, CPU us/request" cpu html
row "range, CPU us/request" cpu range
row "parse_bench heads/s" heads -
echo "load average: $load_at_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(nproc) cores"
echo "budget: B (Beast) is adopted unless it costs more than 5% (decision 31)"
