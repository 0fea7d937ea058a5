// chunk_sizes: which FastCDC sizes make the smallest update? For one update of a channel (an OLD
// tree and a NEW one) and several ChunkerParams, it estimates the bytes Outpost's sync would put
// on the wire, so that the chunker's sizes are chosen from data rather than from habit (casync's
// 64 KiB default, say).
//
// The estimate follows the sync (sync/src/: the hub's offer and answers, the site's choice
// between a patch and chunks) without running it:
//   - the hub offers every file of NEW whose content OLD lacks, once per content, each with its
//     chunk list (36 bytes a chunk) and, when OLD has a file at the same path, that file's hash;
//   - the site asks for files of at most 1 MiB that have such a previous file as one patch: the
//     hub sends the smaller of zstd -19 against the previous file and zstd -19 of the file;
//   - of every other file the site asks for the chunks it holds nowhere (no file of OLD has a
//     chunk with that hash), each once; the hub sends each as its own zstd level 3 frame.
// Two estimates per parameter set: "chunk route", every file the site lacks by chunks, and
// "as sync", with the patch route applied; the second is the estimate of the update's bytes.
// Neither counts the handshake or the manifest, which do not depend on the chunk sizes. The same
// is printed for OLD -> MOVES (renames and moves only) and for the initial sync (nothing -> OLD),
// where many small chunks cost per-chunk framing and chunk lists.
//
// It also times the chunker (FastCDC boundaries and a BLAKE2b-256 hash per chunk, one thread)
// on every file of the trees, since a box must chunk everything it imports. The time is the
// thread's CPU time, so other work on the machine moves it less than it moves a wall clock.
//
// The workload: bench/make_sync_corpus.py's trees (~300 MB each, 1,700 files), read whole into
// memory one file at a time; warm the page cache first (bench/chunk_sizes.sh does). A run
// chunks each tree once per parameter set and compresses only the chunks and files that differ.
//
// Usage: chunk_sizes OLD NEW [--moves MOVES] [MIN/AVG/MAX ...]   (sizes in KiB; the default
//        sets are 2/8/32 4/16/64 8/32/128 16/64/256 32/128/512 64/256/1024)
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "outpost/content/chunker.h"
#include "outpost/base/hash.h"
#include "outpost/content/metadata.h"
#include "outpost/base/status.h"

namespace {

namespace fs = std::filesystem;
using outpost::Chunk;
using outpost::ChunkerParams;
using outpost::Hash;
using outpost::Result;
using outpost::Status;

// The sync's choices and its wire costs (sync/src/, protocol.cc for the record layouts).
constexpr uint64_t kPatchMaxSize = 1u << 20;  // larger files never go as patches
constexpr int kChunkLevel = 3;                // SessionLimits::zstd_level
constexpr int kPatchLevel = 19;
constexpr uint64_t kChunkRequestBytes = 32;   // the chunk's hash in a GetChunks record
constexpr uint64_t kChunkAnswerBytes = 45;    // hash, length, record header, frame share
constexpr uint64_t kPatchRequestBytes = 69;   // file and previous hashes, record header
constexpr uint64_t kPatchAnswerBytes = 82;    // both hashes, kind, size, record header, frame share
constexpr uint64_t kOfferFileBytes = 45;      // hash, size, previous flag, chunk count
constexpr uint64_t kOfferPreviousBytes = 32;  // the previous file's hash, when there is one
constexpr uint64_t kOfferChunkBytes = 36;     // hash and length of each chunk

struct File {
  std::string path;  // relative to the tree's root
  fs::path full;
  uint64_t size = 0;
  Hash blob;
};
using Tree = std::vector<File>;  // sorted by path

// A file of the target tree whose content the old tree lacks (one per content).
struct Lacking {
  const File* file = nullptr;
  bool has_previous = false;            // the old tree has a file at the same path
  std::optional<uint64_t> patch_bytes;  // on the wire, framing included, if it goes as a patch
};

// One parameter set against one update.
struct Row {
  uint64_t chunks = 0;  // of the target tree, every file
  uint64_t bytes = 0;
  uint64_t missing = 0;  // chunk route: chunks of lacking files that the old tree lacks
  uint64_t missing_raw = 0;
  uint64_t missing_zstd = 0;  // each chunk its own zstd -3 frame
  uint64_t offer = 0;         // offer entries of the lacking files, chunk lists included
  uint64_t chunk_wire = 0;
  uint64_t fetched = 0;  // as sync: chunks of files that do not go as patches
  uint64_t sync_wire = 0;
};

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Result<std::string> ReadFile(const fs::path& path, uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  std::string data(size, '\0');
  if (!in.read(data.data(), static_cast<std::streamsize>(size)) || in.peek() != EOF) {
    return outpost::IoError("cannot read " + path.string() + " (or its size changed)");
  }
  return data;
}

// Regular files under root that an import makes blobs of: hidden names (starting with '.') and
// the folders' outpost.toml metadata left out.
Result<Tree> LoadTree(const fs::path& root) {
  std::error_code ec;
  Tree tree;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with('.')) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || it->path().filename() == outpost::kMetadataFileName) continue;
    const uint64_t size = it->file_size(ec);
    if (ec) break;
    tree.push_back({it->path().lexically_relative(root).string(), it->path(), size, {}});
  }
  if (ec) return outpost::IoError("listing " + root.string() + ": " + ec.message());
  std::sort(tree.begin(), tree.end(), [](const File& a, const File& b) { return a.path < b.path; });
  for (File& f : tree) {
    auto data = ReadFile(f.full, f.size);
    if (!data) return data.error();
    f.blob = Hash::Of(*data);
  }
  return tree;
}

