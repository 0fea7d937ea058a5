// Hash: a BLAKE2b-256 digest (libsodium crypto_generichash, 32 bytes, no key), the name of
// every blob and chunk in Outpost. Written as 64 lower-case hex characters wherever it is
// shown or stored as text.
//
// Thread-safety: Hash is a plain value. Hasher is not shared between threads.
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace outpost {

struct Hash {
  static constexpr size_t kSize = 32;
  std::array<uint8_t, kSize> bytes{};

  std::string Hex() const;
  // Parses exactly 64 hex characters (either case); nullopt otherwise.
  static std::optional<Hash> FromHex(std::string_view hex);
  static Hash Of(std::span<const uint8_t> data);
  static Hash Of(std::string_view data);

  auto operator<=>(const Hash&) const = default;
  bool operator==(const Hash&) const = default;
};

// Incremental BLAKE2b-256.
class Hasher {
 public:
  Hasher();
  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data);
  Hash Final();  // the hasher must not be updated afterwards

 private:
  crypto_generichash_state state_;
};

// Must be called once before any libsodium use; safe to call again. Returns false if libsodium
// could not initialise (no entropy source).
bool InitCrypto();

}  // namespace outpost

template <>
struct std::hash<outpost::Hash> {
  size_t operator()(const outpost::Hash& h) const noexcept {
    size_t v;
    static_assert(sizeof(v) <= outpost::Hash::kSize);
    __builtin_memcpy(&v, h.bytes.data(), sizeof(v));
    return v;
  }
};
