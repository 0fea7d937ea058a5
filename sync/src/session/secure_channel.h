// SecureChannel: the Noise transport over a Link (docs/sync-protocol.md, "Frames and records").
//
// Frames of a 2-byte big-endian length and a Noise message (at most 65535 bytes), and inside
// the encrypted stream, records of
//   u8 type, u32 big-endian length, body
// which may span frames. Each direction rekeys (Noise Rekey()) after every `rekey_interval`
// messages it sends or receives, counted from the split, so long sessions never use one key
// for too much data. The handshake's messages travel as the same frames, in clear
// (WriteHandshakeFrame, ReadHandshakeFrame).
//
// Thread-safety: none; the session's thread, as its Link.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/status.h"
#include "outpost/sync/noise.h"
#include "session/link.h"

namespace outpost::sync {

struct Record {
  uint8_t type = 0;
  std::string body;
};

class SecureChannel {
 public:
  static constexpr size_t kMaxPlaintext = noise::kMaxMessageSize - noise::kTagSize;

  // `send` encrypts what this side sends, `receive` decrypts what it receives.
  SecureChannel(Link* link, noise::CipherState send, noise::CipherState receive,
                uint64_t rekey_interval, size_t max_record);

  // Queues a record; Flush() sends everything queued (full frames leave as soon as they fill).
  Status Send(uint8_t type, std::string_view body);
  Status Flush();
  // The next record (reading frames as needed). A record over max_record is refused, and so is
  // a frame that fails authentication (kCorrupt).
  Result<Record> Receive();

  Link* link() { return link_; }

 private:
  Status SealFrame(std::string_view plaintext);
  Status ReadFrame();

  Link* link_;
  noise::CipherState send_, receive_;
  uint64_t rekey_interval_;
  size_t max_record_;
  uint64_t sent_messages_ = 0, received_messages_ = 0;
  std::string out_plain_;
  std::vector<uint8_t> out_wire_;
  std::string in_plain_;
};

// A whole handshake message as a frame; and reading one.
Status WriteHandshakeFrame(Link* link, std::span<const uint8_t> message);
Result<std::vector<uint8_t>> ReadHandshakeFrame(Link* link);

}  // namespace outpost::sync
