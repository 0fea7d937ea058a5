#!/usr/bin/env bash
# bundle.sh: USB bundles against cp, and against the network sync for the same update.
#
# On the sync benchmark's corpus (bench/make_sync_corpus.py: ~300 MB, and a realistic update of
# it), a hub and a school that never sees a link:
#   1. the school joins from an enrolment file and its first bundle enrols it at the hub;
#   2. the hub exports the whole channel for it (export MB/s), the school imports it (import MB/s);
#      each beside `cp` of the same number of bytes to the same file system, fsynced, so the
#      ratio says what the encryption, signing, compression and checks cost over copying;
#   3. the hub publishes the update and exports it before the school's receipt is back (packed
#      against what the first stick carried, docs/bundle.md "Packed against what was sent"), and
#      again with --full (what that stick was before, packed against nothing); a copy of the
#      school imports the first;
#   4. the school's receipt goes back; the hub exports the update (bundle bytes); a copy of the
#      school at the old version syncs the same update over the network on loopback (bytes on
#      the wire): the bundle should be within 5% of it, and so should the one without receipt.
# Prints a table with the ratios and the budgets (PASS/FAIL). Builds nothing: it uses the outpost
# CLI of an existing Release build.
#
# Usage: bench/bundle.sh
# Environment:
#   OUTPOST_BUILD  build directory (default build/release under the repository root)
#   OUTPOST_BIN    the outpost CLI (default $OUTPOST_BUILD/cli/outpost)
#   BENCH_DIR      working directory (default /tmp/outpost-bench/bundle); the stick is a folder
#                  in it, on the same file system as the data directories and cp's copies
#   SYNC_CORPUS    the corpus made by bench/sync.sh or make_sync_corpus.py (default
#                  /tmp/outpost-bench/sync/corpus-g2-s1; made there if missing)
#   KEEP_DATA=1    keep the data directories afterwards
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-build/release}
[[ $build = /* ]] || build=$repo_root/$build
outpost=${OUTPOST_BIN:-$build/cli/outpost}
bench_dir=${BENCH_DIR:-/tmp/outpost-bench/bundle}
corpus_root=${SYNC_CORPUS:-/tmp/outpost-bench/sync/corpus-g2-s1}
keep_data=${KEEP_DATA:-0}
channel=bench-sync

die() { echo "bundle.sh: $*" >&2; exit 1; }
log() { echo "bundle.sh: $*" >&2; }

[[ -x $outpost ]] || die "no outpost CLI at $outpost (ninja -C build/release outpost, or set OUTPOST_BIN)"
for tool in python3 cp sync awk; do command -v "$tool" >/dev/null || die "$tool not found"; done

if [[ ! -f $corpus_root/summary.txt ]]; then
  command -v ffmpeg >/dev/null || die "ffmpeg not found: the corpus needs it (apt-get install ffmpeg)"
  log "generating the corpus in $corpus_root (about a minute) ..."
  rm -rf "$corpus_root.tmp"
  python3 "$repo_root/bench/make_sync_corpus.py" --out "$corpus_root.tmp" --seed 1 >&2
  mv "$corpus_root.tmp" "$corpus_root"
fi
old=$corpus_root/old/$channel
new=$corpus_root/new/$channel
[[ -d $old && -d $new ]] || die "$corpus_root is incomplete; delete it to make it again"

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$bench_dir/run
deleted_at=0
if [[ -e $work ]]; then rm -rf "$work"; deleted_at=$(date +%s); fi
mkdir -p "$work/logs" "$work/stick"
hub=$work/hub
site=$work/site
op() {  # op NAME ARGS...: runs outpost, its stdout to logs/NAME.json, stderr to logs/NAME.err
  local name=$1
  shift
  "$outpost" "$@" > "$work/logs/$name.json" 2> "$work/logs/$name.err" ||
    die "outpost $* failed (exit $?): $(tail -3 "$work/logs/$name.err")"
}
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$work/logs/$1.json" "$2"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
mbps() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", n / s / 1e6; else print "-" }'; }
dir_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
# cp_seconds BYTES: seconds for cp of a BYTES-byte file (from the page cache) to the same file
# system, fsynced, like a volume.
cp_seconds() {
  local src=$work/cp-src dst=$work/cp-dst
  head -c "$1" /dev/urandom > "$src"
  cat "$src" > /dev/null
  rm -f "$dst"
  sync  # start, like outpost's steps, with nothing left to write back
  local t0 t1
  t0=$(now)
  cp "$src" "$dst"
  sync "$dst"
  t1=$(now)
  rm -f "$src" "$dst"
  secs "$t0" "$t1"
}

# Warm the page cache with both trees, as sync.sh does.
find "$old" "$new" -type f -exec cat {} + > /dev/null

log "hub: init and publish the old tree ..."
op hub-init hub init --data "$hub" --json
op publish-old publish --data "$hub" --json "$old"
op enrol hub enrol --data "$hub" --name ecole --to "$work/ecole.opef"
op join join --data "$site" "$work/ecole.opef"
mkdir -p "$work/stick/enrol"
op site-enrol-export bundle export --data "$site" --to "$work/stick/enrol" --json
op hub-enrol-import bundle import --data "$hub" --json "$work/stick/enrol"

# The virtual disk's speed wanders from run to run (cp here has taken 0.25 s and 1.1 s for the
# same bytes), so each timed step runs `rounds` times, interleaved with its cp, and the medians
# are compared.
rounds=${ROUNDS:-3}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
corpus_bytes=$(dir_bytes "$old")
log "initial bundle: export and import, $rounds rounds beside cp ..."
export_runs=() import_runs=() cp_export_runs=() cp_import_runs=()
for round in $(seq "$rounds"); do
  cp -a "$site" "$work/site-$round"  # the school before the import, for this round
done
# (See below: no timed step within 30 s of deleting the last run's files.)
wait_s=$((deleted_at + 31 - $(date +%s)))
if [[ $deleted_at -gt 0 && $wait_s -gt 0 ]]; then log "waiting ${wait_s} s after deleting the last run ..."; sleep "$wait_s"; fi
for round in $(seq "$rounds"); do
  stick=$work/stick/initial-$round
  mkdir -p "$stick"
  sync  # each timed step starts with nothing left to write back from the one before
  t0=$(now)
  # --full: each round writes the same first stick (not one packed against the round before's)
  op export-initial bundle export --data "$hub" --to "$stick" --for ecole --full --json
  t1=$(now)
  export_runs+=("$(secs "$t0" "$t1")")
  initial_bytes=$(dir_bytes "$stick")
  cp_export_runs+=("$(cp_seconds "$initial_bytes")")
  cat "$stick"/* > /dev/null
  sync
  t0=$(now)
  "$outpost" bundle import --data "$work/site-$round" --json "$stick" > "$work/logs/import-initial.json" 2> "$work/logs/import-initial.err" ||
    die "import failed: $(tail -3 "$work/logs/import-initial.err")"
  t1=$(now)
  import_runs+=("$(secs "$t0" "$t1")")
  [[ $(json import-initial 'd["complete"]') = True ]] || die "the initial import is not complete: $(cat "$work/logs/import-initial.json")"
  cp_import_runs+=("$(cp_seconds "$corpus_bytes")")
done
# Deleting thousands of files right before a timed step slows it: ext4 without a journal (as on
# this VM) skips inodes freed in the last 30 s, scanning for each new file. So the earlier
# rounds' folders are deleted only now, after the timed steps.
for round in $(seq $((rounds - 1))); do rm -rf "$work/stick/initial-$round" "$work/site-$round"; done
rm -rf "$site"
mv "$work/site-$rounds" "$site"
export_s=$(median "${export_runs[@]}")
import_s=$(median "${import_runs[@]}")
cp_export_s=$(median "${cp_export_runs[@]}")
cp_import_s=$(median "${cp_import_runs[@]}")

log "the update: publish new, export before the receipt is back, receipt back, export ..."
cp -a "$site" "$work/site-net"  # the school at version 1, for the network sync of the update
# The stick written before the receipt came back, on copies of both (a hub that wrote a stick
# packs the next one against it, so the receipt's case below needs the hub as it was).
cp -a "$site" "$work/site-noreceipt"
cp -a "$hub" "$work/hub-noreceipt"
mkdir -p "$work/stick/receipt" "$work/stick/update" "$work/stick/update-noreceipt" "$work/stick/update-full"
op publish-new-noreceipt publish --data "$work/hub-noreceipt" --json "$new"
op export-noreceipt bundle export --data "$work/hub-noreceipt" --to "$work/stick/update-noreceipt" --for ecole --json
noreceipt_bytes=$(dir_bytes "$work/stick/update-noreceipt")
op export-full bundle export --data "$work/hub-noreceipt" --to "$work/stick/update-full" --for ecole --full --json
full_bytes=$(dir_bytes "$work/stick/update-full")
op import-noreceipt bundle import --data "$work/site-noreceipt" --json "$work/stick/update-noreceipt"
[[ $(json import-noreceipt 'd["complete"]') = True ]] || die "the update written before the receipt does not import"
rm -rf "$work/site-noreceipt" "$work/hub-noreceipt"
op publish-new publish --data "$hub" --json "$new"
op site-receipt bundle export --data "$site" --to "$work/stick/receipt" --json
op hub-receipt bundle import --data "$hub" --json "$work/stick/receipt"
op export-update bundle export --data "$hub" --to "$work/stick/update" --for ecole --json
update_bytes=$(dir_bytes "$work/stick/update")
op import-update bundle import --data "$site" --json "$work/stick/update"
[[ $(json import-update 'd["complete"]') = True ]] || die "the update's import is not complete"

log "the same update over the network, on loopback ..."
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
http=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$outpost" hub serve --data "$hub" --listen "127.0.0.1:$http" --sync-listen "127.0.0.1:$port" > "$work/logs/hub-serve.log" 2>&1 &
hub_pid=$!
trap 'kill $hub_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
op sync-update sync --data "$work/site-net" --hub "127.0.0.1:$port" --json
net_bytes=$(json sync-update 'd["bytes_sent"] + d["bytes_received"]')
kill $hub_pid; wait $hub_pid 2>/dev/null || true
trap - EXIT

export_mbps=$(mbps "$initial_bytes" "$export_s")
cp_export_mbps=$(mbps "$initial_bytes" "$cp_export_s")
import_mbps=$(mbps "$corpus_bytes" "$import_s")
cp_import_mbps=$(mbps "$corpus_bytes" "$cp_import_s")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "PASS" : "FAIL" }'; }
export_ratio=$(ratio "$export_mbps" "$cp_export_mbps")
import_ratio=$(ratio "$import_mbps" "$cp_import_mbps")
size_ratio=$(ratio "$update_bytes" "$net_bytes")
noreceipt_ratio=$(ratio "$noreceipt_bytes" "$net_bytes")
noreceipt_full=$(ratio "$noreceipt_bytes" "$full_bytes")

echo
echo "load average before the run: $load_at_start, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "corpus: $corpus_bytes bytes (old tree); initial bundle: $initial_bytes bytes in $(ls "$work/stick/initial-$rounds" | wc -l) volume(s)"
echo "seconds per round (median used): export ${export_runs[*]}, its cp ${cp_export_runs[*]}; import ${import_runs[*]}, its cp ${cp_import_runs[*]}"
echo
printf '%-28s %14s %14s %8s\n' "step" "outpost" "peer" "ratio"
printf '%-28s %11s MB/s %11s MB/s %8s  %s\n' "export (initial)" "$export_mbps" "$cp_export_mbps" "$export_ratio" "peer: cp of $initial_bytes bytes + sync; outpost: ${export_s} s"
printf '%-28s %11s MB/s %11s MB/s %8s  %s\n' "import (initial)" "$import_mbps" "$cp_import_mbps" "$import_ratio" "peer: cp of $corpus_bytes bytes + sync; outpost: ${import_s} s"
printf '%-28s %14s %14s %8s  %s\n' "update: bundle vs sync bytes" "$update_bytes" "$net_bytes" "$size_ratio" "peer: the network sync's bytes_sent + bytes_received for the same update"
printf '%-28s %14s %14s %8s  %s\n' "update, no receipt yet" "$noreceipt_bytes" "$net_bytes" "$noreceipt_ratio" "peer: the same network sync; packed against the first stick"
printf '%-28s %14s %14s %8s  %s\n' "  the same, vs --full" "$noreceipt_bytes" "$full_bytes" "$noreceipt_full" "peer: --full, what this stick was before"
echo
echo "budgets:"
echo "  export >= 0.5 x cp: $export_ratio  $(verdict "$export_ratio" ">=" 0.5)"
echo "  import >= 0.5 x cp: $import_ratio  $(verdict "$import_ratio" ">=" 0.5)"
echo "  update bundle within 5% of the network sync's bytes: $size_ratio  $(verdict "$size_ratio" "<=" 1.05)"
echo "  and without the receipt back: $noreceipt_ratio  $(verdict "$noreceipt_ratio" "<=" 1.05)"
echo "logs: $work/logs"
if [[ $keep_data != 1 ]]; then rm -rf "$hub" "$site" "$work/site-net" "$work/stick"; fi
