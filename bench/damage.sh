#!/usr/bin/env bash
# damage.sh: a randomized damage campaign against a failing card's usual harm (issue 14). Each
# round copies a freshly imported library, injects one piece of damage drawn from the seed, then
# does what a coordinator does: `outpost verify` (which moves damaged blobs aside), then
# `outpost serve`, and asks the server for every page, file and search of the undamaged box.
#
# Kinds of damage, drawn with equal odds:
#   page-zero          one page of the catalog (any page of any table or index, from dbstat)
#                      zeroed, as a lost sector reads
#   page-flip-header   the b-tree header of such a page flipped (SQLite always notices)
#   page-flip-bytes    8 bytes of such a page flipped at random offsets (may land where nothing
#                      reads: then nothing can find it, and nothing served changes)
#   blob-flip          one byte of a stored file flipped
#   blob-delete        a stored file deleted
#
# Then, when verify found damage, `outpost repair` (with --source CHANNEL=FOLDER for the library's
# folder), and the answers again: every one must be the undamaged box's.
#
# Prints the seed, one line per round, and the counts: damage injected; found by verify (exit
# 3); found by serve (its log says the catalog is damaged, or names a failed read or blob, or,
# when the catalog cannot be opened at all, it refused to start saying to run repair);
# repaired (repair exit 0 and every answer after it the undamaged box's);
# answers compared; answers that were the "something is wrong with this box" page; silent
# failures (a 404, or a search with no results, where the undamaged box answered); and bytes
# served wrongly (a 200 whose bytes differ from the undamaged box's: must be 0). Exit code 1 if
# any byte was served wrongly, any failure was silent or any damage found was not repaired.
#
# Usage: bench/damage.sh [ROUNDS]        (default 20)
#
# Environment:
#   SEED          the campaign's seed (default: from the clock; printed, so a run can be redone)
#   OUTPOST_BUILD build directory (default: build/release under the repository root)
#   OUTPOST_BIN   the outpost CLI (default: $OUTPOST_BUILD/cli/outpost)
#   DEMO_DIR      the library imported (default: $OUTPOST_BUILD/demo/water-cycle)
#   BENCH_DIR     working directory, emptied first (default: /tmp/outpost-bench/damage)
#
# Needs python3 (its sqlite3 module, with dbstat; urllib for the requests).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-build/release}
[[ $build = /* ]] || build=$repo_root/$build
outpost=${OUTPOST_BIN:-$build/cli/outpost}
demo=${DEMO_DIR:-$build/demo/water-cycle}
bench_dir=${BENCH_DIR:-/tmp/outpost-bench/damage}
rounds=${1:-20}
seed=${SEED:-$(date +%s)}
kinds=(page-zero page-flip-header page-flip-bytes blob-flip blob-delete)

for tool in python3; do
  command -v "$tool" >/dev/null || { echo "damage.sh needs $tool" >&2; exit 2; }
done
[[ -x $outpost ]] || { echo "no outpost binary at $outpost (set OUTPOST_BIN)" >&2; exit 2; }

rm -rf "$bench_dir"
mkdir -p "$bench_dir"
pristine=$bench_dir/pristine
work=$bench_dir/work
expected=$bench_dir/expected   # the undamaged box's answers: one file per target
mkdir -p "$pristine" "$expected"

injected=0 found_verify=0 found_serve=0 repaired=0 compared=0 trouble=0 silent=0 wrong_bytes=0
differing=0 refused=0
server_pid= server_log= server_fd=

# Stops the server and appends the rest of its log (read from its pipe) to its log file.
stop_server() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    cat <&"$server_fd" >>"$server_log" || true
    exec {server_fd}<&-
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap stop_server EXIT

# Starts `outpost serve` on DATA, its output on a pipe copied to LOG; sets server_pid and port
# once it says it is serving (reading its log up to that line, not waiting for a time).
start_server() {
  local data=$1 line
  server_log=$2
  : >"$server_log"
  coproc SERVER { exec "$outpost" serve --data "$data" --listen 127.0.0.1:0 2>&1; }
  server_pid=$SERVER_PID
  exec {server_fd}<&"${SERVER[0]}"  # kept open here: bash closes SERVER's when serve exits
  port=
  while IFS= read -r line <&"$server_fd"; do
    echo "$line" >>"$server_log"
    if [[ $line =~ http://127\.0\.0\.1:([0-9]+) ]]; then
      port=${BASH_REMATCH[1]}
      break
    fi
  done
  [[ -n $port ]] || { wait "$server_pid" 2>/dev/null || true; exec {server_fd}<&-; server_pid=; return 1; }
}

# The targets a learner asks for: every file by path, every topic and resource page, and a
# search per word of the channel's titles (python reads the undamaged catalog).
list_targets() {
  python3 - "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT n.channel_id, n.path, n.kind, n.blob IS NOT NULL, n.title FROM nodes n "
                  "JOIN channels c ON c.id = n.channel_id AND c.served_version = n.version")
words = set()
for channel, path, kind, has_blob, title in rows:
    if has_blob:
        print(f"/c/{channel}/{path}")
    if kind == "topic":
        print(f"/t/{channel}/{path}")
    elif path:
        print(f"/r/{channel}/{path}")
    words.update(w.lower() for w in title.split() if w.isalpha() and len(w) > 4)
print("/")
for w in sorted(words)[:20]:
    print(f"/search?q={w}")
EOF
}

# Fetches every target (one per line of FILE) from the running server into DIR/N, its status
# into DIR/N.status (N: the target's line number).
fetch_all() {
  python3 - "$port" "$1" "$2" <<'EOF'
import sys, urllib.error, urllib.parse, urllib.request
port, targets, out = sys.argv[1], sys.argv[2], sys.argv[3]
for n, target in enumerate(open(targets).read().splitlines(), 1):
    url = "http://127.0.0.1:" + port + urllib.parse.quote(target, safe="/?=&")
    try:
        with urllib.request.urlopen(url) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except OSError:
        status, body = 0, b""
    open(f"{out}/{n}", "wb").write(body)
    open(f"{out}/{n}.status", "w").write(str(status))
EOF
}

# Damages the library in DATA with KIND, choosing with the round's random number R.
inject() {
  local data=$1 kind=$2 r=$3
  case $kind in
    page-*)
      python3 - "$data/catalog.db" "$kind" "$r" <<'EOF'
import random, sqlite3, sys
path, kind, r = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(r)
db = sqlite3.connect(path)
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
size = db.execute("PRAGMA page_size").fetchone()[0]
pages = db.execute("SELECT name, pageno FROM dbstat ORDER BY pageno").fetchall()
db.close()
name, page = rng.choice(pages)
with open(path, "r+b") as f:
    f.seek((page - 1) * size)
    data = bytearray(f.read(size))
    header = 100 if page == 1 else 0
    if kind == "page-zero":
        data = bytearray(size)
    elif kind == "page-flip-header":
        for i in range(header, header + 8):
            data[i] ^= 0xFF
    else:
        for _ in range(8):
            data[rng.randrange(header, size)] ^= rng.randrange(1, 256)
    f.seek((page - 1) * size)
    f.write(data)
print(f"{kind} page {page} ({name})")
EOF
      ;;
    blob-*)
      local blobs=() blob
      mapfile -t blobs < <(find "$data/blobs" -type f | sort)
      blob=${blobs[$((r % ${#blobs[@]}))]}
      if [[ $kind = blob-flip ]]; then
        python3 -c "
import os, sys
p = sys.argv[1]; n = os.path.getsize(p)
with open(p, 'r+b') as f:
    f.seek(n // 2); b = f.read(1); f.seek(n // 2); f.write(bytes([b[0] ^ 0xFF]))" "$blob"
      else
        rm -f "$blob"
      fi
      echo "$kind ${blob##*/}"
      ;;
  esac
}

