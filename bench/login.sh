#!/usr/bin/env bash
# login.sh: what one login costs with the Argon2id parameters chosen (decision 45: ops 3,
# 32 MiB, two at a time), through the real `POST /api/v1/login` over loopback, and what six at
# once cost (the fifth and sixth wait for a turn). Budget (issue #15): one login under 1 s.
#
# Usage: bench/login.sh
#   OUTPOST_BUILD / OUTPOST_BIN  the Release build / the CLI (default build/release/cli/outpost)
#   RUNS       sequential logins timed (default 20)
#   BENCH_DIR  scratch folder (default /tmp/outpost-bench/login)
#   PORT       the server's port on 127.0.0.1 (default 18094)
# Needs curl and python3 (benchmark only).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-$root/build/release}
outpost=${OUTPOST_BIN:-$build/cli/outpost}
runs=${RUNS:-20}
dir=${BENCH_DIR:-/tmp/outpost-bench/login}
port=${PORT:-18094}
base=http://127.0.0.1:$port

die() { echo "login.sh: $*" >&2; exit 1; }
[ -x "$outpost" ] || die "no outpost CLI at $outpost: build it (bench/README.md) or set OUTPOST_BIN"
command -v curl >/dev/null || die "needs curl"
rm -rf "$dir"
mkdir -p "$dir"
data=$dir/data
for name in amira bilal chadi dalia elias farah; do
  printf 'craie blanche 7\n' | "$outpost" users add --data "$data" --role teacher "$name" > /dev/null
done
"$outpost" serve --data "$data" --listen "127.0.0.1:$port" > "$dir/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  curl -fs -o /dev/null "$base/api/v1/home" && break
  sleep 0.1
done
curl -fs -o /dev/null "$base/api/v1/home" || die "the server did not start"

login() {  # prints the seconds one login took
  curl -fs -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' \
       -d "{\"name\":\"$1\",\"password\":\"craie blanche 7\"}" "$base/api/v1/login"
}
login amira > /dev/null  # the first one also makes the decoy hash
times=()
for _ in $(seq 1 "$runs"); do times+=("$(login amira)"); done
stats=$(printf '%s\n' "${times[@]}" | sort -n |
        awk '{ v[NR] = $1 } END { printf "median %.3f s, slowest %.3f s", v[int((NR + 1) / 2)], v[NR] }')
slowest=$(printf '%s\n' "${times[@]}" | sort -n | tail -1)
t0=$(date +%s.%N)
waiting=()
for name in amira bilal chadi dalia elias farah; do
  login "$name" > "$dir/at-once-$name" &
  waiting+=($!)
done
wait "${waiting[@]}"
t1=$(date +%s.%N)
six=$(python3 -c "print(f'{$t1 - $t0:.3f}')")

echo "parameters: Argon2id (libsodium crypto_pwhash_str), opslimit 3, memlimit 32 MiB, at most 2 at once (decision 45)"
echo "one login:  $stats over $runs logins (budget < 1 s): $(python3 -c "print('MET' if $slowest < 1 else 'NOT MET')")"
echo "six at once: all answered in $six s"
echo "server:     peak RSS $(( $(awk '/VmHWM/ { print $2 }' "/proc/$pid/status") / 1024 )) MB"
