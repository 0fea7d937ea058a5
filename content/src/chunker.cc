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
  const uint64_t* gear = kGear.table;
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
    // Scan with the strict mask up to avg_size, then with the loose one up to max_size.
    bool cut = false;
    const uint64_t limit_small = params_.avg_size, limit_max = params_.max_size;
    uint64_t h = gear_, len = length_;
    while (i < n && len < limit_small) {
      h = (h << 1) + gear[data[i++]];
      ++len;
      if ((h & mask_small_) == 0) { cut = true; break; }
    }
    if (!cut) {
      while (i < n && len < limit_max && len >= limit_small) {
        h = (h << 1) + gear[data[i++]];
        ++len;
        if ((h & mask_large_) == 0) { cut = true; break; }
      }
    }
    gear_ = h;
    length_ = len;
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
