// chunk_bench: measures the throughput of outpost::Chunker (FastCDC boundaries plus a
// BLAKE2b-256 hash of every chunk) on one file, read in 1 MiB pieces with read(2), the way the
// importer reads files. Prints one JSON object on stdout:
//
//   {"bytes":..,"seconds":..,"mb_per_s":..,"chunks":..,"mean_chunk":..,
//    "min_size":..,"avg_size":..,"max_size":..}
//
// MB = 10^6 bytes. The time covers the reads and the chunking (as `b2sum FILE` covers its reads
// and its hashing), so warm the page cache first (bench/chunker.sh does).
//
// Usage: chunk_bench FILE [--min N] [--avg N] [--max N]
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/content/chunker.h"
#include "outpost/base/hash.h"

namespace {

constexpr size_t kPieceSize = 1 << 20;  // 1 MiB

int Usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s FILE [--min N] [--avg N] [--max N]\n", argv0);
  return 2;
}

bool ParseSize(std::string_view text, uint32_t* out) {
  if (text.empty()) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > UINT32_MAX) return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = nullptr;
  outpost::ChunkerParams params;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    uint32_t* target = nullptr;
    if (arg == "--min") target = &params.min_size;
    else if (arg == "--avg") target = &params.avg_size;
    else if (arg == "--max") target = &params.max_size;
    else if (arg == "-h" || arg == "--help") {
      Usage(argv[0]);
      return 0;
    }
    else if (!arg.empty() && arg[0] == '-') return Usage(argv[0]);
    else if (path == nullptr) path = argv[i];
    else return Usage(argv[0]);
    if (target != nullptr) {
      if (i + 1 >= argc || !ParseSize(argv[i + 1], target)) {
        std::fprintf(stderr, "chunk_bench: %s needs a size in bytes\n", argv[i]);
        return 2;
      }
      ++i;
    }
  }
  if (path == nullptr) return Usage(argv[0]);
  if (outpost::Status s = params.Validate(); !s.ok()) {
    std::fprintf(stderr, "chunk_bench: %s\n", s.message().c_str());
    return 2;
  }
  // Without sodium_init() libsodium keeps its portable BLAKE2b compression function instead of
  // the AVX2/SSE4.1 one picked for this CPU.
  if (!outpost::InitCrypto()) {
    std::fprintf(stderr, "chunk_bench: libsodium could not initialise\n");
    return 1;
  }

  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "chunk_bench: %s: %s\n", path, std::strerror(errno));
    return 1;
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  std::unique_ptr<uint8_t[]> buffer(new uint8_t[kPieceSize]);
  outpost::Chunker chunker(params);
  std::vector<outpost::Chunk> chunks;
  chunks.reserve(1024);
  uint64_t bytes = 0, chunk_count = 0, chunked_bytes = 0;
  auto collect = [&] {
    for (const auto& c : chunks) chunked_bytes += c.length;
    chunk_count += chunks.size();
    chunks.clear();
  };

  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    ssize_t got = ::read(fd, buffer.get(), kPieceSize);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "chunk_bench: %s: %s\n", path, std::strerror(errno));
      ::close(fd);
      return 1;
    }
    if (got == 0) break;
    bytes += static_cast<uint64_t>(got);
    chunker.Update({buffer.get(), static_cast<size_t>(got)}, &chunks);
    collect();
  }
  chunker.Finish(&chunks);
  collect();
  const auto stop = std::chrono::steady_clock::now();
  ::close(fd);

  if (chunked_bytes != bytes) {
    std::fprintf(stderr, "chunk_bench: chunks cover %llu bytes, file has %llu\n",
                 static_cast<unsigned long long>(chunked_bytes),
                 static_cast<unsigned long long>(bytes));
    return 1;
  }
  const double seconds = std::chrono::duration<double>(stop - start).count();
  const double mb_per_s = seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0.0;
  const double mean_chunk =
      chunk_count > 0 ? static_cast<double>(bytes) / static_cast<double>(chunk_count) : 0.0;
  std::printf(
      "{\"bytes\":%llu,\"seconds\":%.6f,\"mb_per_s\":%.1f,\"chunks\":%llu,\"mean_chunk\":%.1f,"
      "\"min_size\":%u,\"avg_size\":%u,\"max_size\":%u}\n",
      static_cast<unsigned long long>(bytes), seconds, mb_per_s,
      static_cast<unsigned long long>(chunk_count), mean_chunk, params.min_size,
      params.avg_size, params.max_size);
  return 0;
}
