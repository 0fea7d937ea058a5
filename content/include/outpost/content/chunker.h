// Chunker: FastCDC content-defined chunking with normalized chunking (Xia et al., USENIX ATC
// 2016), the basis of delta transfer. A chunk boundary depends only on the 64 bytes just before
// it and on its distance from the previous boundary, so inserting bytes near the start of a
// file moves the boundaries near the insertion and leaves later chunks as they were; the sync
// engine then sends only the new chunks. Specified byte for byte in docs/chunking.md.
//
// Boundaries are identical on every run and every machine: the gear table is a fixed table of
// 256 64-bit values derived from a constant seed by SplitMix64 (see docs/chunking.md), and the
// rolling hash consumes one byte at a time, so byte order never enters into it.
//
// Thread-safety: a Chunker is used by one thread at a time; ChunkerParams is a plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"

namespace outpost {

// The defaults are the chunk format: every box and the hub must use them (they are recorded
// nowhere), and changing them moves every boundary (docs/chunking.md pins them). 8/32/128 KiB
// gave the smallest sync update on the sync benchmark's corpus (1.068 MB against 1.139 MB at
// 16/64/256, +0.2% on an initial sync, same chunking speed): bench/README.md, chunk_sizes.sh;
// docs/decisions.md, 23.
struct ChunkerParams {
  uint32_t min_size = 8 * 1024;
  uint32_t avg_size = 32 * 1024;   // the mask widths use log2 rounded down; the switch
                                   // between them happens at avg_size itself
  uint32_t max_size = 128 * 1024;
  // OK when 64 <= min < avg < max <= 64 MiB.
  Status Validate() const;
};

struct Chunk {
  uint64_t offset = 0;
  uint32_t length = 0;
  Hash hash;
  bool operator==(const Chunk&) const = default;
};

// The fixed gear table (exposed for the documentation test that pins its first values).
const uint64_t* GearTable();

// Streaming chunker: feed the bytes of one file in pieces of any size; it reports each chunk
// (offset, length, BLAKE2b-256 hash) as soon as its boundary is known, and the last one at
// Finish(). It buffers nothing: the gear hash and the chunk's hash run incrementally, so the
// pieces' sizes never change the result.
class Chunker {
 public:
  explicit Chunker(ChunkerParams params = {});

  // Appends data; appends every chunk completed by it to *completed, in file order.
  void Update(std::span<const uint8_t> data, std::vector<Chunk>* completed);
  // Ends the input: emits the final (possibly short) chunk if any bytes remain, and resets the
  // chunker for a new file.
  void Finish(std::vector<Chunk>* completed);

  const ChunkerParams& params() const { return params_; }

 private:
  void Emit(std::vector<Chunk>* completed);

  ChunkerParams params_;
  uint64_t mask_small_;  // more bits: harder to match before avg_size
  uint64_t mask_large_;  // fewer bits: easier to match after avg_size
  uint64_t gear_ = 0;    // rolling gear hash of the chunk in progress
  uint64_t length_ = 0;  // bytes of the chunk in progress
  uint64_t offset_ = 0;  // file offset where the chunk in progress starts
  Hasher hasher_;        // BLAKE2b-256 of the chunk in progress
};

// Convenience: chunks and hashes a whole buffer.
std::vector<Chunk> ChunkBuffer(std::span<const uint8_t> data, const ChunkerParams& params = {});

}  // namespace outpost
