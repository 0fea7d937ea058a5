#!/usr/bin/env bash
# sync.sh: bytes on the wire of Outpost's hub-to-site sync against `rsync -az` (daemon protocol
# on loopback) and against the floor `zstd -19 --long --patch-from` of a tar of the new tree
# against a tar of the old one, for the initial copy of a ~300 MB channel, a realistic update of
# it, and an update made only of renamed and moved files; then the round trips and wall time of
# the update and of a no-op sync through the link simulator (600 ms round trip, 1 Mbit/s), and
# the throughput of the initial sync on loopback. Prints a table with ratios and the budgets with
# PASS/FAIL. Builds nothing: it uses the outpost CLI and outpost-linksim of an existing build.
#
# Usage: bench/sync.sh [--baselines-only]
#   --baselines-only   make the corpus and measure rsync and the zstd floor only (no outpost
#                      binary needed)
#
# Needs (benchmark only, not project dependencies): python3, ffmpeg (libx264), rsync, zstd, GNU
# tar; `apt-get install ffmpeg rsync zstd`.
#
# Environment:
#   OUTPOST_BUILD    build directory (default: build/release under the repository root; a
#                    relative path is taken from the repository root)
#   OUTPOST_BIN      the outpost CLI (default: $OUTPOST_BUILD/cli/outpost)
#   OUTPOST_LINKSIM  the link simulator (default: $OUTPOST_BUILD/tests/linksim/outpost-linksim)
#   BENCH_DIR        working directory: the corpus (cached, ~1 GB for its three trees), the zstd
#                    floors (cached beside it), data directories and logs of the run
#                    (default: /tmp/outpost-bench/sync)
#   CORPUS_SEED      corpus seed (default 1)
#   CORPUS_SCALE     shrink the corpus, 0 < scale <= 1 (default 1: ~300 MB); for trying the
#                    script, not for figures
#   LINK_LATENCY_MS  one-way delay of the simulated link (default 300: a 600 ms round trip)
#   LINK_RATE_KBPS   its bandwidth per direction in kbit/s (default 1000)
#   LINK_UPDATE=0    skip the update through the link simulator (its bytes are then only
#                    measured on loopback; at 1 Mbit/s each MB takes 8 s)
#   SYNC_TIMEOUT     seconds after which a sync is stopped and reported as failed (default 600)
#   KEEP_DATA=1      keep the data directories and rsync copies afterwards (paths printed)
#
# What runs, in order (Outpost's hub and site are separate processes on loopback):
#   1. the corpus (bench/make_sync_corpus.py, cached in $BENCH_DIR): old, moves (old with 5 files
#      renamed and 5 moved) and new (moves plus the rest of the update) trees; the page cache is
#      warmed with all three;
#   2. zstd floor: tars of the trees (--sort=name, fixed mtime and owner), `zstd -19 --long=31
#      --patch-from=old.tar new.tar` (and moves.tar), and the same at -3; the floor is the smaller
#      patch (on this corpus -3 wins: zstd's optimal parser, levels 16 and up, finds fewer of the
#      old tar's long matches; --single-thread, which zstd 1.5.4 suggests, makes it ~10x worse);
#      each patch is decompressed and compared to be sure; the sizes are cached;
#   3. rsync: a daemon on 127.0.0.1 (private rsyncd.conf, one module per tree); `rsync -az
#      --delete --stats rsync://127.0.0.1:PORT/MODULE/ DEST/` into an empty folder (initial), then
#      from moves and from new into copies of that folder (each a copy of old); wire bytes =
#      "Total bytes sent" + "Total bytes received"; each copy is compared with its tree (diff -r);
#   4. Outpost: `hub init`, `publish` old, `hub enrol`, `hub serve`, `join` a site A; A syncs the
#      initial version on loopback (bytes, seconds, MB/s); copies of A's data directory (B, and C
#      for the link) stay at the old version; the hub publishes moves and A syncs it (moves-only
#      row); the hub publishes new and B syncs old -> new on loopback (update row); through the
#      link simulator, C syncs old -> new (bytes, round trips, seconds) and then B makes a no-op
#      sync (round trips, seconds). After each sync the site's served version, tree hash and
#      manifest hash must equal the hub's. Wire bytes = the sync's bytes_sent + bytes_received
#      (its JSON); through the link simulator, what the simulator itself carried is shown beside.
#
# Exit code 0 when everything ran, whatever the figures; 1 when a step could not run.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-build/release}
[[ $build = /* ]] || build=$repo_root/$build
outpost=${OUTPOST_BIN:-$build/cli/outpost}
linksim=${OUTPOST_LINKSIM:-$build/tests/linksim/outpost-linksim}
bench_dir=${BENCH_DIR:-/tmp/outpost-bench/sync}
seed=${CORPUS_SEED:-1}
scale=${CORPUS_SCALE:-1}
latency_ms=${LINK_LATENCY_MS:-300}
rate_kbps=${LINK_RATE_KBPS:-1000}
link_update=${LINK_UPDATE:-1}
sync_timeout=${SYNC_TIMEOUT:-600}
keep_data=${KEEP_DATA:-0}
make_corpus=$repo_root/bench/make_sync_corpus.py
channel=bench-sync

baselines_only=0
case "${1:-}" in
  "") ;;
  --baselines-only) baselines_only=1 ;;
  *) echo "usage: $0 [--baselines-only]" >&2; exit 2 ;;
esac

die() { echo "sync.sh: $*" >&2; exit 1; }
log() { echo "sync.sh: $*" >&2; }

for tool in python3 rsync zstd tar diff cmp; do
  command -v "$tool" >/dev/null ||
    die "$tool not found (the benchmark needs python3 ffmpeg rsync zstd tar; apt-get install ffmpeg rsync zstd)"
done
tar --version 2>/dev/null | grep -q 'GNU tar' || die "tar is not GNU tar (needs --sort=name)"
for v in seed latency_ms rate_kbps sync_timeout; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
(( sync_timeout > 0 )) || die "SYNC_TIMEOUT must be positive"
if ! [[ $scale =~ ^(1|1\.0*|0?\.[0-9]+)$ ]] || ! awk -v s="$scale" 'BEGIN { exit !(s > 0 && s <= 1) }'; then
  die "CORPUS_SCALE must be a number in (0, 1] (got '$scale')"
fi

if (( ! baselines_only )); then
  [[ -x $outpost ]] || die "no outpost CLI at $outpost; build it with:
  cmake -S $repo_root -B $repo_root/build/release -G Ninja -DCMAKE_BUILD_TYPE=Release
  ninja -C $repo_root/build/release outpost outpost-linksim
or set OUTPOST_BUILD / OUTPOST_BIN, or run with --baselines-only"
  [[ -x $linksim ]] || die "no link simulator at $linksim (ninja -C $build outpost-linksim, or set OUTPOST_LINKSIM)"
  # The sync commands, as this script drives them: all must be there.
  help=$("$outpost" --help 2>&1 || true)
  hub_help=$("$outpost" hub --help 2>&1 || true)
  missing=""
  for c in publish join sync; do
    grep -Eq "^ +$c( |$)" <<< "$help" || missing+=" '$c'"
  done
  for c in init enrol serve; do
    grep -Eq "^ +$c( |$)" <<< "$hub_help" || missing+=" 'hub $c'"
  done
  [[ -z $missing ]] || die "$outpost has no$missing command(s) (it needs publish, hub init/enrol/serve, join
and sync); rebuild it (ninja -C $build outpost), or run with --baselines-only"
fi

# Other work on the machine slows every step (the throughput most): the load average before
# anything starts and at the end is printed with the results.
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$bench_dir"
bench_dir=$(cd "$bench_dir" && pwd)
if [[ $scale = 1 || $scale =~ ^1\.0*$ ]]; then tag=s$seed; else tag=s$seed-x$scale; fi
# g2: the generator's output format; bump it when make_sync_corpus.py changes what it writes.
corpus_root=$bench_dir/corpus-g2-$tag
old=$corpus_root/old/$channel
moves=$corpus_root/moves/$channel
new=$corpus_root/new/$channel
work=$bench_dir/run

need_space() {  # need_space BYTES: fail early rather than filling the disk
  local avail_kb
  avail_kb=$(df -Pk "$bench_dir" | awk 'NR == 2 { print $4 }')
  (( avail_kb * 1024 > $1 )) || die "not enough free space in $bench_dir (need about $(( $1 / 1000000 )) MB)"
}

# ---------------------------------------------------------------------------------------------
# The corpus (made once): ROOT appears only once the generator succeeded.
if [[ ! -f $corpus_root/summary.txt ]]; then
  command -v ffmpeg >/dev/null || die "ffmpeg not found: the corpus needs it (apt-get install ffmpeg)"
  need_space $(( 1200000000 ))
  log "generating the corpus in $corpus_root (about a minute; cached for later runs) ..."
  rm -rf "$corpus_root" "$corpus_root.tmp"
  python3 "$make_corpus" --out "$corpus_root.tmp" --seed "$seed" --scale "$scale" >&2 ||
    die "make_sync_corpus.py failed"
  mv "$corpus_root.tmp" "$corpus_root"
fi
[[ -d $old && -d $moves && -d $new ]] || die "$corpus_root is incomplete; delete it to make it again"
chmod -R a+rX "$corpus_root"

rm -rf "$work"
mkdir -p "$work/logs"
need_space $(( 3500000000 ))

# tree_stats DIR: "FILES BYTES" of the regular files under DIR, names starting with '.' left out.
tree_stats() {
  find "$1" -name '.*' -prune -o -type f -printf '%s\n' | awk '{ n++; s += $1 } END { printf "%d %d\n", n, s }'
}
warm() { find "$@" -type f -print0 | xargs -0 cat > /dev/null; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
mb() { awk -v n="$1" 'BEGIN { if (n == "" || n == "-") print "-"; else printf "%.2f", n / 1e6 }'; }
ratio() {  # ratio A B: A / B, "-" when either is missing; small ratios with more decimals
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"
    else if (a / b < 0.01) printf "%.5f", a / b
    else printf "%.3f", a / b }'
}
json_get() {  # json_get FILE KEY: a top-level key of the JSON object in FILE (or on its last line), or ""
  python3 - "$1" "$2" <<'PY'
import json, sys
value = ""
try:
    with open(sys.argv[1]) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    try:
        doc = json.loads("\n".join(lines))
    except ValueError:
        doc = json.loads(lines[-1])
    value = doc.get(sys.argv[2], "")
except (OSError, ValueError, AttributeError, IndexError):
    pass
print(json.dumps(value) if isinstance(value, (dict, list, bool)) or value is None else value)
PY
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_port PORT SECONDS PID: until something accepts on 127.0.0.1:PORT
wait_port() {
  local port=$1 secs=$2 pid=$3 i
  for (( i = 0; i < secs * 10; i++ )); do
    kill -0 "$pid" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

declare -A PID=()
stop() {  # stop NAME: TERM the background process NAME and wait for it
  local pid=${PID[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PID[$1]"
}
cleanup() {
  local name
  for name in "${!PID[@]}"; do stop "$name"; done
  if [[ $keep_data = 1 ]]; then
    log "data kept in $work"
  else
    rm -rf "$work/data" "$work/rsync" "$work/tar"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

read -r old_files old_bytes < <(tree_stats "$old")
read -r _ moves_bytes < <(tree_stats "$moves")
read -r _ new_bytes < <(tree_stats "$new")
log "warming the page cache ($(mb $(( old_bytes + moves_bytes + new_bytes ))) MB) ..."
warm "$old" "$moves" "$new"

# ---------------------------------------------------------------------------------------------
# zstd floor: a tar of the new tree against a tar of the old one, at level 19 (the reference)
# and at level 3, cached beside the corpus (they depend only on the corpus and on zstd).
# ZSTD[STEP,LEVEL] and ZSTD_S[STEP,LEVEL]: patch bytes and seconds; FLOOR[STEP]: the smaller.
declare -A ZSTD=() ZSTD_S=() FLOOR=()
zstd_levels="19 3"
zstd_version=$(zstd -V | sed -n 's/.*\(v[0-9][0-9.]*\).*/\1/p' | head -n 1)
make_tar() {  # make_tar TREE_PARENT OUT
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
      -C "$1" -cf "$2" "$channel"
}
for step in moves update; do
  if [[ $step = moves ]]; then src=moves; else src=new; fi
  for level in $zstd_levels; do
    cache=$corpus_root/zstd-floor-$step-$zstd_version-l$level.txt
    if [[ ! -s $cache ]]; then
      mkdir -p "$work/tar"
      [[ -f $work/tar/old.tar ]] || make_tar "$corpus_root/old" "$work/tar/old.tar"
      [[ -f $work/tar/$src.tar ]] || make_tar "$corpus_root/$src" "$work/tar/$src.tar"
      log "zstd -$level --long=31 --patch-from=old.tar $src.tar (cached afterwards; level 19 takes minutes) ..."
      t0=$(now)
      zstd -q -f -"$level" --long=31 --patch-from="$work/tar/old.tar" "$work/tar/$src.tar" \
        -o "$work/tar/$src.patch.zst" 2> "$work/logs/zstd-$step-$level.err" ||
        die "zstd failed; see $work/logs/zstd-$step-$level.err"
      t=$(elapsed "$t0" "$(now)")
      zstd -q -d -f --long=31 --patch-from="$work/tar/old.tar" "$work/tar/$src.patch.zst" \
        -o "$work/tar/$src.check.tar" 2>> "$work/logs/zstd-$step-$level.err" ||
        die "zstd -d failed; see $work/logs/zstd-$step-$level.err"
      cmp -s "$work/tar/$src.tar" "$work/tar/$src.check.tar" ||
        die "the zstd patch of $src.tar does not decompress to it"
      echo "$(stat -c %s "$work/tar/$src.patch.zst") $t" > "$cache"
      rm -f "$work/tar/$src.check.tar" "$work/tar/$src.patch.zst"
    fi
    read -r bytes secs < "$cache"
    ZSTD[$step,$level]=$bytes
    ZSTD_S[$step,$level]=$secs
    if [[ -z ${FLOOR[$step]:-} ]] || (( bytes < FLOOR[$step] )); then FLOOR[$step]=$bytes; fi
  done
  rm -f "$work/tar/$src.tar"
done
rm -rf "$work/tar"

# ---------------------------------------------------------------------------------------------
# rsync: a daemon on loopback serving the three trees. RSYNC[step] wire bytes, RSYNC_S[step].
declare -A RSYNC=() RSYNC_S=() RSYNC_FILES=()
rsync_port=$(free_port)
mkdir -p "$work/rsync"
{
  echo "pid file = $work/rsync/rsyncd.pid"
  echo "lock file = $work/rsync/rsyncd.lock"
  echo "log file = $work/logs/rsyncd.log"
  echo "use chroot = no"
  echo "read only = yes"
  echo "numeric ids = yes"
  if (( $(id -u) == 0 )); then echo "uid = 0"; echo "gid = 0"; fi
  for m in old moves new; do printf '[%s]\n  path = %s\n' "$m" "$corpus_root/$m/$channel"; done
} > "$work/rsync/rsyncd.conf"
rsync --daemon --no-detach --config="$work/rsync/rsyncd.conf" --address=127.0.0.1 --port="$rsync_port" \
  2> "$work/logs/rsyncd.err" &
PID[rsyncd]=$!
wait_port "$rsync_port" 10 "${PID[rsyncd]}" || die "the rsync daemon did not start; see $work/logs/rsyncd.err and rsyncd.log"

# run_rsync STEP MODULE DEST: rsync -az from the daemon into DEST; wire bytes from --stats.
run_rsync() {
  local step=$1 module=$2 dest=$3 out=$work/logs/rsync-$1.txt t0 rc=0 sent recv
  t0=$(now)
  rsync -az --delete --stats "rsync://127.0.0.1:$rsync_port/$module/" "$dest/" > "$out" 2>&1 || rc=$?
  RSYNC_S[$step]=$(elapsed "$t0" "$(now)")
  (( rc == 0 )) || { tail -n 20 "$out" >&2; die "rsync ($step) failed with exit code $rc"; }
  sent=$(awk -F': ' '/^Total bytes sent:/ { gsub(",", "", $2); print $2 }' "$out")
  recv=$(awk -F': ' '/^Total bytes received:/ { gsub(",", "", $2); print $2 }' "$out")
  [[ -n $sent && -n $recv ]] || die "no 'Total bytes sent/received' in rsync --stats ($out)"
  RSYNC[$step]=$(( sent + recv ))
  RSYNC_FILES[$step]=$(awk -F': ' '/^Number of regular files transferred:/ { gsub(",", "", $2); print $2 }' "$out")
  diff -r -q "$corpus_root/$module/$channel" "$dest" > "$work/logs/rsync-$step.diff" 2>&1 ||
    die "after rsync ($step), $dest differs from the $module tree; see $work/logs/rsync-$step.diff"
  log "rsync $step: $(mb "${RSYNC[$step]}") MB on the wire (sent $sent, received $recv), ${RSYNC_S[$step]} s"
}

log "rsync -az (daemon on 127.0.0.1:$rsync_port) ..."
mkdir -p "$work/rsync/a"
run_rsync initial old "$work/rsync/a"
cp -a "$work/rsync/a" "$work/rsync/b"
run_rsync moves moves "$work/rsync/a"
run_rsync update new "$work/rsync/b"
stop rsyncd
rm -rf "$work/rsync/a" "$work/rsync/b"

# ---------------------------------------------------------------------------------------------
# Outpost.
declare -A OP=() OP_S=() OP_WALL=() OP_RT=() OP_NOTE=() OP_LINK=()
if (( ! baselines_only )); then
  data=$work/data
  hub=$data/hub
  mkdir -p "$data"

  # op NAME ARGS...: runs outpost with ARGS, stdout to logs/NAME.json, stderr to logs/NAME.err;
  # dies (with the end of its stderr) if it fails.
  op() {
    local name=$1 rc=0; shift
    "$outpost" "$@" > "$work/logs/$name.json" 2> "$work/logs/$name.err" || rc=$?
    if (( rc != 0 )); then
      echo "sync.sh: outpost $* failed with exit code $rc; its stderr ends with:" >&2
      tail -n 20 "$work/logs/$name.err" >&2
      exit 1
    fi
  }

  # publish NAME TREE: publishes TREE as the channel's next version; PUBLISHED=its version.
  publish() {
    local t0 v
    t0=$(now)
    op "publish-$1" publish --data "$hub" --json "$2"
    v=$(json_get "$work/logs/publish-$1.json" version)
    [[ $(json_get "$work/logs/publish-$1.json" new_version) != false ]] ||
      die "publishing the $1 tree made no new version: $(tr -d '\n' < "$work/logs/publish-$1.json")"
    [[ -n $v ]] || die "no version in the JSON of publish ($1): $(tr -d '\n' < "$work/logs/publish-$1.json")"
    PUBLISHED=$v
    log "published $1 as version $v in $(elapsed "$t0" "$(now)") s"
  }

  # channel_state DATA: "VERSION TREE MANIFEST" of the bench-sync channel served by DATA
  channel_state() {
    local out
    out=$("$outpost" channels --data "$1" --json 2>&1) || { echo "(outpost channels failed: $out)"; return 0; }
    python3 -c '
import json, sys
try:
    channels = json.loads(sys.argv[2])
except ValueError:
    channels = []
for c in channels:
    if c.get("id") == sys.argv[1]:
        print(c.get("version"), c.get("tree"), c.get("manifest"))
        break
else:
    print("none none none")' "$channel" "$out"
  }

  # run_sync STEP SITE [--hub ADDR]: a sync of SITE; OP[STEP] wire bytes, OP_S[STEP] the seconds
  # it reports, OP_WALL[STEP] wall seconds of the command, OP_RT[STEP] round trips. A failure or
  # a site left at another version than the hub's is noted (OP_NOTE) and the run goes on.
  run_sync() {
    local step=$1 site=$2 out=$work/logs/sync-$1.json t0 rc=0 sent recv hub_state site_state complete
    shift 2
    t0=$(now)
    timeout "$sync_timeout" "$outpost" sync --data "$site" "$@" --json > "$out" 2> "$work/logs/sync-$step.err" || rc=$?
    OP_WALL[$step]=$(elapsed "$t0" "$(now)")
    sent=$(json_get "$out" bytes_sent)
    recv=$(json_get "$out" bytes_received)
    OP_S[$step]=$(json_get "$out" seconds)
    OP_RT[$step]=$(json_get "$out" round_trips)
    complete=$(json_get "$out" complete)
    if [[ $sent =~ ^[0-9]+$ && $recv =~ ^[0-9]+$ ]]; then OP[$step]=$(( sent + recv )); else OP[$step]=-; fi
    [[ -n ${OP_S[$step]} ]] || OP_S[$step]=-
    [[ -n ${OP_RT[$step]} ]] || OP_RT[$step]=-
    if (( rc == 124 )); then
      OP_NOTE[$step]="timed out after $sync_timeout s"
    elif (( rc != 0 )); then
      OP_NOTE[$step]="exit code $rc: $(tail -n 1 "$work/logs/sync-$step.err")"
    elif [[ $complete != true ]]; then
      OP_NOTE[$step]="complete=$complete"
    else
      hub_state=$(channel_state "$hub")
      site_state=$(channel_state "$site")
      [[ $hub_state = "$site_state" ]] || OP_NOTE[$step]="site serves '$site_state', hub '$hub_state' (version, tree, manifest)"
    fi
    log "outpost sync $step: $(mb "${OP[$step]}") MB on the wire, ${OP_RT[$step]} round trips, ${OP_WALL[$step]} s${OP_NOTE[$step]:+ -- ${OP_NOTE[$step]}}"
    if [[ -n ${OP_NOTE[$step]:-} ]]; then tail -n 5 "$work/logs/sync-$step.err" >&2; fi
  }

  log "outpost: hub init, publish, enrol, serve, join ..."
  op hub-init hub init --data "$hub"
  publish old "$old"
  v_old=$PUBLISHED
  op enrol-a hub enrol --data "$hub" --name bench-site --json
  code=$(json_get "$work/logs/enrol-a.json" code)
  [[ -n $code ]] || die "no code in the JSON of hub enrol: $(tr -d '\n' < "$work/logs/enrol-a.json")"
  http_port=$(free_port)
  sync_port=$(free_port)
  "$outpost" hub serve --data "$hub" --listen "127.0.0.1:$http_port" --sync-listen "127.0.0.1:$sync_port" \
    > "$work/logs/hub-serve.out" 2> "$work/logs/hub-serve.err" &
  PID[hub]=$!
  wait_port "$sync_port" 20 "${PID[hub]}" ||
    die "outpost hub serve did not listen on 127.0.0.1:$sync_port; its stderr ends with:
$(tail -n 20 "$work/logs/hub-serve.err")"
  op join-a join --data "$data/site-a" "127.0.0.1:$sync_port" "$code"

  # Initial sync on loopback, no shaping: the throughput budget.
  run_sync initial "$data/site-a"
  [[ -z ${OP_NOTE[initial]:-} ]] || die "the initial sync failed (${OP_NOTE[initial]}); nothing else to measure"
  # B (and C) are site A as it is now, at the old version: the old -> new update is measured
  # from them while A takes the moves-only version.
  cp -a "$data/site-a" "$data/site-b"
  if [[ $link_update = 1 ]]; then cp -a "$data/site-a" "$data/site-c"; fi

  publish moves "$moves"
  v_moves=$PUBLISHED
  run_sync moves "$data/site-a"
  publish new "$new"
  v_new=$PUBLISHED
  run_sync update "$data/site-b"

  # Through the link simulator.
  "$linksim" --target "127.0.0.1:$sync_port" --listen 127.0.0.1:0 --latency-ms "$latency_ms" \
    --rate-kbps "$rate_kbps" --log "$work/logs/linksim.log" \
    > "$work/logs/linksim.out" 2> "$work/logs/linksim.err" &
  PID[linksim]=$!
  link_addr=""
  for (( i = 0; i < 100; i++ )); do
    link_addr=$(awk 'NR == 1 && $1 == "listening" { print $2 }' "$work/logs/linksim.out" 2>/dev/null || true)
    [[ -n $link_addr ]] && break
    kill -0 "${PID[linksim]}" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $link_addr ]] || die "outpost-linksim did not say where it listens; its stderr:
