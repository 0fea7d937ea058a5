// Private to sync/: the building blocks of Outpost's canonical binary documents (trust lists,
// manifests, signed envelopes; docs/manifest.md). Integers are big-endian with explicit widths;
// a string is a u32 byte length and that many bytes of UTF-8; a hash or key is its raw bytes.
//
// WireWriter appends; it cannot fail. WireReader consumes a byte string front to back and
// checks every read against the bytes left, so a truncated or hostile document yields a
// kCorrupt Status naming the document, the byte offset and the field being read, never a read
// past the end.
//
// Thread-safety: plain values used by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/base/text.h"

namespace outpost::wire {

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { BigEndian(v, 2); }
  void U32(uint32_t v) { BigEndian(v, 4); }
  void U64(uint64_t v) { BigEndian(v, 8); }
  void Raw(std::string_view bytes) { out_.append(bytes); }
  void Raw(std::span<const uint8_t> bytes) {
    out_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  // u32 length, then the bytes. The caller keeps strings under 4 GiB (documents are far smaller).
  void String(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    Raw(s);
  }
  // u8 0, or u8 1 and the 32 bytes of the hash.
  void OptionalHash(const std::optional<Hash>& h) {
    U8(h ? 1 : 0);
    if (h) Raw(h->bytes);
  }

  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BigEndian(uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) U8(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::string out_;
};

class Reader {
 public:
  // `document` names what is read, for messages ("manifest", "trust list").
  Reader(std::string_view data, std::string document)
      : data_(data), document_(std::move(document)) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  // Words added after a field's name in messages, such as " of node \"fr/rain.html\"".
  void set_context(std::string context) { context_ = std::move(context); }

  Status Raw(size_t n, std::string_view* out, std::string_view what) {
    if (n > remaining()) return Truncated(what);
    *out = data_.substr(pos_, n);
    pos_ += n;
    return Status::Ok();
  }
  Status Raw(std::span<uint8_t> out, std::string_view what) {
    std::string_view bytes;
    OUTPOST_RETURN_IF_ERROR(Raw(out.size(), &bytes, what));
    __builtin_memcpy(out.data(), bytes.data(), out.size());
    return Status::Ok();
  }
  Status U8(uint8_t* v, std::string_view what) { return BigEndian(v, what); }
  Status U16(uint16_t* v, std::string_view what) { return BigEndian(v, what); }
  Status U32(uint32_t* v, std::string_view what) { return BigEndian(v, what); }
  Status U64(uint64_t* v, std::string_view what) { return BigEndian(v, what); }

  // A u8 that must be 0 or 1.
  Status Bool(bool* v, std::string_view what) {
    size_t at = pos_;
    uint8_t b = 0;
    OUTPOST_RETURN_IF_ERROR(U8(&b, what));
    if (b > 1) return Bad(at, Describe(what) + " is " + std::to_string(b) + ", not 0 or 1");
    *v = b == 1;
    return Status::Ok();
  }

  // A string of at most `max_bytes` bytes of well-formed UTF-8.
  Status String(std::string* out, size_t max_bytes, std::string_view what) {
    size_t at = pos_;
    uint32_t n = 0;
    OUTPOST_RETURN_IF_ERROR(U32(&n, what));
    if (n > max_bytes) {
      return Bad(at, Describe(what) + " claims " + std::to_string(n) + " bytes, more than the " +
                         std::to_string(max_bytes) + " allowed");
    }
    std::string_view bytes;
    OUTPOST_RETURN_IF_ERROR(Raw(n, &bytes, what));
    if (!IsValidUtf8(bytes)) return Bad(at, Describe(what) + " is not valid UTF-8");
    out->assign(bytes);
    return Status::Ok();
  }

  Status HashValue(Hash* out, std::string_view what) { return Raw(out->bytes, what); }

  Status OptionalHash(std::optional<Hash>* out, std::string_view what) {
    bool present = false;
    OUTPOST_RETURN_IF_ERROR(Bool(&present, what));  // "... is 2, not 0 or 1"
    if (!present) {
      out->reset();
      return Status::Ok();
    }
    Hash h;
    OUTPOST_RETURN_IF_ERROR(HashValue(&h, what));
    *out = h;
    return Status::Ok();
  }

  // Reads the 4-byte magic and the u16 format version and checks both.
  Status Header(std::string_view magic, uint16_t format) {
    return Header(magic, format, format, nullptr);
  }
  // The same for a document with several formats: one from `lowest` to `highest`, into `format`.
  Status Header(std::string_view magic, uint16_t lowest, uint16_t highest, uint16_t* format) {
    std::string_view got;
    OUTPOST_RETURN_IF_ERROR(Raw(magic.size(), &got, "magic"));
    if (got != magic) {
      return Bad(
          0, "it does not start with \"" + std::string(magic) + "\", so it is not a " + document_);
    }
    uint16_t version = 0;
    OUTPOST_RETURN_IF_ERROR(U16(&version, "format version"));
    if (version < lowest || version > highest) {
      std::string known = std::to_string(lowest);
      if (highest != lowest) known = "versions " + known + " to " + std::to_string(highest);
      else known = "version " + known;
      return Bad(magic.size(), "its format version is " + std::to_string(version) +
                                   "; this outpost reads " + known);
    }
    if (format) *format = version;
    return Status::Ok();
  }

  Status ExpectEnd() {
    if (remaining() == 0) return Status::Ok();
    return Bad(pos_, "it has " + std::to_string(remaining()) + " unexpected bytes after its end");
  }

  // A kCorrupt status about the field that starts at byte `at`: "manifest: <problem> (at byte
  // 57)".
  Status Bad(size_t at, const std::string& problem) const {
    return Corrupt(document_ + ": " + problem + " (at byte " + std::to_string(at) + ")");
  }

 private:
  Status Truncated(std::string_view what) const {
    return Corrupt(document_ + " is truncated: it ends at byte " + std::to_string(data_.size()) +
                   " while reading " + Describe(what));
  }

  std::string Describe(std::string_view what) const { return std::string(what) + context_; }

  template <typename T>
  Status BigEndian(T* v, std::string_view what) {
    if (sizeof(T) > remaining()) return Truncated(what);
    T x = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      x = static_cast<T>((x << 8) | static_cast<uint8_t>(data_[pos_ + i]));
    }
    pos_ += sizeof(T);
    *v = x;
    return Status::Ok();
  }

  std::string_view data_;
  size_t pos_ = 0;
  std::string document_;
  std::string context_;
};

}  // namespace outpost::wire
