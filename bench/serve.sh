#!/usr/bin/env bash
# serve.sh: HTTP delivery of `outpost serve` against nginx (the same files from disk) and, for
# the topic page, kiwix-serve (a ZIM of the same pages built with zimwriterfs), measured with wrk
# on loopback at 64 and 256 connections: a topic page, a 1 MB PDF, a 370 KB PDF, a 15 KB HTML
# content file and 1 MiB range requests into a ~50 MB video; in two set-ups: "float" (servers
# and wrk floating over all the cores; Outpost's event loops and nginx's workers one per core)
# and "pinned" (the server on core 0 with one event loop / one nginx worker, wrk on core 1).
# Prints requests/s and p99 latency side by side with the ratio Outpost / nginx and its spread
# over rounds, the CPU each side (wrk, server) spent per request, the nginx configurations used,
# the budgets with PASS/FAIL, and Outpost's peak RSS (VmHWM).
#
# Usage: bench/serve.sh
#
# Needs (benchmark only, not project dependencies): wrk, nginx (nginx-light), kiwix-serve
# (kiwix-tools), zimwriterfs (zim-tools), curl, python3. Without kiwix-serve or zimwriterfs the
# kiwix column says "not measured" and the rest still runs.
#
# Environment:
#   OUTPOST_BUILD    build directory (default: build/release under the repository root; a
#                    relative path is taken from the repository root)
#   OUTPOST_BIN      the outpost CLI (default: $OUTPOST_BUILD/cli/outpost)
#   BENCH_DIR        working directory: corpus (cached), data directory, configs, logs, ZIM
#                    (default: /tmp/outpost-bench/serve)
#   OUTPOST_THREADS  `outpost serve --threads`: workers for pages and searches (default: the
#                    server's own default; connections are held by one event loop per core)
#   OUTPOST_TOPIC_URL  the topic page to measure on Outpost (default: /t/CHANNEL/ if it answers
#                    200, else /topic/ROOT_ID from /api/v1/channels)
#   CONNECTIONS      connection counts (default "64 256")
#   SETUPS           "float pinned" (default; pinned needs 2 cores and taskset)
#   WRK_THREADS      wrk threads (default 2; 1 in the pinned set-up, where wrk has one core)
#   ROUNDS           rounds per test (default 3)
#   DURATION         seconds measured per server, test and round (default 5); WARMUP seconds of
#                    wrk before each measurement (default 1)
#
# Method: the speed of a shared machine drifts (other jobs come and go), so a ratio of two
# figures taken minutes apart is mostly drift. All the servers are started first and stay up
# (an idle server costs no CPU); then, for each connection count and each test, the servers are
# measured in turn, ROUNDS times: outpost then its peer(s) in odd rounds, the reverse order in
# even rounds, so neither side always runs on the warmer machine. A figure is the median over
# the rounds (requests/s; p99: the median of the rounds' p99s); a ratio is computed per round
# (outpost / peer in the same round) and the one reported is the median of those, with the
# smallest and largest per-round ratio beside it. The budgets use the median ratios. wrk shares
# the machine with the server being measured, as it does for each peer. The CPU per request
# (wrk's user+system time from `times`, the server's from /proc/PID/stat, its nginx workers
# included, over the measured seconds, divided by the requests) varies less with other load
# than requests/s do. Exit code 0 when everything ran, whatever the figures.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-build/release}
[[ $build = /* ]] || build=$repo_root/$build
outpost=${OUTPOST_BIN:-$build/cli/outpost}
bench_dir=${BENCH_DIR:-/tmp/outpost-bench/serve}
threads=${OUTPOST_THREADS:-}
conns_list=${CONNECTIONS:-64 256}
setups=${SETUPS:-float pinned}
wrk_threads=${WRK_THREADS:-2}
rounds=${ROUNDS:-3}
duration=${DURATION:-5}
warmup=${WARMUP:-1}

# The range request into the video: 1 MiB from offset 1,000,000 (not page-aligned).
range_first=1000000
range_last=2048575
pdf_bytes=1000000
leaflet_bytes=370000
reading_bytes=15000
video_bytes=50000000

die() { echo "serve.sh: $*" >&2; exit 1; }
log() { echo "serve.sh: $*" >&2; }

for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || die "$tool not found (benchmark needs: wrk nginx-light kiwix-tools zim-tools curl python3)"
done
[[ -x $outpost ]] || die "no outpost CLI at $outpost; build it with:
  cmake -S $repo_root -B $repo_root/build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DOUTPOST_BUILD_TESTS=OFF
  ninja -C $repo_root/build/release outpost
or set OUTPOST_BUILD / OUTPOST_BIN"
[[ -z $threads || $threads =~ ^[0-9]+$ ]] || die "OUTPOST_THREADS must be a positive integer"
for v in wrk_threads rounds duration warmup; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || die "$v must be a positive integer (got '${!v}')"
done
for c in $conns_list; do [[ $c =~ ^[0-9]+$ && $c -gt 0 ]] || die "CONNECTIONS: bad count '$c'"; done
for s in $setups; do [[ $s = float || $s = pinned ]] || die "SETUPS: unknown set-up '$s' (float, pinned)"; done
# Outpost's event loops in the float set-up: its default, one per core; nginx gets as many workers.
loops=$(nproc)
if [[ " $setups " = *" pinned "* ]] && { (( loops < 2 )) || ! command -v taskset >/dev/null; }; then
  log "pinned set-up skipped: it needs 2 cores and taskset (util-linux)"
  setups=${setups//pinned/}
fi

# Every connection is a file descriptor on both sides; 256 is well under any limit, but the
# default soft limit of 1024 is close enough to the servers' own needs to raise it.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Other work on the machine skews every figure (wrk, the server and anything else share the
# cores; the alternating rounds keep slow drift out of the ratios, not out of the requests/s):
# the load average before anything starts is printed with the results.
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$bench_dir"
bench_dir=$(cd "$bench_dir" && pwd)
channel_dir_name=bench-serve
corpus_root=$bench_dir/corpus
corpus=$corpus_root/$channel_dir_name
work=$bench_dir/run
data=$bench_dir/data
www=$bench_dir/www
rm -rf "$work" "$data" "$www"
mkdir -p "$work" "$www"

# ---------------------------------------------------------------------------------------------
# The corpus: a channel folder (made once, then reused): 50 HTML pages (5 at the root, 9 in each
# of 5 unit topics) with a style sheet, a PDF of exactly 1,000,000 bytes and an MP4 of
# 50,000,000 bytes (ftyp + mdat of random bytes).
gen_corpus() {
  python3 - "$1" "$pdf_bytes" "$video_bytes" "$leaflet_bytes" "$reading_bytes" <<'PY'
import os, random, sys
out, pdf_bytes, video_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
leaflet_bytes, reading_bytes = int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(7)
words = ("water cloud rain river evaporation condensation sun heat vapour ocean lake snow ice "
         "temperature pressure wind energy cycle plant leaf root soil mountain valley sea "
         "experiment measure observe record table graph teacher learner question answer "
         "because therefore when where which droplet surface air cold warm").split()

def para(n):
    s = " ".join(rng.choice(words) for _ in range(n))
    return s[0].upper() + s[1:] + "."

def page(title, prev, nxt, css):
    body = []
    for i in range(rng.randint(6, 12)):
        body.append("<h2>%s</h2>" % para(4)[:-1] if i % 4 == 0 else "<p>%s</p>" % para(rng.randint(60, 140)))
    nav = ""
    if prev: nav += '<a href="%s">Previous</a> ' % prev
    if nxt: nav += '<a href="%s">Next</a>' % nxt
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>%s</title><link rel="stylesheet" href="%s"></head>\n<body><main><h1>%s</h1>\n%s\n'
            '<nav>%s</nav></main></body></html>\n' % (title, css, title, "\n".join(body), nav))

def write(path, data):
    full = os.path.join(out, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

write("outpost.toml", '[channel]\nid = "bench-serve"\ntitle = "Serve benchmark"\n'
      'description = "A small channel for bench/serve.sh: fifty pages, a PDF and a video."\n'
      'language = "en"\nlicense = "CC0"\n\n[topic]\n'
      'description = "The water cycle, in five units of nine lessons, with a handbook and a lecture."\n')
write("style.css", "body{font-family:sans-serif;max-width:40em;margin:auto}h1{color:#225}\n" * 20)
intro = ["01-welcome", "02-how-to-use", "03-glossary", "04-safety", "05-for-teachers"]
for i, name in enumerate(intro):
    prev = intro[i - 1] + ".html" if i else None
    nxt = intro[i + 1] + ".html" if i + 1 < len(intro) else None
    write(name + ".html", page(name[3:].replace("-", " ").capitalize(), prev, nxt, "style.css"))
for u in range(1, 6):
    unit = "unit-%02d" % u
    write(unit + "/outpost.toml", '[topic]\ntitle = "Unit %d"\ndescription = "Nine lessons on %s."\n'
          % (u, " and ".join(rng.sample(words, 2))))
    for l in range(1, 10):
        prev = "lesson-%02d.html" % (l - 1) if l > 1 else None
        nxt = "lesson-%02d.html" % (l + 1) if l < 9 else None
        write("%s/lesson-%02d.html" % (unit, l), page("Unit %d, lesson %d: %s" % (u, l, rng.choice(words)),
                                                     prev, nxt, "../style.css"))

# A one-page PDF whose content stream is padded (with comment lines) to make the file exactly
# `size` bytes long, with a correct xref table.
def make_pdf(pad, title):
    text = b"BT /F1 24 Tf 72 720 Td (%s) Tj ET\n" % title
    filler = bytearray()
    line = b"% " + b"x" * 76 + b"\n"
    while len(filler) + len(line) <= pad:
        filler += line
    filler += b" " * (pad - len(filler))
    stream = text + bytes(filler)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        pdf += b"%010d 00000 n \n" % off
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(pdf)

def sized_pdf(size, title):
    pad = 0
    for _ in range(10):
        pdf = make_pdf(pad, title)
        if len(pdf) == size:
            return pdf
        pad += size - len(pdf)
    raise SystemExit("cannot make a PDF of %d bytes" % size)

write("handbook.pdf", sized_pdf(pdf_bytes, b"Outpost benchmark handbook"))
write("leaflet.pdf", sized_pdf(leaflet_bytes, b"Outpost benchmark leaflet"))

# A reading of exactly reading_bytes: an HTML content file, served as a file (not rendered).
reading = page("A longer reading", None, None, "style.css")
while len(reading) < reading_bytes:
    reading = reading.replace("</main>", "<p>%s</p>\n</main>" % para(60), 1)
reading = reading[:reading.index("</main>")]
tail = "</main></body></html>\n"
reading = reading[:reading_bytes - len(tail) - 1].rsplit(" ", 1)[0]
reading += " " * (reading_bytes - len(tail) - len(reading)) + tail
assert len(reading.encode()) == reading_bytes, len(reading.encode())
write("reading.html", reading)

ftyp = b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2mp41"
mdat_size = video_bytes - len(ftyp)
with open(os.path.join(out, "lecture.mp4"), "wb") as f:
    f.write(ftyp + mdat_size.to_bytes(4, "big") + b"mdat")
    left = mdat_size - 8
    while left:
        n = min(left, 1 << 20)
        f.write(os.urandom(n))
        left -= n
PY
}

if [[ ! -f $corpus/lecture.mp4 || $(stat -c %s "$corpus/handbook.pdf" 2>/dev/null) != "$pdf_bytes" ||
      $(stat -c %s "$corpus/leaflet.pdf" 2>/dev/null) != "$leaflet_bytes" ||
      $(stat -c %s "$corpus/reading.html" 2>/dev/null) != "$reading_bytes" ]]; then
  log "generating the corpus in $corpus ..."
  rm -rf "$corpus_root" "$corpus_root.tmp"
  mkdir -p "$corpus_root.tmp"
  gen_corpus "$corpus_root.tmp/$channel_dir_name"
  mv "$corpus_root.tmp" "$corpus_root"
fi
# nginx workers run as an unprivileged user when started by root: everything must be readable.
chmod -R a+rX "$bench_dir"
html_pages=$(find "$corpus" -name '*.html' | wc -l)

# ---------------------------------------------------------------------------------------------
# Helpers

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_http URL SECONDS PID: until URL answers at all (any status), or fail
wait_http() {
  local url=$1 secs=$2 pid=$3 i
  for (( i = 0; i < secs * 10; i++ )); do
    kill -0 "$pid" 2>/dev/null || return 1
    curl -s -o /dev/null "$url" && return 0
    sleep 0.1
  done
  return 1
}

# stop_server PID [SIGNAL]
stop_server() {
  local pid=$1 sig=${2:-TERM}
  kill -"$sig" "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# The servers stay up from their start to the end of the run; PID[outpost|nginx|kiwix].
declare -A PID=()
cleanup() {
  local s
  for s in "${!PID[@]}"; do
    if [[ $s = nginx* ]]; then stop_server "${PID[$s]}" QUIT; else stop_server "${PID[$s]}"; fi
  done
  PID=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# status_of URL [curl args]: the HTTP status code
status_of() { local url=$1; shift; curl -s -o /dev/null -w '%{http_code}' "$@" "$url"; }

# check_get NAME URL EXPECTED_STATUS EXPECTED_BYTES [curl args]: the response must have that
# status and body size; dies otherwise (a benchmark of error pages measures nothing).
check_get() {
  local name=$1 url=$2 want_status=$3 want_bytes=$4; shift 4
  local got
  got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$@" "$url")
  [[ $got = "$want_status $want_bytes" ]] ||
    die "$name: $url answered '$got' (status, bytes), expected '$want_status $want_bytes'"
}

# to_ms VALUE: wrk's "1.23ms" / "456.78us" / "1.02s" / "1.5m" in milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (match(v, /^[0-9.]+/)) { n = substr(v, 1, RLENGTH); u = substr(v, RLENGTH + 1) } else { print "-"; exit }
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
    if (f < 0) print "-"; else printf "%.2f", n * f }'
}

# listen_overflows: the kernel's count of connections dropped because a listen queue was full
# (TcpExt ListenOverflows, all sockets). Only the server being measured gets connections (the
# others are idle), so the difference over a measurement is that server's. A dropped SYN is
# retried after 1 s, then 3 s: it shows up as p99 latency and wrk timeouts.
listen_overflows() {
  awk '$1 == "TcpExt:" { if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1 } else v = $col["ListenOverflows"] }
       END { print v + 0 }' /proc/net/netstat 2>/dev/null || echo 0
}

printf 'wrk.headers["Range"] = "bytes=%d-%d"\n' "$range_first" "$range_last" > "$work/range.lua"

# server_cpu SERVER: CPU seconds (user + system) the server has used so far: the process with
# all its threads, and for nginx its workers too.
clk_tck=$(getconf CLK_TCK)
server_cpu() {
  local pid=${PID[$1]} p total=0
  for p in $pid $(pgrep -P "$pid" || true); do
    total=$(awk -v t="$total" -v hz="$clk_tck" '{ printf "%.4f", t + ($14 + $15) / hz }' "/proc/$p/stat" 2>/dev/null || echo "$total")
  done
  echo "$total"
}

# run_wrk SERVER OUT ARGS...: wrk with ARGS (output in OUT), on core 1 for a pinned server;
# prints the CPU seconds wrk used (its user + system time, from the subshell's `times`).
run_wrk() {
  local server=$1 out=$2; shift 2
  local -a pin=() threads=(-t"$wrk_threads")
  if [[ $server = *_pin ]]; then pin=(taskset -c 1); threads=(-t1); fi
  # `times` straight into a file: in a pipe it would run in a subshell of its own, without
  # wrk among its children.
  ( "${pin[@]}" wrk "${threads[@]}" "$@" > "$out" 2>&1 || true
    times > "$work/times" )
  awk 'NR == 2 { for (i = 1; i <= 2; i++) { v = $i; sub(/s$/, "", v); split(v, a, "m"); t += a[1] * 60 + a[2] } printf "%.4f\n", t }' "$work/times"
}

# RPS[SERVER,TEST,CONNS,ROUND] and P99[...]: one measurement each ("-" when wrk gave none);
# CLIENT_US / SERVER_US[...]: CPU microseconds per request of wrk and of the server;
# NOTE[...]: wrk's error counts; OVERFLOWS[SERVER]: listen overflows over its measurements.
declare -A RPS=() P99=() CLIENT_US=() SERVER_US=() NOTE=() OVERFLOWS=()
printf 'server\ttest\tconns\tround\treq/s\tp99_ms\twrk_cpu_us_per_req\tserver_cpu_us_per_req\n' > "$work/rounds.tsv"
# measure SERVER TEST CONNS ROUND URL [LUA]: a warm-up of $warmup s, then $duration s measured;
# keeps wrk's output in $work and a line in $work/rounds.tsv.
measure() {
  local server=$1 test=$2 c=$3 r=$4 url=$5 lua=${6:-} out ov errs cpu0 cpu1 wrk_cpu requests
  local k=$server,$test,$c,$r
  local -a script=()
  if [[ -n $lua ]]; then script=(-s "$lua"); fi
  kill -0 "${PID[$server]}" 2>/dev/null || die "$server (pid ${PID[$server]}) is no longer running; its log is in $work"
  out=$work/wrk-$server-$test-c$c-r$r.txt
  ov=$(listen_overflows)
  run_wrk "$server" /dev/null -c"$c" -d"${warmup}s" "${script[@]}" "$url" > /dev/null
  cpu0=$(server_cpu "$server")
  wrk_cpu=$(run_wrk "$server" "$out" -c"$c" -d"${duration}s" --latency "${script[@]}" "$url")
  cpu1=$(server_cpu "$server")
  OVERFLOWS[$server]=$(( ${OVERFLOWS[$server]:-0} + $(listen_overflows) - ov ))
  RPS[$k]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  P99[$k]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  requests=$(awk '/ requests in / { print $1 }' "$out")
  CLIENT_US[$k]=$(awk -v t="$wrk_cpu" -v n="${requests:-0}" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / n; else print "-" }')
  SERVER_US[$k]=$(awk -v a="$cpu0" -v b="$cpu1" -v n="${requests:-0}" 'BEGIN { if (n > 0) printf "%.1f", (b - a) * 1e6 / n; else print "-" }')
  [[ -n ${RPS[$k]} ]] || RPS[$k]=-
  [[ -n ${P99[$k]} ]] || P99[$k]=-
  errs=$(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | tr '\n' ';' || true)
  if [[ -n $errs ]]; then NOTE[$k]=$errs; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$test" "$c" "$r" "${RPS[$k]}" "${P99[$k]}" \
    "${CLIENT_US[$k]}" "${SERVER_US[$k]}" >> "$work/rounds.tsv"
  log "c=$c $test round $r/$rounds $server: ${RPS[$k]} req/s, p99 ${P99[$k]} ms, CPU per request: wrk ${CLIENT_US[$k]} us, server ${SERVER_US[$k]} us${errs:+ ($errs)}"
}

# median FORMAT VALUE...: the median of the values that are not "-" (the mean of the middle two
# when their number is even), printed with the printf FORMAT; "-" when there is none.
median() {
  local fmt=$1; shift
  printf '%s\n' "$@" | awk -v fmt="$fmt" '
    $1 != "-" && $1 != "" { v[++n] = $1 + 0 }
    END {
      if (!n) { print "-"; exit }
      for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
      printf fmt "\n", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

# span VALUE...: "MIN-MAX" of the values that are not "-", two decimals; "-" when there is none.
span() {
  printf '%s\n' "$@" | awk '
    $1 != "-" && $1 != "" { x = $1 + 0; if (!n++) lo = hi = x; if (x < lo) lo = x; if (x > hi) hi = x }
    END { if (n) printf "%.2f-%.2f\n", lo, hi; else print "-" }'
}

# ratio A B: A / B with six decimals, "-" unless both are figures and B > 0
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-" && b > 0) printf "%.6f", a / b; else print "-" }'; }

# ---------------------------------------------------------------------------------------------
# Outpost

log "importing $corpus ..."
"$outpost" import --data "$data" --json "$corpus" > "$work/import.json" 2> "$work/import.err" ||
  { tail -n 20 "$work/import.err" >&2; die "outpost import failed"; }
channel=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["channel"])' "$work/import.json")

# wrk's 256 connections all come from 127.0.0.1, where a classroom's come from 256 phones: the
# per-address cap (64 by default) is lifted, everything else stays at its default. The pinned
# server has one event loop, as it has one core.
printf 'max_connections_per_address = 4096\n' > "$work/server.toml"
printf 'max_connections_per_address = 4096\nio_threads = 1\n' > "$work/server-pinned.toml"

# start_outpost NAME CONFIG [taskset args]: `outpost serve` up as PID[NAME], its URL in BASE[NAME].
declare -A BASE=()
start_outpost() {
  local name=$1 config=$2; shift 2
  BASE[$name]=http://127.0.0.1:$(free_port)
  "$@" "$outpost" serve --data "$data" --listen "${BASE[$name]#http://}" --config "$config" \
    ${threads:+--threads "$threads"} > "$work/$name.log" 2>&1 &
  PID[$name]=$!
  wait_http "${BASE[$name]}/" 15 "${PID[$name]}" || { cat "$work/$name.log" >&2; die "$name: outpost serve did not start"; }
}

# The objects measured: TEST -> path under /c/CHANNEL/, expected status and bytes.
declare -A OBJECT=([pdf]=handbook.pdf [leaflet]=leaflet.pdf [html]=reading.html [range]=lecture.mp4)
declare -A OBJECT_STATUS=([pdf]=200 [leaflet]=200 [html]=200 [range]=206)
declare -A OBJECT_BYTES=([pdf]=$pdf_bytes [leaflet]=$leaflet_bytes [html]=$reading_bytes
                         [range]=$(( range_last - range_first + 1 )))
file_tests="pdf leaflet html range"

# check_objects NAME: every object answers as it should from server NAME; URL[NAME,TEST] set.
declare -A URL=()
check_objects() {
  local name=$1 test
  local -a range=()
  for test in $file_tests; do
    range=()
    if [[ $test = range ]]; then range=(-H "Range: bytes=$range_first-$range_last"); fi
    URL[$name,$test]=${BASE[$name]}/c/$channel/${OBJECT[$test]}
    check_get "$name $test" "${URL[$name,$test]}" "${OBJECT_STATUS[$test]}" "${OBJECT_BYTES[$test]}" "${range[@]}"
  done
}

start_outpost outpost "$work/server.toml"
outpost_base=${BASE[outpost]}
if [[ " $setups " = *" pinned "* ]]; then start_outpost outpost_pin "$work/server-pinned.toml" taskset -c 0; fi

if [[ -n ${OUTPOST_TOPIC_URL:-} ]]; then
  topic_url=$OUTPOST_TOPIC_URL
elif [[ $(status_of "$outpost_base/t/$channel/") = 200 ]]; then
  topic_url=/t/$channel/
else
  root_topic=$(curl -fsS "$outpost_base/api/v1/channels" | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    if c["id"] == sys.argv[1]:
        print(c["root_topic"])' "$channel")
  [[ -n $root_topic ]] || die "channel $channel not in /api/v1/channels"
  topic_url=/topic/$root_topic
fi
# The rendered topic page, saved for nginx and for the ZIM.
curl -fsS -o "$www/topic.html" "$outpost_base$topic_url" || die "outpost: $topic_url does not answer 200"
topic_bytes=$(stat -c %s "$www/topic.html")
video_url=/c/$channel/lecture.mp4
check_get "outpost topic page" "$outpost_base$topic_url" 200 "$topic_bytes"
URL[outpost,topic]=$outpost_base$topic_url
for s in outpost outpost_pin; do [[ -z ${BASE[$s]:-} ]] || check_objects "$s"; done

# ---------------------------------------------------------------------------------------------
# nginx: the corpus folder at the same URLs and the saved topic page at /topic.html, with nginx
# 1.22's defaults but for what the comparison needs: no access log (Outpost writes none),
# sendfile on (Outpost's way; nginx's default is off), worker_processes equal to Outpost's event
# loops (one per core; 1 in the pinned set-up), and private paths for its pid, logs and
# temporary files. keepalive_requests (1000), keepalive_timeout (75s), tcp_nopush (off),
# tcp_nodelay (on), sendfile_max_chunk (2m) and worker_connections (512) stay nginx's defaults.

# start_nginx NAME WORKERS [taskset args]: nginx up as PID[NAME] (its master), URL in BASE[NAME].
start_nginx() {
  local name=$1 workers=$2; shift 2
  local dir=$bench_dir/$name port
  rm -rf "$dir"; mkdir -p "$dir/logs" "$dir/tmp"
  port=$(free_port)
  BASE[$name]=http://127.0.0.1:$port
  cat > "$dir/nginx.conf" <<CONF
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  types { text/html html; text/css css; application/pdf pdf; video/mp4 mp4; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port;
    location /c/$channel/ { alias $corpus/; }
    location = /topic.html { root $www; }
  }
}
CONF
  nginx -t -c "$dir/nginx.conf" -p "$dir" > "$work/$name-t.log" 2>&1 || { cat "$work/$name-t.log" >&2; die "$name: config rejected"; }
  "$@" nginx -c "$dir/nginx.conf" -p "$dir" -g 'daemon off;' > "$work/$name.log" 2>&1 &
  PID[$name]=$!
  wait_http "${BASE[$name]}/topic.html" 15 "${PID[$name]}" || { cat "$work/$name.log" >&2; die "$name did not start"; }
}

start_nginx nginx "$loops"
if [[ " $setups " = *" pinned "* ]]; then start_nginx nginx_pin 1 taskset -c 0; fi
ngx_workers=$(pgrep -P "${PID[nginx]}" | wc -l)
nginx_base=${BASE[nginx]}
check_get "nginx topic page" "$nginx_base/topic.html" 200 "$topic_bytes"
URL[nginx,topic]=$nginx_base/topic.html
for s in nginx nginx_pin; do [[ -z ${BASE[$s]:-} ]] || check_objects "$s"; done

# ---------------------------------------------------------------------------------------------
# kiwix-serve: a ZIM of the 50 HTML pages, the style sheet and the saved topic page (its
# welcome page), served without kiwix's injected top bar so the bytes are the same.

kiwix_status=""
kiwix_url=""
kiwix_bytes=""
zim=$bench_dir/$channel_dir_name.zim
kiwix_prepare() {
  command -v zimwriterfs >/dev/null || { kiwix_status="zimwriterfs not found (zim-tools)"; return 1; }
  command -v kiwix-serve >/dev/null || { kiwix_status="kiwix-serve not found (kiwix-tools)"; return 1; }
  local zdir=$bench_dir/zimsrc
  rm -rf "$zdir" "$zim"; mkdir -p "$zdir"
  (cd "$corpus" && find . \( -name '*.html' -o -name '*.css' \) -exec cp --parents {} "$zdir" \;)
  cp "$www/topic.html" "$zdir/topic.html"
  python3 "$repo_root/bench/zim_illustration.py" "$zdir/illustration.png"
  if ! zimwriterfs --welcome=topic.html --illustration=illustration.png --language=eng \
       --title="Serve benchmark" --description="bench/serve.sh pages" --creator=Outpost \
       --publisher=Outpost --name="$channel_dir_name" --withoutFTIndex --threads=2 \
       "$zdir" "$zim" > "$work/zimwriterfs.log" 2>&1; then
    kiwix_status="zimwriterfs failed: $(tail -n 1 "$work/zimwriterfs.log")"
    return 1
  fi
}

kiwix_base=""
kiwix_start() {
  kiwix_base=http://127.0.0.1:$(free_port)
  kiwix-serve --port "${kiwix_base##*:}" --address 127.0.0.1 --nosearchbar "$zim" > "$work/kiwix.log" 2>&1 &
  PID[kiwix]=$!
  if ! wait_http "$kiwix_base/" 15 "${PID[kiwix]}"; then
    kiwix_status="kiwix-serve did not start: $(tail -n 1 "$work/kiwix.log")"
    return 1
  fi
  # kiwix-serve 3.3 has /content/BOOK/PATH; older ones /BOOK/A/PATH. The first that answers 200
  # (wrk follows no redirects) is used.
  local book u
  for book in "$channel_dir_name" "$(basename "$zim" .zim)"; do
    for u in "/content/$book/topic.html" "/content/$book/A/topic.html" "/$book/A/topic.html" "/$book/topic.html"; do
      if [[ $(status_of "$kiwix_base$u") = 200 ]]; then kiwix_url=$u; break 2; fi
    done
  done
  if [[ -z $kiwix_url ]]; then
    kiwix_status="topic.html not found in kiwix-serve's URLs (tried /content/NAME/[A/]topic.html, /NAME/[A/]topic.html)"
    return 1
  fi
  curl -fsS -o "$work/kiwix-topic.html" "$kiwix_base$kiwix_url"
  kiwix_bytes=$(stat -c %s "$work/kiwix-topic.html")
}

if kiwix_prepare && kiwix_start; then
  URL[kiwix,topic]=$kiwix_base$kiwix_url
else
  kiwix_url=""
  if [[ -n ${PID[kiwix]:-} ]]; then stop_server "${PID[kiwix]}"; unset 'PID[kiwix]'; fi
  log "kiwix: not measured ($kiwix_status)"
fi

# ---------------------------------------------------------------------------------------------
# Measurements: all the servers are up (and idle but for the one measured). For each connection
# count, set-up and test, ROUNDS rounds; within a round each server is measured once, outpost
# first in odd rounds and last in even rounds.

# PAIRS: "SETUP TEST OURS PEER", one line of the report each.
pairs=()
for setup in $setups; do
  if [[ $setup = float ]]; then
    pairs+=("float topic outpost nginx")
    if [[ -n $kiwix_url ]]; then pairs+=("float topic outpost kiwix"); fi
    for test in $file_tests; do pairs+=("float $test outpost nginx"); done
  else
    for test in $file_tests; do pairs+=("pinned $test outpost_pin nginx_pin"); done
  fi
done

declare -A HWM=()
for c in $conns_list; do
  for setup in $setups; do
    tests=$file_tests
    if [[ $setup = float ]]; then tests="topic $tests"; fi
    for test in $tests; do
      servers=()
      for pair in "${pairs[@]}"; do
        read -r ps pt ours peer <<< "$pair"
        [[ $ps = "$setup" && $pt = "$test" ]] || continue
        [[ " ${servers[*]} " = *" $ours "* ]] || servers+=("$ours")
        servers+=("$peer")
      done
      lua=""
      if [[ $test = range ]]; then lua=$work/range.lua; fi
      for (( r = 1; r <= rounds; r++ )); do
        order=()
        for s in "${servers[@]}"; do
          if (( r % 2 )); then order+=("$s"); else order=("$s" "${order[@]}"); fi
        done
        for s in "${order[@]}"; do
          measure "$s" "$test" "$c" "$r" "${URL[$s,$test]}" "$lua"
        done
      done
    done
  done
  # VmHWM is the peak since Outpost started: here, over every round at this and the earlier
  # connection counts.
  HWM[$c]=$(awk '/^VmHWM:/ { print $2 }' "/proc/${PID[outpost]}/status")
done
rss_end=$(awk '/^VmRSS:/ { print $2 }' "/proc/${PID[outpost]}/status")
os_threads=$(awk '/^Threads:/ { print $2 }' "/proc/${PID[outpost]}/status")
load_at_end=$(cut -d' ' -f1-3 /proc/loadavg)
cleanup

# ---------------------------------------------------------------------------------------------
# Report: MED_*[SERVER,TEST,CONNS] are medians over the rounds; RATIO / SPAN[TEST,OURS,PEER,CONNS]
# the median and the range of the per-round ratios ours / peer.

declare -A MED_RPS=() MED_P99=() MED_CLIENT=() MED_SERVER=() RATIO=() SPAN=()
for c in $conns_list; do
  for pair in "${pairs[@]}"; do
    read -r setup test ours peer <<< "$pair"
    for s in "$ours" "$peer"; do
      rps=() p99=() cl=() sv=()
      for (( r = 1; r <= rounds; r++ )); do
        rps+=("${RPS[$s,$test,$c,$r]:--}")
        p99+=("${P99[$s,$test,$c,$r]:--}")
        cl+=("${CLIENT_US[$s,$test,$c,$r]:--}")
        sv+=("${SERVER_US[$s,$test,$c,$r]:--}")
      done
      MED_RPS[$s,$test,$c]=$(median '%.0f' "${rps[@]}")
      MED_P99[$s,$test,$c]=$(median '%.2f' "${p99[@]}")
      MED_CLIENT[$s,$test,$c]=$(median '%.1f' "${cl[@]}")
      MED_SERVER[$s,$test,$c]=$(median '%.1f' "${sv[@]}")
    done
    ratios=()
    for (( r = 1; r <= rounds; r++ )); do
      ratios+=("$(ratio "${RPS[$ours,$test,$c,$r]:--}" "${RPS[$peer,$test,$c,$r]:--}")")
    done
    RATIO[$test,$ours,$peer,$c]=$(median '%.2f' "${ratios[@]}")
    SPAN[$test,$ours,$peer,$c]=$(span "${ratios[@]}")
  done
done

ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "-" && b != "-" && a + 0 >= b + 0) }'; }
le() { ge "$2" "$1"; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "-" && b != "-" && a + 0 < b + 0) }'; }
gt() { lt "$2" "$1"; }
times2() { awk -v a="$1" 'BEGIN { if (a == "-") print "-"; else printf "%.2f", 2 * a }'; }
verdict() { if "$@"; then echo PASS; else echo FAIL; fi; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'; }

echo "serve.sh $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores; wrk -t$wrk_threads (-t1 pinned), loopback; $rounds round$( (( rounds == 1 )) || echo s) per test, each server ${warmup} s warm-up + ${duration} s measured per round"
echo "set-ups: $setups (float: servers and wrk over all cores, outpost $loops event loops, nginx $ngx_workers workers; pinned: server on core 0 with 1 event loop / 1 worker, wrk on core 1)"
echo "method: all servers up throughout; within a round the servers run one after the other, outpost first in odd rounds and last in even rounds"
echo "figures: medians over the rounds (p99: median of the rounds' p99s); ratio: median of the per-round ratios outpost/peer; ratio range: smallest-largest per-round ratio; CPU us/req: wrk's and the server's CPU time over the measured seconds / requests"
echo "load average before the run: $load_at_start, after: $load_at_end (anything else running skews every figure)"
echo "outpost: $outpost serve${threads:+ --threads $threads} (files by sendfile), default keep-alive (1000 requests, 5 s), max_connections_per_address 4096"
echo "nginx:   $(nginx -v 2>&1 | sed 's/^nginx version: //'); configuration (float; pinned the same with worker_processes 1):"
sed 's/^/    /' "$bench_dir/nginx/nginx.conf"
if [[ -n $kiwix_url ]]; then
  echo "kiwix:   kiwix-serve $(kiwix-serve --version 2>&1 | awk '/kiwix-tools/ { print $2; exit }') (default 4 threads, --nosearchbar), ZIM of $html_pages pages + the topic page, URL $kiwix_url ($kiwix_bytes bytes: kiwix adds $(( kiwix_bytes - topic_bytes )) bytes to the page)"
else
  echo "kiwix:   not measured ($kiwix_status)"
fi
echo "topic: outpost $topic_url ($topic_bytes bytes), rendered; nginx and kiwix serve a saved copy of it (static file / ZIM entry)"
echo "pdf: handbook.pdf ($pdf_bytes bytes); leaflet: leaflet.pdf ($leaflet_bytes bytes); html: reading.html ($reading_bytes bytes, a content file); range: $video_url ($video_bytes bytes), Range: bytes=$range_first-$range_last (206, $(( range_last - range_first + 1 )) bytes)"
echo

row() { printf '%-20s %5s %11s %11s %6s %11s %11s %11s %7s %15s %15s\n' "$@"; }
row test conns "outpost r/s" "peer r/s" ratio "ratio range" "outpost p99" "peer p99" "p99 x" "wrk us/req" "server us/req"
for c in $conns_list; do
  for pair in "${pairs[@]}"; do
    read -r setup test ours peer <<< "$pair"
    row "$setup/$test/${peer%_pin}" "$c" "${MED_RPS[$ours,$test,$c]}" "${MED_RPS[$peer,$test,$c]}" \
      "${RATIO[$test,$ours,$peer,$c]}" "${SPAN[$test,$ours,$peer,$c]}" "${MED_P99[$ours,$test,$c]}ms" \
      "${MED_P99[$peer,$test,$c]}ms" "$(ratio "${MED_P99[$ours,$test,$c]}" "${MED_P99[$peer,$test,$c]}" | awk '{ if ($1 == "-") print; else printf "%.2f", $1 }')" \
      "${MED_CLIENT[$ours,$test,$c]}|${MED_CLIENT[$peer,$test,$c]}" "${MED_SERVER[$ours,$test,$c]}|${MED_SERVER[$peer,$test,$c]}"
  done
done
echo "(wrk us/req and server us/req: outpost|peer)"
if [[ -z $kiwix_url ]]; then echo "topic/kiwix: not measured ($kiwix_status)"; fi
if (( ${#NOTE[@]} )); then
  while IFS=, read -r s test c r; do
    echo "wrk: $s $test c=$c round $r:${NOTE[$s,$test,$c,$r]}"
  done < <(printf '%s\n' "${!NOTE[@]}" | sort -t, -k3,3n -k2,2 -k4,4n -k1,1)
fi
echo "listen queue overflows during each server's measurements (dropped connection attempts, retried after 1 s):$(
  for k in outpost nginx kiwix outpost_pin nginx_pin; do [[ -n ${OVERFLOWS[$k]:-} ]] && printf ' %s %s' "$k" "${OVERFLOWS[$k]}"; done)"
echo "per-round figures: $work/rounds.tsv"
echo

echo "budgets (on the median ratios and median p99):"
for pair in "${pairs[@]}"; do
  read -r setup test ours peer <<< "$pair"
  [[ $test != topic ]] || continue
  for c in $conns_list; do
    r=${RATIO[$test,$ours,$peer,$c]}
    echo "  $setup $test req/s >= 0.90 x nginx at $c connections: $r (per round ${SPAN[$test,$ours,$peer,$c]})  $(verdict ge "$r" 0.90)"
    p=${MED_P99[$ours,$test,$c]} q=$(times2 "${MED_P99[$peer,$test,$c]}")
    echo "  $setup $test p99 <= 2 x nginx's at $c connections: $p ms vs $q ms  $(verdict le "$p" "$q")"
  done
done
if [[ " $setups " = *" float "* ]]; then
  first_c=${conns_list%% *}
  echo "  topic page p99 < 10 ms at $first_c connections: ${MED_P99[outpost,topic,$first_c]} ms  $(verdict lt "${MED_P99[outpost,topic,$first_c]}" 10)"
  for c in $conns_list; do
    if [[ -n $kiwix_url ]]; then
      r=${RATIO[topic,outpost,kiwix,$c]}
      echo "  topic page req/s > kiwix-serve at $c connections: $r x (per round ${SPAN[topic,outpost,kiwix,$c]}; medians ${MED_RPS[outpost,topic,$c]} vs ${MED_RPS[kiwix,topic,$c]})  $(verdict gt "$r" 1)"
    else
      echo "  topic page req/s > kiwix-serve at $c connections: not measured ($kiwix_status)"
    fi
  done
fi
last_c=${conns_list##* }
echo "  outpost peak RSS < 64 MB (VmHWM over the whole run, up to $last_c connections): $(mb "${HWM[$last_c]}") MB  $(verdict lt "$(mb "${HWM[$last_c]}")" 64)"
echo
echo "outpost memory (/proc/PID/status; MB = 10^6 bytes; VmHWM is the peak since outpost started, and it stays up for the whole run):"
for c in $conns_list; do
  if [[ $c = "$last_c" ]]; then scope="all rounds; the peak over everything"; else scope="all rounds"; fi
  echo "  VmHWM after the $c-connection tests ($scope): $(mb "${HWM[$c]}") MB (${HWM[$c]} kB)"
done
echo "  VmRSS at the end: $(mb "$rss_end") MB; OS threads: $os_threads"