$(cat "$work/logs/linksim.err")"
  log "link simulator on $link_addr: $latency_ms ms each way, $rate_kbps kbit/s each way"

  # link_bytes N: bytes the simulator carried on its Nth connection (1-based), both directions,
  # and its duration in ms ("BYTES MS"); waits for the line (written when the connection ends).
  link_bytes() {
    local n=$1 i line
    for (( i = 0; i < 50; i++ )); do
      line=$(sed -n "${n}p" "$work/logs/linksim.log" 2>/dev/null || true)
      [[ -n $line ]] && break
      sleep 0.1
    done
    awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
           printf "%d %d\n", v["to_target"] + v["to_client"], v["ms"] }' <<< "${line:-}"
  }
  link_conns=0
  if [[ $link_update = 1 ]]; then
    run_sync link-update "$data/site-c" --hub "$link_addr"
    link_conns=$(( link_conns + 1 ))
    OP_LINK[link-update]=$(link_bytes $link_conns)
  fi
  run_sync noop "$data/site-b" --hub "$link_addr"
  link_conns=$(( link_conns + 1 ))
  OP_LINK[noop]=$(link_bytes $link_conns)
  # A sync may open more than one connection; the log then has more lines than syncs.
  link_lines=$(wc -l < "$work/logs/linksim.log" 2>/dev/null || echo 0)
  stop linksim
  stop hub
