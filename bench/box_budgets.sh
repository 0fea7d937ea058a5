#!/usr/bin/env bash
# bench/box_budgets.sh: the box's budgets (issue 17), side by side with kiwix-serve serving a
# ZIM of the same pages, in the same run:
#   - start-up to the first answered request: under 1 s (amd64);
#   - idle memory (VmRSS, and PSS) with a library of 10,000 resources imported, after 30 pages
#     were opened and 10 s of rest: under 30 MB;
#   - the package's size and the binary's (stripped);
# then the same two figures for the arm64 binary under qemu-user-static, when build/arm64 has
# one (deploy/cross-arm64.sh --all): start-up is the emulator's (several times slower than a
# Pi), and VmRSS is the emulator's process, guest and translator together: an upper bound.
#
# Usage: bench/box_budgets.sh [--files N] [--runs N]    (defaults 10000 and 5)
# Environment: OUTPOST_BUILD (default build/release), OUTPOST_ARM64_BUILD (default build/arm64),
#   BENCH_DIR (default /tmp/outpost-bench: the pages, the data folder and the ZIM are kept).
# kiwix-serve runs at its defaults (--port and --address only), on a ZIM made by zimwriterfs
# from the same HTML pages and style sheets (deploy/install-deps.sh --bench installs both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
files=10000
runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --files) files=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: bench/box_budgets.sh [--files N] [--runs N]" >&2; exit 2 ;;
  esac
done
build=${OUTPOST_BUILD:-build/release}
arm64=${OUTPOST_ARM64_BUILD:-build/arm64}
bench_dir=${BENCH_DIR:-/tmp/outpost-bench}
outpost=$build/cli/outpost
pages=$bench_dir/box-pages-$files
data=$bench_dir/box-data-$files
zim=$bench_dir/box-pages-$files.zim
mkdir -p "$bench_dir"
[ -x "$outpost" ] || { echo "no $outpost: build it first (bench/README.md)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ''))" "$1" "$2"; }

if [ ! -f "$pages/outpost.toml" ]; then
  echo "== $files pages (bench/make_corpus.py --pages)"
  rm -rf "$pages"
  python3 bench/make_corpus.py --pages "$pages" --files "$files" >/dev/null
fi
if [ ! -f "$data/catalog.db" ]; then
  echo "== importing them"
  rm -rf "$data"
  "$outpost" import --data "$data" "$pages" >/dev/null
fi

# measure NAME RUNS URL FIRST_PAGE COMMAND...: start-up (to URL's first answer) and memory
# (after 30 pages from FIRST_PAGE) medians over RUNS starts.
declare -A START RSS PSS
measure() {
  local name=$1 n=$2 url=$3 first=$4
  shift 4
  local starts=() rsss=() psss=() out
  for _ in $(seq "$n"); do
    out=$(python3 bench/box_budgets.py "$url" 30 "$first" -- "$@")
    if [ -n "$(field "$out" error)" ]; then
      echo "$name: $(field "$out" error)" >&2
      return 1
    fi
    starts+=("$(field "$out" start_ms)")
    rsss+=("$(field "$out" rss_kb)")
    psss+=("$(field "$out" pss_kb)")
    echo "  $name: $out"
  done
  START[$name]=$(printf '%s\n' "${starts[@]}" | median)
  RSS[$name]=$(printf '%s\n' "${rsss[@]}" | median)
  PSS[$name]=$(printf '%s\n' "${psss[@]}" | median)
}

echo "== outpost serve ($runs starts)"
port=$(free_port)
measure outpost "$runs" "http://127.0.0.1:$port/" "http://127.0.0.1:$port/" \
  "$outpost" serve --data "$data" --listen "127.0.0.1:$port"