# Asks the running server for every target and compares with the undamaged answers.
compare_answers() {
  local i=0 target status got want
  differing=0
  rm -rf "$bench_dir/got" && mkdir -p "$bench_dir/got"
  fetch_all "$bench_dir/targets" "$bench_dir/got"
  while IFS= read -r target; do
    i=$((i + 1))
    got=$bench_dir/got/$i
    status=$(cat "$got.status")
    want=$expected/$i
    compared=$((compared + 1))
    if [[ $status = "$(cat "$want.status")" ]] && cmp -s "$got" "$want"; then
      continue
    fi
    differing=$((differing + 1))
    if [[ $status = 500 || $status = 503 ]] && grep -q 'Something is wrong with this box' "$got"; then
      trouble=$((trouble + 1))
    elif [[ $status = 200 && $target = /c/* ]]; then
      wrong_bytes=$((wrong_bytes + $(stat -c %s "$got")))
      echo "  WRONG BYTES: $target" >&2
    elif [[ $status = 404 || $target = /search* ]]; then
      silent=$((silent + 1))
      echo "  SILENT: $target answered $status" >&2
    else
      echo "  other: $target answered $status" >&2
    fi
  done <"$bench_dir/targets"
}

# ---- The undamaged box, once.
"$outpost" import --data "$pristine" "$demo" >/dev/null
sources=()
for channel in $(python3 -c "import sqlite3, sys; print(*[r[0] for r in sqlite3.connect(sys.argv[1]).execute('SELECT id FROM channels')])" "$pristine/catalog.db"); do
  sources+=(--source "$channel=$demo")
done
list_targets "$pristine/catalog.db" >"$bench_dir/targets"
start_server "$pristine" "$bench_dir/pristine.log" ||
  { echo "serve did not start:" >&2; cat "$bench_dir/pristine.log" >&2; exit 2; }
fetch_all "$bench_dir/targets" "$expected"
stop_server

echo "damage campaign: seed $seed, $rounds rounds, $(wc -l <"$bench_dir/targets") targets per round"
RANDOM=$seed
for ((round = 1; round <= rounds; round++)); do
  rm -rf "$work"
  cp -a "$pristine" "$work"
  kind=${kinds[$((RANDOM % ${#kinds[@]}))]}
  r=$(( (RANDOM << 15) | RANDOM ))
  what=$(inject "$work" "$kind" "$r")
  injected=$((injected + 1))

  verdict="missed by verify"
  set +e
  "$outpost" verify --data "$work" --json >"$bench_dir/verify.json" 2>"$bench_dir/verify.err"
  rc=$?
  set -e
  if [[ $rc = 3 ]]; then
    found_verify=$((found_verify + 1))
    verdict="found by verify"
  elif [[ $rc != 0 ]]; then
    verdict="verify failed (exit $rc)"
  fi

  if start_server "$work" "$bench_dir/serve.log"; then
    compare_answers
    stop_server
    if grep -qE 'is DAMAGED|reading it for .* failed|serving .*: blob ' "$bench_dir/serve.log"; then
      found_serve=$((found_serve + 1))
      verdict="$verdict, found by serve"
    fi
  elif grep -q 'run outpost repair' "$bench_dir/serve.log"; then
    # The catalog cannot be opened at all: serve stops at once and says what to do.
    found_serve=$((found_serve + 1))
    refused=$((refused + 1))
    verdict="$verdict, serve refused to start (saying so)"
  else
    echo "serve did not start, without saying why:" >&2
    cat "$bench_dir/serve.log" >&2
    exit 2
  fi

  # What the coordinator does next when verify found damage: `outpost repair` (with the folder
  # the library came from), then the box must answer exactly as the undamaged one.
  if [[ $rc = 3 ]]; then
    set +e
    "$outpost" repair --data "$work" "${sources[@]}" >"$bench_dir/repair.out" 2>&1
    repair_rc=$?
    set -e
    start_server "$work" "$bench_dir/serve-repaired.log" || differing=unstarted
    if [[ $differing != unstarted ]]; then
      compare_answers
      stop_server
    fi
    if [[ $repair_rc = 0 && $differing = 0 ]]; then
      repaired=$((repaired + 1))
      verdict="$verdict, repaired"
    else
      verdict="$verdict, NOT repaired (repair exit $repair_rc, $differing answers differ)"
    fi
  fi
  printf '%3d  %-55s %s\n' "$round" "$what" "$verdict"
done

echo
echo "seed:                 $seed"
echo "damage injected:      $injected"
echo "found by verify:      $found_verify"
echo "found by serve:       $found_serve (of which it refused to start: $refused)"
echo "repaired:             $repaired of $found_verify found by verify"
echo "answers compared:     $compared"
echo "trouble pages:        $trouble"
echo "silent failures:      $silent"
echo "bytes served wrongly: $wrong_bytes"
[[ $wrong_bytes = 0 && $silent = 0 && $repaired = "$found_verify" ]]
