#!/usr/bin/env bash
# hub_scale.sh: how far one hub goes. A real `outpost hub serve` serving the sync benchmark's
# channel (bench/make_sync_corpus.py, ~300 MB) to SCHOOLS simulated schools, each with its own
# data folder, node key and enrolment code, all driven by one process (bench/hub_load.cc) over
# real Noise sessions on loopback, each school from its own source address (127.1.x.y):
#
#   1. the hub publishes the old tree (version 1); a template site joins and syncs it; each
#      school's folder gets a copy of the template's catalog and its blobs as hard links (so
#      every school holds version 1, as a school that synced before would);
#   2. enrol: a real one-time code per school in the hub's sync.db (as `hub enrol`), presented
#      by each school over the enrolment handshake (as `join`), CONCURRENCY at a time;
#   3. phase "no-op": every school syncs at once (CONCURRENCY sessions in flight); nothing is
#      new, so each session is a handshake, an empty offer and a Bye;
#   4. the hub publishes moves and new (versions 2 and 3, as sync.sh does);
#   5. phase "update": UPDATERS of the schools take the update (version 1 -> 3, ~1.07 MB each in
#      sync.sh) at once (UPDATE_CONCURRENCY in flight).
#
# During both phases strangers hold TCP connections to the sync port without authenticating
# (issue #12, item 4): STRANGERS_ONE from one address and STRANGERS_MANY from as many others,
# sending nothing (STRANGER_MODE=idle) or only the 8-byte preamble (preamble), connecting again
# whenever the hub drops them (STRANGER_RECONNECT=1). A school whose session fails tries again
# after RETRY_MS until DEADLINE seconds have passed since its phase began.
#
# For each phase it prints sessions completed, failures counted by reason, sessions/s, bytes
# sent and received by the hub, the hub's peak RSS and CPU seconds (from /proc/PID of the hub),
# the generator's CPU (it shares the machine with the hub), what the hub's threads wait in
# (sampled every 100 ms from /proc/PID/task/*/wchan, above the idle hub's baseline), and a line
# saying what bounded the phase.
#
# Environment (defaults in brackets):
#   OUTPOST_BUILD [build/release]  BUILD=0 skips `ninja outpost hub_load` (-j$NINJA_JOBS [1])
#   BENCH_DIR [/tmp/outpost-bench/hub]    data folders and logs (~SCHOOLS x 7 MB, blobs linked)
#   SYNC_CORPUS [/tmp/outpost-bench/sync/corpus-g2-s1]  made by make_sync_corpus.py if missing
#   SCHOOLS [1000]  CONCURRENCY [64]  UPDATERS [100] (0: no update phase)  UPDATE_CONCURRENCY [100]
#   MAX_SESSIONS [32] (hub serve --sync-max-sessions)
#   STRANGERS_ONE [40]  STRANGERS_MANY [40]  STRANGER_MODE [idle]  STRANGER_RECONNECT [1]
#   DEADLINE [300] seconds per phase  RETRY_MS [200]  KEEP_DATA=1 keeps BENCH_DIR's folders
#
# Exit code 0 when it ran, whatever the figures.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-build/release}
[[ $build = /* ]] || build=$repo_root/$build
outpost=$build/cli/outpost
hub_load=$build/bench/hub_load
bench_dir=${BENCH_DIR:-/tmp/outpost-bench/hub}
corpus=${SYNC_CORPUS:-/tmp/outpost-bench/sync/corpus-g2-s1}
schools=${SCHOOLS:-1000}
concurrency=${CONCURRENCY:-64}
updaters=${UPDATERS:-100}
update_concurrency=${UPDATE_CONCURRENCY:-100}
max_sessions=${MAX_SESSIONS:-32}
strangers_one=${STRANGERS_ONE:-40}
strangers_many=${STRANGERS_MANY:-40}
stranger_mode=${STRANGER_MODE:-idle}
stranger_reconnect=${STRANGER_RECONNECT:-1}
deadline=${DEADLINE:-300}
retry_ms=${RETRY_MS:-200}
channel=bench-sync

die() { echo "hub_scale.sh: $*" >&2; exit 1; }
log() { echo "hub_scale.sh: $(date -u +%H:%M:%S) $*" >&2; }
for v in schools concurrency updaters update_concurrency max_sessions strangers_one strangers_many deadline retry_ms; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
(( updaters <= schools )) || die "UPDATERS ($updaters) must not exceed SCHOOLS ($schools)"

if [[ ${BUILD:-1} = 1 ]]; then
  [[ -f $build/build.ninja ]] || die "no build in $build; configure it first:
  cmake -S $repo_root -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release"
  log "building outpost and hub_load in $build ..."
  ninja -j"${NINJA_JOBS:-1}" -C "$build" outpost hub_load >&2
fi
[[ -x $outpost && -x $hub_load ]] || die "no $outpost or $hub_load (BUILD=1 builds them)"

if [[ ! -d $corpus/old/$channel ]]; then
  log "making the sync benchmark's corpus in $corpus (about a minute) ..."
  python3 "$repo_root/bench/make_sync_corpus.py" --out "$corpus.tmp" --seed 1 >&2
  mv "$corpus.tmp" "$corpus"
fi

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
rm -rf "$bench_dir"
mkdir -p "$bench_dir/logs" "$bench_dir/schools"
hub=$bench_dir/hub
logs=$bench_dir/logs

op() {  # op NAME ARGS...: outpost ARGS, output in logs/NAME.out; dies with its stderr if it fails
  local name=$1; shift
  "$outpost" "$@" > "$logs/$name.out" 2>&1 || { tail -n 20 "$logs/$name.out" >&2; die "outpost $* failed"; }
}
json_get() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

hub_pid=""
cleanup() {
  if [[ -n $hub_pid ]]; then kill "$hub_pid" 2>/dev/null || true; wait "$hub_pid" 2>/dev/null || true; fi
  if [[ ${KEEP_DATA:-0} != 1 ]]; then rm -rf "$bench_dir/schools" "$bench_dir/template" "$bench_dir/shared" "$hub"; fi
}
trap cleanup EXIT

log "hub init, publish old, hub serve ..."
op hub-init hub init --data "$hub"
op publish-old publish --data "$hub" --json "$corpus/old/$channel"
v_old=$(json_get "$logs/publish-old.out" version)
sync_port=$(free_port)
http_port=$(free_port)
"$outpost" hub serve --data "$hub" --listen "127.0.0.1:$http_port" --sync-listen "127.0.0.1:$sync_port" \
  --sync-max-sessions "$max_sessions" > "$logs/hub.log" 2>&1 &
hub_pid=$!
for (( i = 0; i < 100; i++ )); do
  (exec 3<>"/dev/tcp/127.0.0.1/$sync_port") 2>/dev/null && break
  kill -0 "$hub_pid" 2>/dev/null || die "the hub did not start: $(tail -n 5 "$logs/hub.log")"
  sleep 0.1
done
addr=127.0.0.1:$sync_port

log "template site: join and sync version $v_old ..."
op enrol-template hub enrol --data "$hub" --name template --json
op join-template join --data "$bench_dir/template" "$addr" "$(json_get "$logs/enrol-template.out" code)"
op sync-template sync --data "$bench_dir/template" --json

# The first UPDATERS schools (they take the update) each get a copy of the template's catalog
# and its blobs hard-linked. The others only ever make a no-op sync, which reads the channel
# list and nothing else: their catalog.db is a symlink to one shared copy (SQLite resolves the
# link, so they share its WAL and its locks) and their blob store is empty.
log "school folders: $updaters with a catalog copy and hard-linked blobs, $(( schools - updaters )) sharing one catalog ..."
t0=$(date +%s.%N)
mkdir -p "$bench_dir/shared"
cp "$bench_dir/template"/catalog.db* "$bench_dir/shared/"
for (( i = 0; i < schools; i++ )); do
  d=$bench_dir/schools/$(printf 's%05d' "$i")
  mkdir -p "$d"
  if (( i < updaters )); then
    cp -al "$bench_dir/template/blobs" "$d/blobs"
    cp "$bench_dir/template"/catalog.db* "$d/"
  else
    ln -s "$bench_dir/shared/catalog.db" "$d/catalog.db"
  fi
done
copy_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
school_mb=$(du -sm "$bench_dir/shared/catalog.db" | cut -f1)

log "enrolling $schools schools ..."
"$hub_load" enrol --hub-data "$hub" --hub "$addr" --schools "$bench_dir/schools" --count "$schools" \
  --concurrency "$concurrency" --deadline "$deadline" --retry-ms "$retry_ms" > "$logs/enrol.txt" || { cat "$logs/enrol.txt"; die "enrolment failed"; }

common=(--hub "$addr" --schools "$bench_dir/schools" --hub-pid "$hub_pid" --hub-log "$logs/hub.log"
        --deadline "$deadline" --retry-ms "$retry_ms" --strangers-one "$strangers_one"
        --strangers-many "$strangers_many" --stranger-mode "$stranger_mode"
        --stranger-reconnect "$stranger_reconnect")
log "phase no-op: $schools schools, $concurrency at once ..."
"$hub_load" sync "${common[@]}" --label no-op --count "$schools" --concurrency "$concurrency" \
  --expect-version "$v_old" > "$logs/phase-noop.txt"

shared_wal=$(stat -c %s "$bench_dir/shared/catalog.db-wal" 2>/dev/null || echo 0)
v_new=-
: > "$logs/phase-update.txt"
if (( updaters > 0 )); then
  op publish-moves publish --data "$hub" --json "$corpus/moves/$channel"
  op publish-new publish --data "$hub" --json "$corpus/new/$channel"
  v_new=$(json_get "$logs/publish-new.out" version)
  log "phase update: $updaters schools take version $v_old -> $v_new, $update_concurrency at once ..."
  "$hub_load" sync "${common[@]}" --label update --count "$updaters" \
    --concurrency "$update_concurrency" --expect-version "$v_new" > "$logs/phase-update.txt"
fi

echo "hub_scale.sh $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1e6 }' /proc/meminfo) RAM"
echo "load average before: $load_at_start, after: $(cut -d' ' -f1-3 /proc/loadavg) (the generator and anything else running share the cores with the hub)"
echo "hub: outpost hub serve --sync-max-sessions $max_sessions (session io timeout 60 s); corpus $(du -sm "$corpus/old/$channel" | cut -f1) MB, versions $v_old (old) and $v_new (new)"
echo "schools: $schools, each a data folder with its own key, code, sync.db and address; the first $updaters with a ${school_mb} MB catalog copy and hard-linked blobs, the rest sharing one catalog (folders made in $copy_s s; the shared catalog's WAL after the no-op phase: $shared_wal bytes)"
echo "strangers: $strangers_one from one address + $strangers_many from others, $stranger_mode, reconnect=$stranger_reconnect"
cat "$logs/enrol.txt" "$logs/phase-noop.txt" "$logs/phase-update.txt"
echo "hub log: $(grep -c 'turned away' "$logs/hub.log" || true) connections turned away in all; logs in $logs"
