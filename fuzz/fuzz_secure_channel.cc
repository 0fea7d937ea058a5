// The transport after the handshake (SecureChannel::Receive): frames of a 2-byte length and a
// ChaCha20-Poly1305 message, carrying records of u8 type, u32 length, body that may span frames.
//
// The first byte picks the receiver's rekey interval (1 to 4 frames) and whether the rest is
// fed as it is (raw wire bytes: lengths and authentication) or as plaintexts the harness seals
// with the sender's key, rekeying as the sender does: a u16 big-endian length, then that many
// plaintext bytes, repeated. Sealed, the fuzzer reaches the record layer behind the AEAD.
// Records come out in order, none over the limit, their bodies never more than the plaintext.
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "outpost/sync/noise.h"
#include "session/link.h"
#include "session/secure_channel.h"

using namespace outpost;
using namespace outpost::fuzz;
using outpost::sync::SecureChannel;

namespace {

constexpr size_t kMaxRecord = 1 << 16;

// A link that reads the given bytes and then reports the peer gone.
class BufferLink : public sync::Link {
 public:
  explicit BufferLink(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  Status Write(std::span<const uint8_t>) override { return Status::Ok(); }
  Status ReadExact(std::span<uint8_t> out) override {
    if (bytes_.size() - at_ < out.size()) return Status(StatusCode::kIoError, "peer closed");
    if (out.empty()) return Status::Ok();
    std::memcpy(out.data(), bytes_.data() + at_, out.size());
    at_ += out.size();
    return Status::Ok();
  }
  void Close() override {}
  void Linger(std::chrono::milliseconds) override {}
  void set_deadline(sync::Clock::time_point) override {}
  void set_rate_limit_kbps(uint64_t) override {}
  uint64_t bytes_sent() const override { return 0; }
  uint64_t bytes_received() const override { return at_; }
  std::string peer() const override { return "fuzz"; }

 private:
  std::vector<uint8_t> bytes_;
  size_t at_ = 0;
};

std::array<uint8_t, noise::kKeySize> Key() {
  std::array<uint8_t, noise::kKeySize> k;
  k.fill(7);
  return k;
}

// Seals each length-prefixed plaintext of `in` as the sender would, into frames.
std::vector<uint8_t> SealAll(Input* in, uint64_t rekey, size_t* plaintext) {
  noise::CipherState send(Key());
  std::vector<uint8_t> wire;
  for (uint64_t n = 0; !in->empty(); ++n) {
    size_t length = size_t{in->TakeByte()} << 8;
    length |= in->TakeByte();
    auto plain = Bytes(in->TakeText(std::min(length, SecureChannel::kMaxPlaintext)));
    *plaintext += plain.size();
    if (n > 0 && n % rekey == 0) FUZZ_CHECK(send.Rekey().ok());
    auto sealed = send.EncryptWithAd({}, plain);
    FUZZ_CHECK(sealed.has_value());
    auto frame = noise::EncodeFrame(*sealed);
    FUZZ_CHECK(frame.has_value());
    wire.insert(wire.end(), frame->begin(), frame->end());
  }
  return wire;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  uint8_t mode = in.TakeByte();
  uint64_t rekey = 1 + (mode & 3);
  size_t plaintext = 0;
  std::vector<uint8_t> wire;
  if (mode & 4) {
    auto raw = in.RestBytes();
    wire.assign(raw.begin(), raw.end());
    plaintext = raw.size();
  } else {
    wire = SealAll(&in, rekey, &plaintext);
  }
  BufferLink link(std::move(wire));
  SecureChannel channel(&link, noise::CipherState(Key()), noise::CipherState(Key()), rekey,
                        kMaxRecord);
  size_t bodies = 0;
  for (;;) {
    auto record = channel.Receive();
    if (!record) break;
    FUZZ_CHECK(record->body.size() <= kMaxRecord);
    bodies += 5 + record->body.size();
    FUZZ_CHECK(bodies <= plaintext);
  }
  return 0;
}