kiwix_note=""
if command -v kiwix-serve >/dev/null && command -v zimwriterfs >/dev/null; then
  if [ ! -f "$zim" ]; then
    echo "== the same pages as a ZIM (zimwriterfs)"
    zsrc=$bench_dir/box-zimsrc-$files
    rm -rf "$zsrc" && mkdir -p "$zsrc"
    (cd "$pages" && find . \( -name '*.html' -o -name '*.css' \) -exec cp --parents {} "$zsrc" \;)
    welcome=$(cd "$zsrc" && find . -name '*.html' | sort | sed -n '1s|^\./||p')
    python3 bench/zim_illustration.py "$zsrc/illustration.png"
    zimwriterfs --welcome="$welcome" --illustration=illustration.png --language=eng \
      --title="Box budgets" --description="bench/box_budgets.sh pages" --creator=Outpost \
      --publisher=Outpost --name=box-budgets "$zsrc" "$zim" >"$bench_dir/zimwriterfs.log" 2>&1
  fi
  echo "== kiwix-serve ($runs starts)"
  port=$(free_port)
  # Its home is the library's list; /BOOK (the ZIM's file name, kiwix-serve 3.3) leads to the
  # welcome page, whose links lead on.
  measure kiwix "$runs" "http://127.0.0.1:$port/" "http://127.0.0.1:$port/$(basename "$zim" .zim)" kiwix-serve --port "$port" --address 127.0.0.1 "$zim" ||
    kiwix_note="kiwix-serve did not answer"
else
  kiwix_note="kiwix-serve or zimwriterfs missing (deploy/install-deps.sh --bench)"
fi

if [ -x "$arm64/cli/outpost" ] && command -v qemu-aarch64-static >/dev/null; then
  echo "== arm64 outpost serve under qemu-aarch64-static ($runs starts)"
  port=$(free_port)
  measure arm64 "$runs" "http://127.0.0.1:$port/" "http://127.0.0.1:$port/" \
    qemu-aarch64-static "$arm64/cli/outpost" serve --data "$data" --listen "127.0.0.1:$port"
fi

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
verdict() { awk -v v="$1" -v max="$2" 'BEGIN { print (v < max) ? "ok" : "OVER" }'; }
echo
echo "Library: $files pages imported ($(du -sm "$data" | cut -f1) MB data folder); figures are medians of $runs starts."
printf '%-34s %12s %12s %10s   %s\n' "" outpost kiwix-serve "outpost/kiwix" budget
printf '%-34s %12s %12s %10s   %s\n' "start-up to first answer (ms)" "${START[outpost]}" "${START[kiwix]:--}" \
  "$(ratio "${START[outpost]}" "${START[kiwix]:-0}")" "< 1000: $(verdict "${START[outpost]}" 1000)"
printf '%-34s %12s %12s %10s   %s\n' "idle VmRSS after 30 pages (MB)" "$(mb "${RSS[outpost]}")" \
  "$( [ -n "${RSS[kiwix]:-}" ] && mb "${RSS[kiwix]}" || echo -)" "$(ratio "${RSS[outpost]}" "${RSS[kiwix]:-0}")" \
  "< 30: $(verdict "$(mb "${RSS[outpost]}")" 30)"
printf '%-34s %12s %12s %10s\n' "idle PSS (MB)" "$(mb "${PSS[outpost]}")" \
  "$( [ -n "${PSS[kiwix]:-}" ] && mb "${PSS[kiwix]}" || echo -)" "$(ratio "${PSS[outpost]}" "${PSS[kiwix]:-0}")"
[ -n "$kiwix_note" ] && echo "kiwix-serve: $kiwix_note"
if [ -n "${START[arm64]:-}" ]; then
  echo "arm64 under qemu-user: start-up ${START[arm64]} ms, VmRSS $(mb "${RSS[arm64]}") MB (emulator and guest together)"
fi
echo
binary=$(mktemp)
strip -o "$binary" "$outpost"
echo "outpost binary (amd64, stripped): $(stat -c %s "$binary") bytes"
rm -f "$binary"
if [ -x "$arm64/cli/outpost" ]; then
  binary=$(mktemp)
  aarch64-linux-gnu-strip -o "$binary" "$arm64/cli/outpost" 2>/dev/null &&
    echo "outpost binary (arm64, stripped): $(stat -c %s "$binary") bytes"
  rm -f "$binary"
fi
for deb in "$build"/outpost_*_amd64.deb "$arm64"/outpost_*_arm64.deb; do
  [ -f "$deb" ] && echo "package $(basename "$deb"): $(stat -c %s "$deb") bytes"
done
if ! ls "$build"/outpost_*_amd64.deb >/dev/null 2>&1; then
  echo "no package in $build: deploy/package.sh $build makes it"
fi
