#!/usr/bin/env bash
# import.sh: times `outpost import` on a generated ~1 GB school-library corpus (bench/make_corpus.py)
# against hashing the same files with b2sum, then a re-import of the unchanged corpus (which
# should make no new version) and an import of a mutated copy (a curriculum update touching ~3% of
# the files), and `outpost verify`. Builds nothing: it uses the outpost CLI of an existing build.
#
# Then the many-small-files case: a handbook of PAGES_FILES HTML pages of 5-50 KB in three
# languages (make_corpus.py --pages), imported into a fresh data directory and printed beside
# b2sum over the same files, with the budget: import at least 0.33x b2sum's MB/s (PASS/FAIL).
#
# Usage: bench/import.sh [--b2sum-only | --small-pages]
#   --b2sum-only   make the corpus and time b2sum only (no outpost binary needed)
#   --small-pages  run only the many-small-files case
#
# Environment:
#   OUTPOST_BUILD  build directory (default: build/release under the repository root; a relative
#                  path is taken from the repository root)
#   OUTPOST_BIN    the outpost CLI (default: $OUTPOST_BUILD/cli/outpost)
#   BENCH_DIR      cache directory for the corpora and the data directories (default:
#                  /tmp/outpost-bench); the data directories live there too, so that the import
#                  writes to the file system it reads from
#   CORPUS_MB      corpus size in MB (10^6 bytes; default 1000)
#   CORPUS_FILES   corpus file count (default 5000)
#   CORPUS_SEED    corpus seed (default 1)
#   PAGES_FILES    files of the many-small-files case (default 10000)
#   BENCH_RUNS     b2sum runs; the best one counts (default 3). Each import runs once.
#   KEEP_DATA=1    keep the data directory afterwards (its path is printed)
#
# The page cache is warmed by reading every file once (no cache dropping, no root needed), so
# both sides are timed reading from memory. Exit code 0 when everything ran, whatever the figures.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OUTPOST_BUILD:-build/release}
[[ $build = /* ]] || build=$repo_root/$build
outpost=${OUTPOST_BIN:-$build/cli/outpost}
bench_dir=${BENCH_DIR:-/tmp/outpost-bench}
corpus_mb=${CORPUS_MB:-1000}
corpus_files=${CORPUS_FILES:-5000}
seed=${CORPUS_SEED:-1}
runs=${BENCH_RUNS:-3}
make_corpus=$repo_root/bench/make_corpus.py

pages_files=${PAGES_FILES:-10000}
b2sum_only=0
small_only=0
case "${1:-}" in
  "") ;;
  --b2sum-only) b2sum_only=1 ;;
  --small-pages) small_only=1 ;;
  *) echo "usage: $0 [--b2sum-only | --small-pages]" >&2; exit 2 ;;
esac

die() { echo "import.sh: $*" >&2; exit 1; }
log() { echo "import.sh: $*" >&2; }

command -v python3 >/dev/null || die "python3 not found"
command -v b2sum >/dev/null || die "b2sum (coreutils) not found"
for v in corpus_mb corpus_files seed runs pages_files; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || die "$v must be a positive integer (got '${!v}')"
done
if (( ! b2sum_only )); then
  [[ -x $outpost ]] || die "no outpost CLI at $outpost; build it (ninja -C $build outpost), set
OUTPOST_BUILD or OUTPOST_BIN, or run with --b2sum-only"
fi

mkdir -p "$bench_dir"
bench_dir=$(cd "$bench_dir" && pwd)
tag=s$seed-${corpus_mb}mb-${corpus_files}f
# Both corpora are folders named "library" (and their outpost.toml names the channel), so the
# mutated one imports as a new version of the same channel.
corpus_root=$bench_dir/corpus-$tag
mutated_root=$bench_dir/mutated-$tag
corpus=$corpus_root/library
mutated=$mutated_root/library

need_space() {  # need_space BYTES: fail early rather than filling the disk
  local avail_kb
  avail_kb=$(df -Pk "$bench_dir" | awk 'NR == 2 { print $4 }')
  (( avail_kb * 1024 > $1 )) || die "not enough free space in $bench_dir (need about $(( $1 / 1000000 )) MB)"
}

# make_cached ROOT CMD...: runs CMD (which fills ROOT.tmp/library) unless ROOT is complete;
# ROOT appears only once CMD succeeded, so an interrupted run is redone, not reused.
make_cached() {
  local root=$1; shift
  [[ -d $root/library ]] && return 0
  rm -rf "$root.tmp"
  mkdir -p "$root.tmp"
  "$@"
  mv "$root.tmp" "$root"
}

gen_corpus() { python3 "$make_corpus" --out "$corpus_root.tmp/library" --size-mb "$corpus_mb" \
                 --files "$corpus_files" --seed "$seed" >&2; }
gen_mutated() {
  cp -a "$corpus" "$mutated_root.tmp/library"
  python3 "$make_corpus" --mutate "$mutated_root.tmp/library" --seed "$seed" >&2
}

if (( ! small_only )) && [[ ! -d $corpus ]]; then
  need_space $(( corpus_mb * 1000000 * 11 / 10 + 200000000 ))
  log "generating $corpus ..."
  make_cached "$corpus_root" gen_corpus
fi
if (( ! b2sum_only && ! small_only )) && [[ ! -d $mutated ]]; then
  need_space $(( corpus_mb * 1000000 * 11 / 10 + 200000000 ))
  log "making the mutated copy $mutated ..."
  make_cached "$mutated_root" gen_mutated
fi

# tree_stats DIR: "FILES BYTES" of the regular files under DIR, names starting with '.' left out
# (as the importer leaves them out).
tree_stats() {
  find "$1" -name '.*' -prune -o -type f -printf '%s\n' | awk '{ n++; s += $1 } END { printf "%d %d\n", n, s }'
}
warm() { find "$1" -type f -print0 | xargs -0 cat > /dev/null; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
mbps() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", n / 1e6 / s; else print "-" }'; }
json_get() {  # json_get FILE KEY: the value of a top-level key of the JSON object in FILE, or ""
  python3 - "$1" "$2" <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as f:
        value = json.load(f).get(sys.argv[2], "")
except (OSError, ValueError, AttributeError):
    value = ""
print(json.dumps(value) if isinstance(value, (dict, list, bool)) or value is None else value)
PY
}

# best_b2sum DIR: sets b2_best, the best wall seconds of $runs runs of b2sum over DIR's files.
best_b2sum() {
  local i t t0
  b2_best=""
  for (( i = 0; i < runs; i++ )); do
    t0=$(now)
    find "$1" -type f -print0 | xargs -0 b2sum > /dev/null
    t=$(elapsed "$t0" "$(now)")
    if [[ -z $b2_best ]] || awk -v t="$t" -v b="$b2_best" 'BEGIN { exit !(t < b) }'; then b2_best=$t; fi
  done
}
row() { printf '%-26s %9s %9s  %s\n' "$@"; }

data=""
work=$(mktemp -d "$bench_dir/logs.XXXXXX")
data_dirs=()
cleanup() {
  rm -rf "$work"
  local d
  for d in "${data_dirs[@]}"; do
    if [[ ${KEEP_DATA:-0} = 1 ]]; then log "data directory kept: $d"; else rm -rf "$d"; fi
  done
}
trap cleanup EXIT
# new_data: a new, empty data directory in $data, as on a newly set-up box.
new_data() {
  data=$(mktemp -d "$bench_dir/data.XXXXXX")
  data_dirs+=("$data")
}

# run_import NAME FOLDER: imports FOLDER into $data; sets last_s (wall seconds) and leaves the JSON
# in $work/NAME.json.
run_import() {
  local name=$1 folder=$2 t0 rc=0
  t0=$(now)
  "$outpost" import --data "$data" --json "$folder" > "$work/$name.json" 2> "$work/$name.err" || rc=$?
  last_s=$(elapsed "$t0" "$(now)")
  if (( rc != 0 )); then
    echo "import.sh: outpost import ($name) failed with exit code $rc; its stderr ends with:" >&2
    tail -n 20 "$work/$name.err" >&2
    exit 1
  fi
}

# notes NAME: the figures the importer reported, those that exist
notes() {
  local k v out=""
  for k in files bytes seconds version new_version new_blobs reused_blobs new_bytes new_chunks reused_chunks; do
    v=$(json_get "$work/$1.json" "$k")
    [[ -n $v ]] && out+="$k=$v "
  done
  echo "${out% }"
}

big_corpus_case() {
  read -r c_files c_bytes < <(tree_stats "$corpus")
  warm "$corpus"
  best_b2sum "$corpus"
  echo "corpus: $corpus ($c_files files, $c_bytes bytes; page cache warm)"
  row step seconds MB/s notes
  row "b2sum (best of $runs)" "$b2_best" "$(mbps "$c_bytes" "$b2_best")" "find | xargs -0 b2sum"
  (( b2sum_only )) && return 0
  need_space $(( c_bytes * 2 + 200000000 ))
  new_data
  warm "$corpus"
  run_import fresh "$corpus"
  fresh_s=$last_s
  row "import (fresh data dir)" "$fresh_s" "$(mbps "$c_bytes" "$fresh_s")" "$(notes fresh)"

  run_import again "$corpus"
  row "re-import (unchanged)" "$last_s" "$(mbps "$c_bytes" "$last_s")" "$(notes again)"

  read -r m_files m_bytes < <(tree_stats "$mutated")
  warm "$mutated"
  run_import mutated "$mutated"
  row "import (mutated copy)" "$last_s" "$(mbps "$m_bytes" "$last_s")" "$(notes mutated) [copy: $m_files files, $m_bytes bytes]"

  local t0 verify_s ratio name
  t0=$(now)
  verify_rc=0
  "$outpost" verify --data "$data" > "$work/verify.out" 2>&1 || verify_rc=$?
  verify_s=$(elapsed "$t0" "$(now)")
  row "verify" "$verify_s" "-" "exit code $verify_rc"

  ratio=$(awk -v i="$fresh_s" -v b="$b2_best" 'BEGIN { if (i > 0) printf "%.2f", b / i; else print "-" }')
  row "ratio import/b2sum" "$ratio" "" "(fresh import throughput over b2sum throughput)"
  for name in fresh again mutated; do
    echo "json $name: $(tr -d '\n' < "$work/$name.json")"
  done
  if (( verify_rc != 0 )); then
    echo "verify output (last lines):"
    tail -n 20 "$work/verify.out"
  fi
}

# The many-small-files case: a handbook of $pages_files pages of 5-50 KB, imported into a fresh
# data directory, beside b2sum over the same files (warm cache, same run).
small_pages_case() {
  local root=$bench_dir/pages-s$seed-${pages_files}f p_files p_bytes ratio verdict
  gen_pages() { python3 "$make_corpus" --pages "$root.tmp/library" --files "$pages_files" \
                  --seed "$seed" >&2; }
  if [[ ! -d $root/library ]]; then
    need_space $(( pages_files * 60000 + 100000000 ))
    log "generating $root/library ..."
    make_cached "$root" gen_pages
  fi
  read -r p_files p_bytes < <(tree_stats "$root/library")
  warm "$root/library"
  best_b2sum "$root/library"
  echo
  echo "small pages: $root/library ($p_files files, $p_bytes bytes; page cache warm)"
  row step seconds MB/s notes
  row "b2sum (best of $runs)" "$b2_best" "$(mbps "$p_bytes" "$b2_best")" "find | xargs -0 b2sum"
  (( b2sum_only )) && return 0
  need_space $(( p_bytes * 3 + 200000000 ))
  new_data
  warm "$root/library"
  run_import pages "$root/library"
  row "import (fresh data dir)" "$last_s" "$(mbps "$p_bytes" "$last_s")" "$(notes pages)"
  ratio=$(awk -v i="$last_s" -v b="$b2_best" 'BEGIN { if (i > 0) printf "%.2f", b / i; else print "0" }')
  verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.33) ? "PASS" : "FAIL" }')
  row "ratio import/b2sum" "$ratio" "" "budget >= 0.33: $verdict"
  echo "json pages: $(tr -d '\n' < "$work/pages.json")"
}

(( small_only )) || big_corpus_case
small_pages_case