fi

# ---------------------------------------------------------------------------------------------
# Report.

# cmp_num A OP B: A OP B for numbers; false when either is not a number ("-", empty)
cmp_num() {
  awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
    num = "^[0-9]+([.][0-9]+)?$"
    if (a !~ num || b !~ num) exit 1
    a += 0; b += 0
    exit !((op == "<=" && a <= b) || (op == "<" && a < b) || (op == ">=" && a >= b)) }'
}
verdict() { if cmp_num "$@"; then echo PASS; else echo FAIL; fi; }
rtt_ms=$(( 2 * latency_ms ))
load_at_end=$(cut -d' ' -f1-3 /proc/loadavg)

# what_outpost_did STEP: the sync's own account of what it fetched, from its JSON
what_outpost_did() {
  python3 - "$work/logs/sync-$1.json" <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
except (OSError, ValueError):
    sys.exit(0)
parts = []
if "round_trips" in d:
    parts.append("round trips %s" % d["round_trips"])
if "files_received" in d:
    p = d.get("patches_received")
    parts.append("files %s%s" % (d["files_received"], " (%s as patches)" % p if p else ""))
if "chunks_received" in d:
    parts.append("chunks %s fetched / %s reused" % (d["chunks_received"], d.get("chunks_reused", "-")))
for c in d.get("channels_updated") or []:
    parts.append("version %s -> %s" % (c.get("from"), c.get("to")))
print("outpost: " + ", ".join(parts))
PY
}

