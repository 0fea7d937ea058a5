// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with everything in it when the
// object goes out of scope. For tests only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace outpost::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to path()/relative, creating parent folders.
  std::filesystem::path Write(std::string_view relative, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

// Reads a whole file; empty string if it cannot be read.
std::string ReadFile(const std::filesystem::path& path);
// Flips the bits of `mask` in the byte at `offset` of an existing file, in place.
void FlipByte(const std::filesystem::path& path, uint64_t offset, uint8_t mask = 0x01);
// Deterministic pseudo-random bytes (xorshift), for test data.
std::string RandomBytes(size_t n, uint64_t seed);

}  // namespace outpost::testing
