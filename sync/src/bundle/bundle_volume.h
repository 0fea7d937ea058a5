// Private to sync/: one volume of a USB bundle (docs/bundle.md has the format byte for byte).
//
// A volume is a header in clear, naming the bundle, the volume's number, the sender and the
// recipients, with a fresh 32-byte stream key sealed to each recipient's X25519 key
// (crypto_box_seal) and signed by the sender's Ed25519 key; then frames of
// crypto_secretstream_xchacha20poly1305, each carrying one record (u8 type, body), with the
// header's hash as associated data; the last frame (tag FINAL) carries the sender's signature of
// the header hash and of every frame before it. Someone with the stick but without a
// recipient's key learns the keys named in the header and the sizes, nothing else.
//
// Reading stops at the first frame that does not verify (a truncated or damaged volume, a
// changed byte): the frames before it were authenticated by the stream key, and the caller keeps
// them; content itself is trusted only after its own checks (manifests against the trust list,
// chunks against their hashes), so a co-recipient who knows the stream key can add nothing
// false. The final signature proves the whole volume came from the sender as written.
//
// Thread-safety: a writer or a reader is used by one thread.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/env.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/sync/identity.h"

namespace outpost::sync {

inline constexpr uint16_t kVolumeFormat = 1;
// Format 2 is format 1 byte for byte; a bundle whose records an older reader would misread (a
// Basis record, bundle_records.h) is written as 2 so that such a reader refuses it.
inline constexpr uint16_t kNewestVolumeFormat = 2;
inline constexpr size_t kMaxVolumeRecipients = 1024;
inline constexpr size_t kMaxFramePlaintext = size_t{16} << 20;
inline constexpr uint8_t kEndRecord = 0xff;  // the final frame's record type

using BundleId = std::array<uint8_t, 16>;
std::string BundleIdHex(const BundleId& id);

struct VolumeHeader {
  BundleId bundle_id{};
  uint32_t volume = 0;        // 0, 1, 2, ... within the bundle
  PublicKey sender;           // the sender's node key (Ed25519)
  uint64_t created_at = 0;    // unix seconds
  std::vector<PublicKey> recipients;
  uint16_t format = kVolumeFormat;  // kVolumeFormat or kNewestVolumeFormat
};

// Writes one volume through `file` (the caller makes it durable and names it).
class VolumeWriter {
 public:
  // Writes the header: a fresh stream key sealed to each recipient, signed by `sender` (whose
  // key must be header.sender). kInvalidArgument for no recipient, too many, or one named twice.
  static Result<std::unique_ptr<VolumeWriter>> Start(const VolumeHeader& header,
                                                     const Identity& sender, WritableFile* file);
  ~VolumeWriter();

  // One frame carrying the record (type < kEndRecord, body at most kMaxFramePlaintext - 1).
  Status Add(uint8_t type, std::string_view body);
  // The final frame, with the signature. Nothing may be added afterwards.
  Status Finish();
  uint64_t bytes_written() const { return written_; }
  static constexpr size_t kFrameOverhead = 4 + crypto_secretstream_xchacha20poly1305_ABYTES + 1;

 private:
  VolumeWriter(const Identity& sender, WritableFile* file) : sender_(sender), file_(file) {}
  Status Frame(uint8_t type, std::string_view body, uint8_t tag);

  const Identity& sender_;
  WritableFile* file_;
  crypto_secretstream_xchacha20poly1305_state state_{};
  Hash header_hash_;
  Hasher transcript_;
  std::string plain_, sealed_;  // reused: a fresh quarter MiB per frame costs page faults
  uint64_t frames_ = 0;
  uint64_t written_ = 0;
  bool finished_ = false;
};

struct VolumeRecord {
  uint8_t type = 0;
  std::string body;
};

// Reads one volume from a file.
class VolumeReader {
 public:
  // Reads and checks the header: the format, the sender's signature, and that `self` is a
  // recipient (kNotFound otherwise, naming the recipients' fingerprints); opens the stream key.
  // kCorrupt for a damaged or forged header. The caller then decides whether it trusts
  // header().sender.
  static Result<std::unique_ptr<VolumeReader>> Open(const std::filesystem::path& path,
                                                    const Identity& self);
  ~VolumeReader();

  const VolumeHeader& header() const { return header_; }
  // The next record; nullopt once the final frame's signature has verified (and nothing
  // follows it). kCorrupt at the first damage: a truncation, a changed byte, a frame out of
  // order or from another volume, a bad final signature, or bytes after the end.
  Result<std::optional<VolumeRecord>> Next();
  uint64_t offset() const { return offset_; }  // bytes of the file read so far
  bool complete() const { return complete_; }

 private:
  VolumeReader() = default;
  Status ReadExact(std::span<uint8_t> out, const char* what);
  // The header's fields and recipients, its signature checked; returns the recipients' part of
  // it as read (each key and sealed stream key, then the stream header).
  Result<std::string> ReadHeader();
  // Opens the stream key sealed to `self` and begins the stream. kNotFound if `self` is not a
  // recipient.
  Status OpenStream(const Identity& self, std::string_view recipients);
  // The frame at byte `at`: its length field as read, its plaintext and its tag.
  Status ReadFrame(uint64_t at, std::array<uint8_t, 4>* length, std::string* plain, uint8_t* tag);
  // The final frame's body: the count of frames before it and the sender's signature of the
  // whole volume; and nothing after it.
  Status CheckEnd(std::string_view body);
  // Every later Next() fails too.
  Status Fail(Status st) {
    failed_ = true;
    return st;
  }

  int fd_ = -1;
  std::string sealed_;  // reused between frames
  std::string path_;
  VolumeHeader header_;
  crypto_secretstream_xchacha20poly1305_state state_{};
  Hash header_hash_;
  Hasher transcript_;
  uint64_t frames_ = 0;
  uint64_t offset_ = 0;
  bool complete_ = false;
  bool failed_ = false;
};

}  // namespace outpost::sync