echo "sync.sh $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores; $(rsync --version | head -n 1 | sed 's/  */ /g'); zstd $zstd_version"
echo "load average before the run: $load_at_start, after: $load_at_end (anything else running slows every step)"
echo "outpost: ${outpost}$( (( baselines_only )) && echo " (not run: --baselines-only)")"
echo
cat "$corpus_root/summary.txt"
echo "(MB = 10^6 bytes; corpus $corpus_root)"
echo

row() { printf '%-22s %13s %13s %9s %11s %9s %8s  %s\n' "$@"; }
row step "outpost bytes" "rsync bytes" "op/rsync" "zstd floor" "outpost s" "rsync s" notes
get() { local -n arr=$1; echo "${arr[$2]:--}"; }
for step in initial update moves; do
  case $step in
    initial) label="initial (loopback)"; floor="-"; note="old tree: $old_files files, $old_bytes bytes" ;;
    update) label="update (loopback)"; floor=${FLOOR[update]}; note="old -> new" ;;
    moves) label="moves-only (loopback)"; floor=${FLOOR[moves]}; note="old -> moves: 5 renamed, 5 moved" ;;
  esac
  op_b=$(get OP "$step")
  if [[ -n ${RSYNC_FILES[$step]:-} ]]; then note+="; rsync sent ${RSYNC_FILES[$step]} files"; fi
  if (( ! baselines_only )); then
    note+="; $(what_outpost_did "$step")"
    [[ -n ${OP_NOTE[$step]:-} ]] && note+="; outpost: ${OP_NOTE[$step]}"
  fi
  row "$label" "$op_b" "${RSYNC[$step]}" "$(ratio "$op_b" "${RSYNC[$step]}")" "$floor" \
    "$(get OP_WALL "$step")" "${RSYNC_S[$step]}" "$note"
