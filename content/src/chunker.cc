// FastCDC with normalized chunking, level 2.
//
// For each byte b the gear hash becomes (h << 1) + GEAR[b]; after shifting 64 times a byte has
// left the hash, so a boundary depends only on the last 64 bytes. A boundary falls after the
// byte where (h & mask) == 0. The masks take the hash's top bits (those that depend on the
// most bytes). Before avg_size the mask has log2(avg)+2 bits, after it log2(avg)-2 bits, which
// pulls chunk sizes towards the average ("normalized chunking"). Nothing is cut before
// min_size (and the gear hash starts there), and a chunk is always cut at max_size.
#include "outpost/content/chunker.h"

#include <bit>
#include <string>

namespace outpost {

namespace {

// SplitMix64 (Steele, Lea, Flood 2014): a fixed, portable source for the gear table.
constexpr uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr uint64_t kGearSeed = 0x4f7574706f737431ULL;  // "Outpost1" read as a big-endian integer

struct GearTableHolder {
  uint64_t table[256];
  constexpr GearTableHolder() : table() {
    uint64_t state = kGearSeed;
    for (auto& v : table) v = SplitMix64(&state);
  }
};

constexpr GearTableHolder kGear;

uint64_t TopBitsMask(int bits) {
  if (bits <= 0) return 0;
  if (bits >= 64) return ~0ULL;
  return ((1ULL << bits) - 1) << (64 - bits);
}

// Runs the gear hash over data[i, end) from *h and returns the index just after the first byte
// whose hash has (hash & mask) == 0, or `end` if there is none; *h is the hash at the returned
// index. The main loop takes four bytes per step: the hash after each of them is
//   h1 = (h << 1) + g0,  h2 = (h << 2) + t1,  h3 = (h << 3) + t2,  h4 = (h << 4) + t3
// with t1 = (g0 << 1) + g1, t2 = (t1 << 1) + g2, t3 = (t2 << 1) + g3, so the four values hang
// off h by one shift and one add each instead of forming a chain of four; same hashes, same
// boundaries, fewer instructions and a shorter dependency chain per byte.
inline size_t ScanGear(const uint8_t* data, size_t i, size_t end, uint64_t* h, uint64_t mask) {
  const uint64_t* gear = kGear.table;
  uint64_t x = *h;
  while (end - i >= 4) {
    const uint64_t g0 = gear[data[i]], g1 = gear[data[i + 1]], g2 = gear[data[i + 2]],
                   g3 = gear[data[i + 3]];
    const uint64_t t1 = (g0 << 1) + g1, t2 = (t1 << 1) + g2, t3 = (t2 << 1) + g3;
    const uint64_t h1 = (x << 1) + g0, h2 = (x << 2) + t1, h3 = (x << 3) + t2, h4 = (x << 4) + t3;
    if ((h1 & mask) == 0 || (h2 & mask) == 0 || (h3 & mask) == 0 || (h4 & mask) == 0) [[unlikely]] {
      if ((h1 & mask) == 0) { *h = h1; return i + 1; }
      if ((h2 & mask) == 0) { *h = h2; return i + 2; }
      if ((h3 & mask) == 0) { *h = h3; return i + 3; }
      *h = h4;
      return i + 4;
    }
    x = h4;
    i += 4;
  }
  while (i < end) {
    x = (x << 1) + gear[data[i++]];
    if ((x & mask) == 0) break;
  }
  *h = x;
  return i;
}

}  // namespace

const uint64_t* GearTable() { return kGear.table; }

Status ChunkerParams::Validate() const {
  if (min_size < 64 || min_size >= avg_size || avg_size >= max_size ||
      max_size > 64u * 1024 * 1024) {
    return InvalidArgument("chunk sizes must satisfy 64 <= min < avg < max <= 64 MiB (got " +
                           std::to_string(min_size) + " / " + std::to_string(avg_size) + " / " +
                           std::to_string(max_size) + ")");
  }
  return Status::Ok();
}

Chunker::Chunker(ChunkerParams params) : params_(params) {
  int bits = std::bit_width(params_.avg_size) - 1;  // log2, rounded down
  mask_small_ = TopBitsMask(bits + 2);
  mask_large_ = TopBitsMask(bits - 2);
}

void Chunker::Update(std::span<const uint8_t> data, std::vector<Chunk>* completed) {
  const size_t n = data.size();
  size_t start = 0;  // start in `data` of the bytes not yet given to hasher_
  size_t i = 0;
  while (i < n) {
    // Skip the bytes below min_size: no boundary may fall there.
    if (length_ < params_.min_size) {
      size_t skip = std::min<uint64_t>(params_.min_size - length_, n - i);
      i += skip;
      length_ += skip;
      continue;
    }
    // Scan with the strict mask up to avg_size, then with the loose one up to max_size. Each scan
    // is bounded up front, so the inner loop tests nothing but the mask.
    bool cut = false;
    const uint64_t limit_small = params_.avg_size, limit_max = params_.max_size;
    if (length_ < limit_small) {
      const size_t end = i + static_cast<size_t>(std::min<uint64_t>(n - i, limit_small - length_));
      const size_t j = ScanGear(data.data(), i, end, &gear_, mask_small_);
      cut = j > i && (gear_ & mask_small_) == 0;
      length_ += j - i;
      i = j;
    }
    if (!cut && i < n && length_ >= limit_small && length_ < limit_max) {
      const size_t end = i + static_cast<size_t>(std::min<uint64_t>(n - i, limit_max - length_));
      const size_t j = ScanGear(data.data(), i, end, &gear_, mask_large_);
      cut = j > i && (gear_ & mask_large_) == 0;
      length_ += j - i;
      i = j;
    }
    if (cut || length_ >= limit_max) {
      hasher_.Update(data.subspan(start, i - start));
      start = i;
      Emit(completed);
    }
  }
  if (start < n) hasher_.Update(data.subspan(start));
}

void Chunker::Finish(std::vector<Chunk>* completed) {
  if (length_ > 0) Emit(completed);
  offset_ = 0;
}

void Chunker::Emit(std::vector<Chunk>* completed) {
  Chunk c;
  c.offset = offset_;
  c.length = static_cast<uint32_t>(length_);
  c.hash = hasher_.Final();
  completed->push_back(c);
  offset_ += length_;
  length_ = 0;
  gear_ = 0;
  hasher_ = Hasher();
}

std::vector<Chunk> ChunkBuffer(std::span<const uint8_t> data, const ChunkerParams& params) {
  Chunker chunker(params);
  std::vector<Chunk> chunks;
  chunker.Update(data, &chunks);
  chunker.Finish(&chunks);
  return chunks;
}

}  // namespace outpost
