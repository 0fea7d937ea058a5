// SHA-1 (FIPS 180-4), for one use only: tus's checksum extension, whose servers must accept
// "sha1" (docs/web-api.md, "Uploads"). It checks that a request's bytes arrived as sent; nothing
// in Outpost relies on SHA-1 against an attacker (blobs are named by BLAKE2b-256).
// Thread-safety: a Sha1 is used by one thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace outpost {

class Sha1 {
 public:
  static constexpr size_t kSize = 20;
  Sha1();
  void Update(std::span<const uint8_t> data);
  std::array<uint8_t, kSize> Final();  // no Update afterwards

 private:
  void Block(const uint8_t* block);
  std::array<uint32_t, 5> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes
};

}  // namespace outpost
