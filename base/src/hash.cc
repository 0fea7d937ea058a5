#include "outpost/base/hash.h"

namespace outpost {

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string Hash::Hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(kSize * 2, '0');
  for (size_t i = 0; i < kSize; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

std::optional<Hash> Hash::FromHex(std::string_view hex) {
  if (hex.size() != kSize * 2) return std::nullopt;
  Hash h;
  for (size_t i = 0; i < kSize; ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    h.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return h;
}

Hash Hash::Of(std::span<const uint8_t> data) {
  Hash h;
  crypto_generichash(h.bytes.data(), kSize, data.data(), data.size(), nullptr, 0);
  return h;
}

Hash Hash::Of(std::string_view data) {
  return Of({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
}

Hasher::Hasher() { crypto_generichash_init(&state_, nullptr, 0, Hash::kSize); }

void Hasher::Update(std::span<const uint8_t> data) {
  crypto_generichash_update(&state_, data.data(), data.size());
}

void Hasher::Update(std::string_view data) {
  Update({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
}

Hash Hasher::Final() {
  Hash h;
  crypto_generichash_final(&state_, h.bytes.data(), Hash::kSize);
  return h;
}

bool InitCrypto() { return sodium_init() >= 0; }

}  // namespace outpost
