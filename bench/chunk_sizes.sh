#!/usr/bin/env bash
# chunk_sizes.sh: runs bench/chunk_sizes on the sync benchmark's corpus (bench/make_sync_corpus.py:
# an old tree, a realistic update of it and a renames-and-moves-only version), so the chunker's
# sizes are chosen from the bytes an update costs: per parameter set, the chunks of the new tree,
# the chunks the old tree lacks (raw and zstd -3), the wire estimate by chunks alone and as the
# sync sends it (files <= 1 MiB at an existing path as zstd -19 patches), and the chunker's
# single-thread MB/s. Builds nothing.
#
# Usage: bench/chunk_sizes.sh [MIN/AVG/MAX ...]   (KiB; default 2/8/32 4/16/64 8/32/128
#                                                  16/64/256 32/128/512 64/256/1024)
#
# Environment:
#   OUTPOST_BUILD  build directory holding bench/chunk_sizes (default: build/release under the
#                  repository root; a relative path is taken from the repository root)
#   CHUNK_SIZES    the chunk_sizes binary itself (default: $OUTPOST_BUILD/bench/chunk_sizes)
#   BENCH_DIR      where the corpus is cached, shared with bench/sync.sh
#                  (default: /tmp/outpost-bench/sync)
#   CORPUS_SEED    corpus seed (default 1)
#   CORPUS_SCALE   shrink the corpus, 0 < scale <= 1 (default 1: ~300 MB); for trying the
#                  script, not for figures
#
# Making the corpus (once, about a minute) needs python3 and ffmpeg; bench/sync.sh makes the
# same one. Exit code 0 when it ran, whatever the figures.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-build/release}
[[ $build = /* ]] || build=$repo_root/$build
chunk_sizes=${CHUNK_SIZES:-$build/bench/chunk_sizes}
bench_dir=${BENCH_DIR:-/tmp/outpost-bench/sync}
seed=${CORPUS_SEED:-1}
scale=${CORPUS_SCALE:-1}
channel=bench-sync

die() { echo "chunk_sizes.sh: $*" >&2; exit 1; }

[[ -x $chunk_sizes ]] || die "no chunk_sizes at $chunk_sizes; build it with:
  cmake -S $repo_root -B $repo_root/build/release -G Ninja -DCMAKE_BUILD_TYPE=Release
  ninja -C $repo_root/build/release chunk_sizes
or set OUTPOST_BUILD / CHUNK_SIZES"
[[ $seed =~ ^[0-9]+$ ]] || die "CORPUS_SEED must be a non-negative integer (got '$seed')"

# The corpus, named as bench/sync.sh names it so both share one copy.
if [[ $scale = 1 || $scale =~ ^1\.0*$ ]]; then tag=s$seed; else tag=s$seed-x$scale; fi
corpus_root=$bench_dir/corpus-g2-$tag
if [[ ! -f $corpus_root/summary.txt ]]; then
  command -v python3 >/dev/null || die "python3 not found: the corpus needs it"
  command -v ffmpeg >/dev/null || die "ffmpeg not found: the corpus needs it (apt-get install ffmpeg)"
  mkdir -p "$bench_dir"
  echo "chunk_sizes.sh: generating the corpus in $corpus_root (about a minute; cached) ..." >&2
  rm -rf "$corpus_root" "$corpus_root.tmp"
  python3 "$repo_root/bench/make_sync_corpus.py" --out "$corpus_root.tmp" --seed "$seed" \
    --scale "$scale" >&2 || die "make_sync_corpus.py failed"
  mv "$corpus_root.tmp" "$corpus_root"
fi
old=$corpus_root/old/$channel
moves=$corpus_root/moves/$channel
new=$corpus_root/new/$channel
[[ -d $old && -d $moves && -d $new ]] || die "$corpus_root is incomplete; delete it to make it again"

# Warm the page cache, so the chunker's MB/s is CPU work, not the disk.
find "$old" "$moves" "$new" -type f -print0 | xargs -0 cat > /dev/null

echo "corpus: $corpus_root (load average $(cut -d' ' -f1-3 /proc/loadavg))"
"$chunk_sizes" "$old" "$new" --moves "$moves" "$@"
