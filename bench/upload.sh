#!/usr/bin/env bash
# upload.sh: a teacher's large upload over loopback, side by side with its peer, in one run.
#
#   Outpost: `outpost serve`, a teacher logged in, a tus upload (POST /api/v1/uploads, then one
#            PATCH with the whole file, streamed by curl -T) of SIZE_MB of random bytes;
#   peer:    `cp` of the same file to the same disk, then `sync FILE` (fsync), since the server
#            makes the upload durable too;
# each BENCH_RUNS times (median), and the server's peak resident memory over all the uploads
# (VmHWM, reset with /proc/PID/clear_refs once the server is up).
#
# Budgets (issue #15): upload throughput >= 0.5x cp + fsync; the server's peak RSS < 64 MB.
#
# Usage: bench/upload.sh
#   OUTPOST_BUILD / OUTPOST_BIN  the Release build / the CLI (default build/release/cli/outpost)
#   SIZE_MB     the file's size in MB (10^6 bytes; default 1024)
#   BENCH_RUNS  runs of each (default 3)
#   BENCH_DIR   scratch folder on the disk to measure (default /tmp/outpost-bench/upload)
#   PORT        the server's port on 127.0.0.1 (default 18093)
# Needs curl and python3 (benchmark only).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-$root/build/release}
outpost=${OUTPOST_BIN:-$build/cli/outpost}
size_mb=${SIZE_MB:-1024}
runs=${BENCH_RUNS:-3}
dir=${BENCH_DIR:-/tmp/outpost-bench/upload}
port=${PORT:-18093}
base=http://127.0.0.1:$port

die() { echo "upload.sh: $*" >&2; exit 1; }
[ -x "$outpost" ] || die "no outpost CLI at $outpost: build it (bench/README.md) or set OUTPOST_BIN"
command -v curl >/dev/null || die "needs curl"

rm -rf "$dir"
mkdir -p "$dir"
file=$dir/lesson.bin
head -c $((size_mb * 1000000)) /dev/urandom > "$file"
bytes=$(stat -c %s "$file")
cat "$file" > /dev/null  # warm: both sides read it from the page cache

data=$dir/data
printf 'craie blanche 7\n' | "$outpost" users add --data "$data" --role teacher amira > /dev/null
"$outpost" serve --data "$data" --listen "127.0.0.1:$port" > "$dir/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  curl -fs -o /dev/null "$base/api/v1/home" && break
  sleep 0.1
done
curl -fs -o /dev/null "$base/api/v1/home" || die "the server did not start: $(tail -5 "$dir/serve.log")"
jar=$dir/cookies
csrf=$(curl -fs -c "$jar" -H 'Content-Type: application/json' \
         -d '{"name":"amira","password":"craie blanche 7"}' "$base/api/v1/login" |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
echo 5 > "/proc/$pid/clear_refs" 2>/dev/null || echo "upload.sh: cannot reset VmHWM; the peak includes the start" >&2
rss_start=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")

now() { date +%s.%N; }
mbps() { python3 -c "print(f'{$bytes / 1e6 / ($2 - $1):.1f}')"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

upload_once() {
  local loc t0 t1 offset
  loc=$(curl -fs -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Tus-Resumable: 1.0.0' \
          -H "Upload-Length: $bytes" -H "Upload-Metadata: filename $(printf lesson.bin | base64)" \
          -X POST -D - -o /dev/null "$base/api/v1/uploads" | tr -d '\r' | sed -n 's/^Location: //p')
  [ -n "$loc" ] || die "creating the upload failed"
  t0=$(now)
  offset=$(curl -fs -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Tus-Resumable: 1.0.0' \
             -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' \
             -T "$file" -X PATCH -D - -o /dev/null "$base$loc" |
           tr -d '\r' | sed -n 's/^Upload-Offset: //p')
  t1=$(now)
  [ "$offset" = "$bytes" ] || die "the upload stopped at ${offset:-?} of $bytes bytes"
  curl -fs -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Tus-Resumable: 1.0.0' -X DELETE -o /dev/null "$base$loc"
  mbps "$t0" "$t1"
}

copy_once() {
  local t0 t1
  t0=$(now)
  cp "$file" "$dir/copy.bin"
  sync "$dir/copy.bin"
  t1=$(now)
  rm -f "$dir/copy.bin"
  mbps "$t0" "$t1"
}

up=() cp_=()
for i in $(seq 1 "$runs"); do
  cp_+=("$(copy_once)")
  up+=("$(upload_once)")
  echo "run $i: cp + fsync ${cp_[-1]} MB/s, upload ${up[-1]} MB/s" >&2
done
peak=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
cp_med=$(printf '%s\n' "${cp_[@]}" | median)
up_med=$(printf '%s\n' "${up[@]}" | median)
ratio=$(python3 -c "print(f'{$up_med / $cp_med:.2f}')")

echo "file:     $size_mb MB of random bytes, $runs runs each, median; disk of $dir: $(df -h "$dir" | awk 'NR==2 { print $1 }')"
echo "peer:     cp FILE COPY && sync COPY (coreutils $(cp --version | awk 'NR==1 { print $4 }'), defaults)"
echo "outpost:  tus POST + one PATCH with curl -T over loopback; the server fsyncs every 64 MiB and at the end"
echo "cp+fsync: $cp_med MB/s"
echo "upload:   $up_med MB/s"
echo "ratio:    ${ratio}x of cp + fsync (budget >= 0.5x): $(python3 -c "print('MET' if $ratio >= 0.5 else 'NOT MET')")"
echo "server:   peak RSS $((peak / 1024)) MB during the uploads (RSS $((rss_start / 1024)) MB before them; budget < 64 MB): $([ $((peak / 1024)) -lt 64 ] && echo MET || echo 'NOT MET')"
