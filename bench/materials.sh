#!/usr/bin/env bash
# materials.sh: what one change of the school's channel costs a teacher (decision 46: one new
# signed version per change), through the real API over loopback: COUNT small pages uploaded
# (tus) and placed one by one into four topics, then EDITS title edits and EDITS moves on the
# channel that holds them all; each change's time as curl sees it (median and slowest), and the
# same for the last placements, on the full channel. No peer: the figure is the latency a
# teacher waits for after pressing "save".
#
# Usage: bench/materials.sh
#   OUTPOST_BUILD / OUTPOST_BIN  the Release build / the CLI (default build/release/cli/outpost)
#   COUNT      materials placed (default 200)
#   EDITS      edits and moves timed (default 20 each)
#   BENCH_DIR  scratch folder (default /tmp/outpost-bench/materials)
#   PORT       the server's port on 127.0.0.1 (default 18095)
# Needs curl and python3 (benchmark only).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-$root/build/release}
outpost=${OUTPOST_BIN:-$build/cli/outpost}
count=${COUNT:-200}
edits=${EDITS:-20}
dir=${BENCH_DIR:-/tmp/outpost-bench/materials}
port=${PORT:-18095}
base=http://127.0.0.1:$port

die() { echo "materials.sh: $*" >&2; exit 1; }
[ -x "$outpost" ] || die "no outpost CLI at $outpost: build it (bench/README.md) or set OUTPOST_BIN"
rm -rf "$dir"
mkdir -p "$dir/pages"
data=$dir/data
printf 'craie blanche 7\n' | "$outpost" users add --data "$data" --role teacher amira > /dev/null
"$outpost" serve --data "$data" --listen "127.0.0.1:$port" > "$dir/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  curl -fs -o /dev/null "$base/api/v1/home" && break
  sleep 0.1
done
jar=$dir/cookies
csrf=$(curl -fs -c "$jar" -H 'Content-Type: application/json' \
         -d '{"name":"amira","password":"craie blanche 7"}' "$base/api/v1/login" |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
api() { curl -fs -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Tus-Resumable: 1.0.0' "$@"; }

# One page of about 18 KB of text: upload it; prints the upload's id.
upload() {
  local file=$dir/pages/$1.html loc
  python3 -c "
import random, sys
random.seed($1)
words = ['eau', 'pluie', 'nuage', 'soleil', 'mer', 'rivière', 'plante', 'terre', 'vent', 'neige']
text = ' '.join(random.choice(words) for _ in range(3000))
print(f'<!DOCTYPE html><html lang=fr><title>Leçon $1</title><p>{text}</p></html>')" > "$file"
  loc=$(api -H "Upload-Length: $(stat -c %s "$file")" \
            -H "Upload-Metadata: filename $(printf 'lecon-%s.html' "$1" | base64)" \
            -X POST -D - -o /dev/null "$base/api/v1/uploads" | tr -d '\r' | sed -n 's/^Location: //p')
  api -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' \
      --data-binary @"$file" -X PATCH -o /dev/null "$base$loc"
  echo "${loc##*/}"
}
# A timed change: prints the seconds curl waited for the answer.
timed() { api -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' "$@"; }
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "median %.0f ms, slowest %.0f ms", 1000 * v[int((NR + 1) / 2)], 1000 * v[NR] }'; }

place_times=()
for i in $(seq 1 "$count"); do
  id=$(upload "$i")
  t=$(timed -d "{\"upload\":\"$id\",\"topic\":\"Grade $((i % 4 + 3))/Science\"}" "$base/api/v1/materials")
  [ "$i" -gt $((count - edits)) ] && place_times+=("$t")
done
paths=$(api "$base/api/v1/materials" | python3 -c '
import json, sys
def walk(n):
    for c in n.get("children", []):
        if c["kind"] == "topic": yield from walk(c)
        else: yield c["path"]
print("\n".join(list(walk(json.load(sys.stdin)["tree"]))[:'"$edits"']))')
edit_times=() move_times=()
n=0
for path in $paths; do
  n=$((n + 1))
  edit_times+=("$(timed -d "{\"title\":\"Leçon revue $n\"}" "$base/api/v1/materials/$path/edit")")
done
for path in $paths; do
  move_times+=("$(timed -d '{"topic":"Grade 9/Révision"}' "$base/api/v1/materials/$path/move")")
done
version=$(api "$base/api/v1/materials" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')

echo "channel:  $count pages of ~18 KB of text in 4 topics, then ${edits} edits and ${edits} moves: version $version"
echo "place:    $(printf '%s\n' "${place_times[@]}" | stats) (the last $edits placements, on a channel of $((count - edits))+)"
echo "edit:     $(printf '%s\n' "${edit_times[@]}" | stats) (a title, on $count materials)"
echo "move:     $(printf '%s\n' "${move_times[@]}" | stats) (to another topic)"
