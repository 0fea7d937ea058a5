#!/usr/bin/env bash
# sd_writes.sh: what a running box writes to its SD card (issue #17, item 4). Budgets: under
# 1 MB per idle hour, under 100 KB per 1,000 page views.
#
# Imports a library of PAGES pages (make_corpus.py --pages; default 10,000 files) into a fresh
# data folder, starts `outpost serve` on it and reads the server's /proc/PID/io:
#
#   write_bytes  bytes this process caused to be sent to the block layer (pages it dirtied,
#                4 KiB each, counted when dirtied; the figure an SD card wears by, less the file
#                system's own journal, which no process is charged for)
#   cancelled_write_bytes  dirtied pages truncated before they were written (subtracted)
#   wchar, syscw bytes and calls of write(2) and friends, whatever they reach (page cache too)
#
# and prints, against the budgets:
#   1. start-up: from exec to the first answered page (the catalog's quick_check runs there,
#      on a connection of its own, as it does every hour after);
#   2. idle: IDLE seconds (default 150; the link scheduler reads sync.db every 60 s) with no
#      request, scaled to an hour, plus one hourly quick_check (counted as the whole start-up's
#      writes, an upper bound); the view counter's hourly flush writes nothing with no views;
#   3. VIEWS page views (default 2,000: 10 % home, 30 % topic pages, 50 % resource pages,
#      10 % searches, over keep-alive connections; a resource page view also fetches its
#      file, /c/..., as a browser does), then a wait of FLUSH_WAIT seconds (default 15) for
#      the view counter's flush to usage.db, which its 1,000th counted view (a resource page)
#      starts: 2,000 page views of this mix make one flush. The idle rate over the same time is
#      subtracted, and the figure is given per 1,000 page views.
#   The log: the bytes the server wrote to stderr (the journal's, not the card's directly).
#
# Usage: bench/sd_writes.sh
#
# Environment:
#   OUTPOST_BUILD  build directory (default build/release under the repository root)
#   OUTPOST_BIN    the outpost CLI (default $OUTPOST_BUILD/cli/outpost)
#   BENCH_DIR      working directory, on the file system to measure (default
#                  /tmp/outpost-bench/sd). It must be a block device's (ext4 on a disk or a loop
#                  image): on tmpfs or overlayfs write_bytes stays 0, and the script says so and
#                  stops.
#   PAGES          files in the library (default 10000); IDLE, VIEWS, FLUSH_WAIT as above
#   WITH_CONTENT   1 (default): each resource page view also fetches the page's file (/c/...)
#                  with a browser's Accept-Encoding, as the browser does; 0: the page alone
#
# Exit code 0 when everything ran, whatever the figures.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-build/release}
[[ $build = /* ]] || build=$repo_root/$build
outpost=${OUTPOST_BIN:-$build/cli/outpost}
bench_dir=${BENCH_DIR:-/tmp/outpost-bench/sd}
pages=${PAGES:-10000}
idle=${IDLE:-150}
views=${VIEWS:-2000}
flush_wait=${FLUSH_WAIT:-15}
with_content=${WITH_CONTENT:-1}

die() { echo "sd_writes.sh: $*" >&2; exit 1; }
for tool in curl python3; do command -v "$tool" >/dev/null || die "$tool not found"; done
[[ -x $outpost ]] || die "no outpost CLI at $outpost; build it or set OUTPOST_BUILD / OUTPOST_BIN"

mkdir -p "$bench_dir"
# write_bytes must count here: a probe that writes 1 MiB and fsyncs it reads its own counter.
probe=$(python3 - "$bench_dir" <<'EOF'
import os, sys
p = os.path.join(sys.argv[1], "probe")
with open(p, "wb") as f:
    f.write(b"\0" * (1 << 20)); f.flush(); os.fsync(f.fileno())
os.unlink(p)
print(dict(l.split(": ") for l in open("/proc/self/io").read().split("\n") if l)["write_bytes"])
EOF
)
if (( probe < 1048576 )); then
  die "write_bytes does not count writes in $bench_dir (file system: $(stat -f -c %T "$bench_dir"));" \
      "put BENCH_DIR on ext4 on a block device (e.g. a loop image: truncate -s 2G img; mkfs.ext4 img;" \
      "mount -o loop img DIR, as root)"
fi

corpus=$bench_dir/pages-$pages
if [[ ! -f $corpus/.complete ]]; then
  rm -rf "$corpus"
  python3 "$repo_root/bench/make_corpus.py" --pages "$corpus" --files "$pages" >/dev/null
  touch "$corpus/.complete"
fi
data=$bench_dir/data
rm -rf "$data"
echo "sd_writes.sh: importing $pages files ($(du -sm "$corpus" | cut -f1) MB) into $data ($(stat -f -c %T "$bench_dir"))"
"$outpost" import --data "$data" "$corpus" >/dev/null
channel=$("$outpost" channels --data "$data" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$bench_dir/serve.log
base=http://127.0.0.1:$port
start_server() {
  "$outpost" serve --data "$data" --listen "127.0.0.1:$port" 2>>"$log" >&2 &
  pid=$!
  for _ in $(seq 300); do curl -fs -o /dev/null "$base/" && break; sleep 0.1; done
  curl -fs -o /dev/null "$base/" || die "the server did not answer: $(cat "$log")"
}
# The first start makes accounts.db, usage.db and sync.db (their migrations); the box boots
# many times after that, and it is a later boot that is measured.
: >"$log"
start_server
first_start=$(awk '$1 == "write_bytes:" {print $2}' "/proc/$pid/io")
kill "$pid"; wait "$pid" 2>/dev/null || true
start_server

io() {  # io FIELD: a field of the server's /proc/PID/io
  awk -v f="$1:" '$1 == f {print $2}' "/proc/$pid/io"
}
written() { echo $(( $(io write_bytes) - $(io cancelled_write_bytes) )); }
log_bytes() { stat -c %s "$log"; }
snapshot() { echo "$(written) $(io wchar) $(io syscw) $(log_bytes) $(date +%s.%N)"; }

read -r w0 c0 s0 l0 t0 < <(snapshot)
printf '%-34s %12s %12s %10s %10s\n' "" write_bytes wchar syscw "log bytes"
printf '%-34s %12d\n' "first start (databases made)" "$first_start"
printf '%-34s %12d %12d %10d %10d\n' "start-up (exec to first page)" "$w0" "$c0" "$s0" "$l0"

sleep "$idle"
read -r w1 c1 s1 l1 t1 < <(snapshot)
span=$(python3 -c "print($t1 - $t0)")
printf '%-34s %12d %12d %10d %10d\n' "idle ${idle} s" $((w1 - w0)) $((c1 - c0)) $((s1 - s0)) $((l1 - l0))

python3 - "$base" "$channel" "$corpus" "$views" "$with_content" <<'EOF'
import http.client, os, random, sys, urllib.parse
base, channel, corpus, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with_content = sys.argv[5] == "1"
host = urllib.parse.urlparse(base).netloc
pages, topics = [], set()
for d, _, files in os.walk(corpus):
    for f in files:
        if f.endswith(".html"):
            rel = os.path.relpath(os.path.join(d, f), corpus)
            pages.append(rel)
            topics.add(os.path.dirname(rel))
pages.sort(); topics = sorted(topics)
words = ["water", "eau", "soleil", "rain", "plant", "الماء", "history", "nombre"]
rng = random.Random(17)
q = urllib.parse.quote
conns = [http.client.HTTPConnection(host) for _ in range(4)]
bad = 0
for i in range(n):
    r = i % 10
    if r == 0: path = "/"
    elif r <= 3: path = "/t/%s/%s" % (channel, q(rng.choice(topics)))
    elif r <= 8: path = "/r/%s/%s" % (channel, q(rng.choice(pages)))
    else: path = "/search?q=" + q(rng.choice(words))
    c = conns[i % len(conns)]
    fetch = [path]
    if path.startswith("/r/") and with_content:  # the browser then loads the page's file itself
        fetch.append("/c/" + path[3:])
    for p in fetch:
        c.request("GET", p, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
        resp = c.getresponse(); resp.read()
        bad += resp.status != 200
if bad: print("sd_writes.sh: %d of %d views were not answered 200" % (bad, n), file=sys.stderr)
EOF
read -r w2 c2 s2 l2 t2 < <(snapshot)
sleep "$flush_wait"
read -r w3 c3 s3 l3 t3 < <(snapshot)
printf '%-34s %12d %12d %10d %10d\n' "$views views" $((w2 - w1)) $((c2 - c1)) $((s2 - s1)) $((l2 - l1))
printf '%-34s %12d %12d %10d %10d\n' "then ${flush_wait} s (the flush)" $((w3 - w2)) $((c3 - c2)) $((s3 - s2)) $((l3 - l2))
rows=$(python3 - "$data/usage.db" <<'EOF'
import sqlite3, sys
try:
    print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*), coalesce(sum(views), 0) FROM usage").fetchone())
except Exception as e:
    print("unreadable: %s" % e)
EOF
)
echo "usage.db after the flush: (rows, views) = $rows"

python3 - "$w0" "$((w1 - w0))" "$span" "$((w3 - w1))" "$(python3 -c "print($t3 - $t1)")" "$views" \
  "$((l1 - l0))" "$((l3 - l1))" <<'EOF'
import sys
startup, idle_w, idle_s, views_w, views_s, n, idle_log, views_log = sys.argv[1:]
startup, idle_w, views_w, n = int(startup), int(idle_w), int(views_w), int(n)
idle_s, views_s = float(idle_s), float(views_s)
rate = idle_w / idle_s
per_hour = rate * 3600 + startup  # plus one hourly quick_check, at most a start-up's writes
per_1000 = max(0.0, views_w - rate * views_s) * 1000 / n
ok = lambda b: "PASS" if b else "FAIL"
print("idle: %.0f bytes/s over %.0f s -> %.0f bytes/hour, + one quick_check (<= start-up, %d) = %.0f bytes/hour"
      % (rate, idle_s, rate * 3600, startup, per_hour))
print("budget: idle < 1,000,000 bytes/hour: %.0f  %s" % (per_hour, ok(per_hour < 1e6)))
print("views: %d bytes over %.0f s, less idle -> %.0f bytes per 1,000 views" % (views_w, views_s, per_1000))
print("budget: < 100,000 bytes per 1,000 views: %.0f  %s" % (per_1000, ok(per_1000 < 1e5)))
print("log (stderr, to the journal): idle %s bytes, views %s bytes" % (idle_log, views_log))
EOF