done
if (( ! baselines_only )); then
  for step in link-update noop; do
    [[ -n ${OP_WALL[$step]:-} ]] || continue
    read -r lb lms <<< "${OP_LINK[$step]:-- -}"
    if [[ $step = noop ]]; then label="no-op (link)"; rs="-"; fl="-"; else label="update (link)"; rs=${RSYNC[update]}; fl=${FLOOR[update]}; fi
    note="$(what_outpost_did "$step"); the simulator carried $lb bytes in $lms ms; at $rate_kbps kbit/s those bytes alone take $(awk -v b="$lb" -v r="$rate_kbps" 'BEGIN { if (b ~ /^[0-9]+$/ && r > 0) printf "%.2f", b * 8 / (r * 1000); else print "-" }') s"
    [[ -n ${OP_NOTE[$step]:-} ]] && note+="; outpost: ${OP_NOTE[$step]}"
    row "$label" "${OP[$step]}" "$rs" "$(ratio "${OP[$step]}" "$rs")" "$fl" "${OP_WALL[$step]}" "-" "$note"
  done
fi
echo "bytes: TCP payload both ways (outpost: bytes_sent + bytes_received of its sync JSON; rsync: Total bytes sent + received of --stats);"
echo "  seconds: wall clock of the client command; link: $rtt_ms ms round trip, $rate_kbps kbit/s each way (outpost-linksim)"
for step in update moves; do
  echo "  zstd floor ($step): the smaller of zstd -19 --long=31 --patch-from=old.tar: ${ZSTD[$step,19]} bytes (${ZSTD_S[$step,19]} s) and -3: ${ZSTD[$step,3]} bytes (${ZSTD_S[$step,3]} s)"