struct ZstdFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
using ZstdContext = std::unique_ptr<ZSTD_CCtx, ZstdFree>;

// Compressed size of data as the hub compresses it (ZstdCompress in sync/src/): with a prefix,
// a window covering prefix and data and long-distance matching.
uint64_t ZstdSize(ZSTD_CCtx* cctx, std::string_view data, int level, std::string_view prefix = {}) {
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (!prefix.empty()) {
    int window_log = 10;
    while (window_log < 30 && (size_t{1} << window_log) < prefix.size() + data.size()) ++window_log;
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, window_log);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_enableLongDistanceMatching, 1);
    ZSTD_CCtx_refPrefix(cctx, prefix.data(), prefix.size());
  }
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
  return ZSTD_isError(n) ? data.size() : n;
}

// The files of `target` the site lacks after holding `old`, and the patch of each that the sync
// would send as one (independent of the chunk sizes, so computed once).
Result<std::vector<Lacking>> PlanUpdate(const Tree& old, const Tree& target, ZSTD_CCtx* cctx) {
  std::unordered_set<Hash> old_blobs, seen;
  std::map<std::string_view, const File*> old_by_path;
  for (const File& f : old) {
    old_blobs.insert(f.blob);
    old_by_path.emplace(f.path, &f);
  }
  std::vector<Lacking> out;
  for (const File& f : target) {
    if (old_blobs.count(f.blob) || !seen.insert(f.blob).second) continue;
    Lacking l{&f, false, std::nullopt};
    auto previous = old_by_path.find(f.path);
    l.has_previous = previous != old_by_path.end();
    if (l.has_previous && f.size <= kPatchMaxSize) {
      auto fresh = ReadFile(f.full, f.size);
      auto prior = ReadFile(previous->second->full, previous->second->size);
      if (!fresh) return fresh.error();
      if (!prior) return prior.error();
      uint64_t patch = std::min(ZstdSize(cctx, *fresh, kPatchLevel, *prior),
                                ZstdSize(cctx, *fresh, kPatchLevel));
      l.patch_bytes = kPatchRequestBytes + kPatchAnswerBytes + patch;
    }
    out.push_back(l);
  }
  return out;
}

double ThreadSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Every file of a tree chunked with one parameter set; the chunker's time alone is counted.
struct ChunkedTree {
  std::vector<std::vector<Chunk>> chunks;  // per file, in the tree's order
  uint64_t bytes = 0;
  double seconds = 0;
};

Result<ChunkedTree> ChunkTree(const Tree& tree, const ChunkerParams& params) {
  ChunkedTree out;
  for (const File& f : tree) {
    auto data = ReadFile(f.full, f.size);
    if (!data) return data.error();
    const double start = ThreadSeconds();
    out.chunks.push_back(outpost::ChunkBuffer(Bytes(*data), params));
    out.seconds += ThreadSeconds() - start;
    out.bytes += f.size;
  }
  return out;
}

std::unordered_set<Hash> ChunkHashes(const ChunkedTree& tree) {
  std::unordered_set<Hash> out;
  for (const auto& file : tree.chunks) {
    for (const Chunk& c : file) out.insert(c.hash);
  }
  return out;
}

// Compressed sizes of the chunks that `old_chunks` lacks, for each lacking file: hash -> size.
Result<std::unordered_map<Hash, uint64_t>> CompressMissing(
    const Tree& target, const ChunkedTree& chunked, const std::vector<Lacking>& lacking,
    const std::unordered_set<Hash>& old_chunks, ZSTD_CCtx* cctx) {
  std::unordered_map<Hash, uint64_t> out;
  for (const Lacking& l : lacking) {
    const auto& chunks = chunked.chunks[static_cast<size_t>(l.file - target.data())];
    std::optional<std::string> data;
    for (const Chunk& c : chunks) {
      if (old_chunks.count(c.hash) || out.count(c.hash)) continue;
      if (!data) {
        auto read = ReadFile(l.file->full, l.file->size);
        if (!read) return read.error();
        data = std::move(*read);
      }
      out[c.hash] = ZstdSize(cctx, std::string_view(*data).substr(c.offset, c.length), kChunkLevel);
    }
  }
  return out;
}

