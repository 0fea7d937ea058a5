// The Noise record layer over a Link: see secure_channel.h.
#include "session/secure_channel.h"

namespace outpost::sync {

// ---- frames

Status WriteHandshakeFrame(Link* link, std::span<const uint8_t> message) {
  auto frame = noise::EncodeFrame(message);
  if (!frame) return frame.error();
  return link->Write(*frame);
}

Result<std::vector<uint8_t>> ReadHandshakeFrame(Link* link) {
  uint8_t header[2];
  OUTPOST_RETURN_IF_ERROR(link->ReadExact(header));
  size_t n = (size_t{header[0]} << 8) | header[1];
  std::vector<uint8_t> message(n);
  OUTPOST_RETURN_IF_ERROR(link->ReadExact(message));
  return message;
}

// ---- records

SecureChannel::SecureChannel(Link* link, noise::CipherState send, noise::CipherState receive,
                             uint64_t rekey_interval, size_t max_record)
    : link_(link),
      send_(std::move(send)),
      receive_(std::move(receive)),
      rekey_interval_(rekey_interval),
      max_record_(max_record) {}

Status SecureChannel::SealFrame(std::string_view plaintext) {
  if (rekey_interval_ > 0 && sent_messages_ > 0 && sent_messages_ % rekey_interval_ == 0) {
    OUTPOST_RETURN_IF_ERROR(send_.Rekey());
  }
  size_t at = out_wire_.size();
  out_wire_.resize(at + 2);
  OUTPOST_RETURN_IF_ERROR(send_.EncryptWithAd(
      {}, {reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size()}, &out_wire_));
  size_t sealed = out_wire_.size() - at - 2;
  out_wire_[at] = static_cast<uint8_t>(sealed >> 8);
  out_wire_[at + 1] = static_cast<uint8_t>(sealed);
  ++sent_messages_;
  return Status::Ok();
}

Status SecureChannel::Send(uint8_t type, std::string_view body) {
  if (body.size() > max_record_) return InvalidArgument("record too large to send");
  char header[5] = {static_cast<char>(type), static_cast<char>(body.size() >> 24),
                    static_cast<char>(body.size() >> 16), static_cast<char>(body.size() >> 8),
                    static_cast<char>(body.size())};
  out_plain_.append(header, 5);
  out_plain_.append(body);
  size_t used = 0;
  while (out_plain_.size() - used >= kMaxPlaintext) {
    OUTPOST_RETURN_IF_ERROR(SealFrame(std::string_view(out_plain_).substr(used, kMaxPlaintext)));
    used += kMaxPlaintext;
  }
  out_plain_.erase(0, used);
  // Keep the wire buffer bounded: a large record leaves as it is sealed.
  if (out_wire_.size() >= (1u << 20)) {
    OUTPOST_RETURN_IF_ERROR(link_->Write(out_wire_));
    out_wire_.clear();
  }
  return Status::Ok();
}

Status SecureChannel::Flush() {
  if (!out_plain_.empty()) {
    OUTPOST_RETURN_IF_ERROR(SealFrame(out_plain_));
    out_plain_.clear();
  }
  if (!out_wire_.empty()) {
    OUTPOST_RETURN_IF_ERROR(link_->Write(out_wire_));
    out_wire_.clear();
  }
  return Status::Ok();
}

Status SecureChannel::ReadFrame() {
  auto sealed = ReadHandshakeFrame(link_);
  if (!sealed) return sealed.error();
  if (rekey_interval_ > 0 && received_messages_ > 0 && received_messages_ % rekey_interval_ == 0) {
    OUTPOST_RETURN_IF_ERROR(receive_.Rekey());
  }
  std::vector<uint8_t> plain;
  Status st = receive_.DecryptWithAd({}, *sealed, &plain);
  if (!st.ok()) {
    return Status(StatusCode::kCorrupt,
                  "a frame from the peer failed authentication: its bytes were changed on the way "
                  "(a damaged or tampered link); nothing of it was kept");
  }
  ++received_messages_;
  in_plain_.append(reinterpret_cast<const char*>(plain.data()), plain.size());
  return Status::Ok();
}

Result<Record> SecureChannel::Receive() {
  while (in_plain_.size() < 5) OUTPOST_RETURN_IF_ERROR(ReadFrame());
  auto b = [&](size_t i) { return static_cast<uint8_t>(in_plain_[i]); };
  size_t length = (size_t{b(1)} << 24) | (size_t{b(2)} << 16) | (size_t{b(3)} << 8) | b(4);
  if (length > max_record_) {
    return Status(StatusCode::kCorrupt, "the peer sent a record of " + std::to_string(length) +
                                            " bytes, over the limit of " +
                                            std::to_string(max_record_));
  }
  while (in_plain_.size() < 5 + length) OUTPOST_RETURN_IF_ERROR(ReadFrame());
  Record record{b(0), in_plain_.substr(5, length)};
  in_plain_.erase(0, 5 + length);
  return record;
}

}  // namespace outpost::sync