done
if (( ! baselines_only )); then
  echo "  outpost versions published: old $v_old, moves $v_moves, new $v_new; the update rows start from a site at version $v_old"
  if (( link_lines != link_conns )); then echo "  note: the link simulator saw $link_lines connections for $link_conns syncs"; fi
fi
echo

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s ~ /^[0-9.]+$/ && s > 0) printf "%.1f", b / 1e6 / s; else print "-" }'; }
echo "loopback initial copy, rsync -az: $(mb "$old_bytes") MB of corpus in ${RSYNC_S[initial]} s: $(mbps "$old_bytes" "${RSYNC_S[initial]}") MB/s"
if (( ! baselines_only )); then
  init_mbps=$(mbps "$old_bytes" "${OP_WALL[initial]}")
  echo "loopback initial sync: $(mb "$old_bytes") MB of corpus in ${OP_WALL[initial]} s wall ($(awk -v s="${OP_S[initial]}" 'BEGIN { if (s ~ /^[0-9.]+$/) printf "%.2f", s; else print "-" }') s by its own count): $init_mbps MB/s"
  echo
  echo "budgets:"
  r=$(ratio "${OP[update]}" "${RSYNC[update]}")
  echo "  update bytes <= 0.5 x rsync -az: ${OP[update]} vs ${RSYNC[update]} bytes = $r  $(verdict "$r" "<=" 0.5)"
  r=$(ratio "${OP[moves]}" "${RSYNC[moves]}")
  echo "  renamed/moved files < 0.1 x rsync -az: ${OP[moves]} vs ${RSYNC[moves]} bytes = $r  $(verdict "$r" "<" 0.1)"
  rt=${OP_RT[noop]}; ws=${OP_WALL[noop]}
  echo "  no-op sync over ${rtt_ms} ms / $rate_kbps kbit/s: <= 3 round trips after TCP connect: $rt  $(verdict "$rt" "<=" 3)"
  if [[ -n ${OP_NOTE[noop]:-} ]]; then v=FAIL; else v=$(verdict "$ws" "<" 5); fi
  echo "  no-op sync over ${rtt_ms} ms / $rate_kbps kbit/s: < 5 s wall: $ws s${OP_NOTE[noop]:+ (${OP_NOTE[noop]})}  $v"
  echo "  initial sync on loopback >= 50 MB/s: $init_mbps MB/s  $(verdict "$init_mbps" ">=" 50)"
  echo
  for step in initial moves update link-update noop; do
    [[ -f $work/logs/sync-$step.json ]] || continue
    echo "json $step: $(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(", ", ": ")))' \
      "$work/logs/sync-$step.json" 2>/dev/null || tr -d '\n' < "$work/logs/sync-$step.json")"
  done
  echo "logs: $work/logs"
fi
