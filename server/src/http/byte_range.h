// ByteRange: what a `Range` request header asks of a resource of known size, decided once so
// that the status line, Content-Range, Content-Length and the bytes sent all agree.
//
// Only single byte ranges are honoured (RFC 9110 section 14):
//
//   header (size 100)      kind            first-last   answer
//   (none)                 kFull                        200, whole body
//   "bytes=10-19"          kPartial        10-19        206, Content-Range: bytes 10-19/100
//   "bytes=95-200"         kPartial        95-99        206 (last is clamped to size-1)
//   "bytes=90-"            kPartial        90-99        206
//   "bytes=-5"             kPartial        95-99        206 (the last 5 bytes)
//   "bytes=-500"           kPartial        0-99         206 (suffix longer than the file)
//   "bytes=100-"           kUnsatisfiable               416, Content-Range: bytes */100
//   "bytes=-0"             kUnsatisfiable               416
//   "bytes=0-1,5-6"        kFull                        200 (see below)
//   "bytes=5-1", "pages=1-2", "bytes=x-"   kFull        200 (malformed: ignored, RFC 9110 14.2)
//
// Several ranges in one header are answered with the whole resource (200). RFC 9110 allows a
// server to ignore Range; multipart/byteranges bodies are rare in practice (no browser media
// stack asks for them), cost a boundary and per-part headers to get right, and are a known
// amplification vector ("bytes=0-,0-,0-,..."). A whole 200 is always a correct answer.
//
// An empty resource (size 0) has no byte to point at: "bytes=N-" is unsatisfiable (416,
// "bytes */0"), and a suffix range "bytes=-N" (N > 0), which RFC 9110 calls satisfiable, is
// answered with the whole (empty) resource, since no Content-Range can describe zero bytes.
//
// The unit "bytes" is matched case-insensitively; spaces and tabs are allowed around '=', '-'
// and ','. Numbers too large for 64 bits saturate, which gives the right answer: a first
// position that large is past any end, a last position that large is clamped.
//
// Thread-safety: pure functions on plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace outpost {

struct ByteRange {
  enum class Kind {
    kFull,           // no Range, an ignored one (malformed, several ranges): send everything
    kPartial,        // send bytes first..last (inclusive) with 206
    kUnsatisfiable,  // 416 with "Content-Range: bytes */SIZE"
  };

  Kind kind = Kind::kFull;
  uint64_t first = 0;  // kPartial only
  uint64_t last = 0;   // kPartial only; inclusive, < size

  // Decides `header` (the Range field value; empty when absent) against a resource of `size`
  // bytes.
  static ByteRange Parse(std::string_view header, uint64_t size);

  // Bytes in the body: last - first + 1 for kPartial, `size` for kFull, 0 for kUnsatisfiable.
  uint64_t Length(uint64_t size) const;

  // The Content-Range value: "bytes 10-19/100" for kPartial, "bytes */100" for
  // kUnsatisfiable, empty for kFull.
  std::string ContentRange(uint64_t size) const;

  bool operator==(const ByteRange&) const = default;
};

}  // namespace outpost