Row Estimate(const Tree& target, const ChunkedTree& chunked, const std::vector<Lacking>& lacking,
             const std::unordered_set<Hash>& old_chunks,
             const std::unordered_map<Hash, uint64_t>& compressed) {
  Row row;
  for (const auto& file : chunked.chunks) row.chunks += file.size();
  row.bytes = chunked.bytes;
  std::unordered_set<Hash> asked, asked_by_sync;
  uint64_t sync_chunks = 0, patches = 0;
  for (const Lacking& l : lacking) {
    const auto& chunks = chunked.chunks[static_cast<size_t>(l.file - target.data())];
    row.offer += kOfferFileBytes + (l.has_previous ? kOfferPreviousBytes : 0) +
                 kOfferChunkBytes * chunks.size();
    if (l.patch_bytes) patches += *l.patch_bytes;
    for (const Chunk& c : chunks) {
      if (old_chunks.count(c.hash)) continue;
      const uint64_t frame = compressed.at(c.hash) + kChunkRequestBytes + kChunkAnswerBytes;
      if (asked.insert(c.hash).second) {
        ++row.missing;
        row.missing_raw += c.length;
        row.missing_zstd += compressed.at(c.hash);
      }
      if (!l.patch_bytes && asked_by_sync.insert(c.hash).second) {
        ++row.fetched;
        sync_chunks += frame;
      }
    }
  }
  row.chunk_wire =
      row.missing_zstd + row.missing * (kChunkRequestBytes + kChunkAnswerBytes) + row.offer;
  row.sync_wire = patches + sync_chunks + row.offer;
  return row;
}

std::string SetName(const ChunkerParams& p) {
  return std::to_string(p.min_size / 1024) + "/" + std::to_string(p.avg_size / 1024) + "/" +
         std::to_string(p.max_size / 1024);
}

void PrintHeader(const char* title, const Tree& target, const std::vector<Lacking>& lacking) {
  uint64_t patch_files = 0, patch_bytes = 0, lacking_bytes = 0;
  for (const Lacking& l : lacking) {
    lacking_bytes += l.file->size;
    if (!l.patch_bytes) continue;
    ++patch_files;
    patch_bytes += *l.patch_bytes;
  }
  std::printf(
      "\n%s: %zu files; the site lacks %zu of them (%llu bytes), %llu of which go as\n"
      "patches (%llu bytes on the wire with framing, the same for every set)\n",
      title, target.size(), lacking.size(), static_cast<unsigned long long>(lacking_bytes),
      static_cast<unsigned long long>(patch_files), static_cast<unsigned long long>(patch_bytes));
  std::printf("%-14s %8s %8s | %7s %10s %10s %8s %11s | %7s %10s\n", "min/avg/max", "chunks",
              "mean B", "missing", "raw B", "zstd-3 B", "offer B", "chunk route", "fetched",
              "as sync");
}

void PrintRow(const ChunkerParams& p, const Row& r) {
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  const double mean = r.chunks ? static_cast<double>(r.bytes) / static_cast<double>(r.chunks) : 0;
  std::printf("%-14s %8llu %8.0f | %7llu %10llu %10llu %8llu %11llu | %7llu %10llu\n",
              SetName(p).c_str(), u(r.chunks), mean, u(r.missing), u(r.missing_raw),
              u(r.missing_zstd), u(r.offer), u(r.chunk_wire), u(r.fetched), u(r.sync_wire));
}

// "16/64/256" in KiB.
std::optional<ChunkerParams> ParseSet(std::string_view text) {
  uint32_t v[3] = {0, 0, 0};
  int part = 0;
  for (char c : text) {
    if (c == '/' && part < 2) {
      ++part;
    } else if (c >= '0' && c <= '9' && v[part] < 1024 * 1024) {
      v[part] = v[part] * 10 + static_cast<uint32_t>(c - '0');
    } else {
      return std::nullopt;
    }
  }
  if (part != 2) return std::nullopt;
  ChunkerParams p{v[0] * 1024, v[1] * 1024, v[2] * 1024};
  if (!p.Validate().ok()) return std::nullopt;
  return p;
}

struct Options {
  fs::path old_root, new_root;
  std::optional<fs::path> moves_root;
  std::vector<ChunkerParams> sets;
};

