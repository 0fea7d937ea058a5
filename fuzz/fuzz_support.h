// What every fuzz target shares: the input as bytes and as text, a check that aborts (so
// libFuzzer records the input as a crash), and fixed keys, so a harness can sign or encrypt
// what the fuzzer mutates and reach the parsing behind a signature or an AEAD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

namespace outpost::fuzz {

// The fuzzer's bytes; the first one often picks what the rest is fed to.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return size_ == 0; }
  uint8_t TakeByte() {
    if (size_ == 0) return 0;
    --size_;
    return *data_++;
  }
  // Up to n bytes (fewer at the end).
  std::string_view TakeText(size_t n) {
    n = n < size_ ? n : size_;
    std::string_view out(reinterpret_cast<const char*>(data_), n);
    data_ += n;
    size_ -= n;
    return out;
  }
  std::string_view Rest() { return TakeText(size_); }
  std::span<const uint8_t> RestBytes() {
    std::span<const uint8_t> out(data_, size_);
    data_ += size_;
    size_ = 0;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

inline std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace outpost::fuzz