std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  std::vector<std::string_view> trees;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--moves" && i + 1 < argc) {
      o.moves_root = argv[++i];
    } else if (!arg.starts_with('-') && trees.size() < 2) {
      trees.push_back(arg);
    } else if (auto set = ParseSet(arg)) {
      o.sets.push_back(*set);
    } else {
      std::fprintf(stderr,
                   "chunk_sizes: bad argument '%s' (a parameter set is MIN/AVG/MAX in KiB"
                   " with 64 B <= MIN < AVG < MAX <= 64 MiB)\n",
                   argv[i]);
      return std::nullopt;
    }
  }
  if (trees.size() != 2) return std::nullopt;
  o.old_root = trees[0];
  o.new_root = trees[1];
  if (o.sets.empty()) {
    for (uint32_t avg : {8, 16, 32, 64, 128, 256})
      o.sets.push_back({avg * 256, avg * 1024, avg * 4096});
  }
  return o;
}

// One update: its lacking files, then a row per parameter set.
struct Update {
  const char* title;
  const Tree* from;  // what the site holds
  const Tree* target;
  std::vector<Lacking> lacking;
  std::vector<Row> rows;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "chunk_sizes: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = ParseArgs(argc, argv);
  if (!options) {
    std::fprintf(stderr, "usage: %s OLD NEW [--moves MOVES] [MIN/AVG/MAX ...]  (sizes in KiB)\n",
                 argv[0]);
    return 2;
  }
  if (!outpost::InitCrypto()) return Fail(outpost::Internal("libsodium could not initialise"));
  ZstdContext cctx(ZSTD_createCCtx());

  auto old_tree = LoadTree(options->old_root);
  if (!old_tree) return Fail(old_tree.error());
  auto new_tree = LoadTree(options->new_root);
  if (!new_tree) return Fail(new_tree.error());
  Result<Tree> moves_tree = Tree{};
  if (options->moves_root) moves_tree = LoadTree(*options->moves_root);
  if (!moves_tree) return Fail(moves_tree.error());

  const Tree nothing;
  std::vector<Update> updates;
  updates.push_back({"update, old -> new", &*old_tree, &*new_tree, {}, {}});
  if (options->moves_root) {
    updates.push_back({"renames and moves, old -> moves", &*old_tree, &*moves_tree, {}, {}});
  }
  updates.push_back({"initial sync, nothing -> old", &nothing, &*old_tree, {}, {}});
  for (Update& u : updates) {
    auto lacking = PlanUpdate(*u.from, *u.target, cctx.get());
    if (!lacking) return Fail(lacking.error());
    u.lacking = std::move(*lacking);
  }

  struct Speed {
    uint64_t bytes = 0;
    double seconds = 0;
  };
  std::vector<Speed> speed;  // per set
  for (const ChunkerParams& params : options->sets) {
    std::fprintf(stderr, "chunk_sizes: chunking with %s KiB ...\n", SetName(params).c_str());
    auto old_chunked = ChunkTree(*old_tree, params);
    if (!old_chunked) return Fail(old_chunked.error());
    const std::unordered_set<Hash> old_chunks = ChunkHashes(*old_chunked), no_chunks;
    uint64_t bytes = old_chunked->bytes;
    double seconds = old_chunked->seconds;
    for (Update& u : updates) {
      const bool is_old = u.target == &*old_tree;  // chunked already
      auto chunked = is_old ? *old_chunked : ChunkTree(*u.target, params);
      if (!chunked) return Fail(chunked.error());
      const auto& held = u.from == &*old_tree ? old_chunks : no_chunks;
      auto compressed = CompressMissing(*u.target, *chunked, u.lacking, held, cctx.get());
      if (!compressed) return Fail(compressed.error());
      u.rows.push_back(Estimate(*u.target, *chunked, u.lacking, held, *compressed));
      if (is_old) continue;
      bytes += chunked->bytes;
      seconds += chunked->seconds;
    }
    speed.push_back({bytes, seconds});
  }

  std::printf(
      "sizes in KiB, bytes in bytes; the wire estimates leave out the handshake and the\n"
      "manifest, which do not depend on the chunk sizes\n");
  for (const Update& u : updates) {
    PrintHeader(u.title, *u.target, u.lacking);
    for (size_t i = 0; i < options->sets.size(); ++i) PrintRow(options->sets[i], u.rows[i]);
  }
  std::printf(
      "\nchunker, one thread: FastCDC + BLAKE2b-256 of every chunk, CPU seconds over every\n"
      "file of the trees (MB = 10^6 bytes)\n%-14s %10s %8s\n",
      "min/avg/max", "MB", "MB/s");
  for (size_t i = 0; i < options->sets.size(); ++i) {
    const double mb = static_cast<double>(speed[i].bytes) / 1e6;
    std::printf("%-14s %10.1f %8.1f\n", SetName(options->sets[i]).c_str(), mb,
                speed[i].seconds > 0 ? mb / speed[i].seconds : 0);
  }
  return 0;
}
