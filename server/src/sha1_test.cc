#include "sha1.h"

#include <gtest/gtest.h>

#include <string>

namespace outpost {
namespace {

std::string Hex(const std::array<uint8_t, Sha1::kSize>& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string Sha1Of(const std::string& s, size_t piece) {
  Sha1 h;
  for (size_t i = 0; i < s.size(); i += piece) {
    std::string_view part = std::string_view(s).substr(i, piece);
    h.Update({reinterpret_cast<const uint8_t*>(part.data()), part.size()});
  }
  return Hex(h.Final());
}

// FIPS 180 examples and the million 'a's, fed whole and in uneven pieces.
TEST(Sha1Test, GivesTheStandardsExampleDigests) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
      {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
      {std::string(1000000, 'a'), "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
  };
  for (const auto& [input, digest] : cases) {
    for (size_t piece : {size_t{1} << 30, size_t{1}, size_t{63}, size_t{64}, size_t{65}}) {
      if (piece == 1 && input.size() > 1000) continue;
      EXPECT_EQ(Sha1Of(input, piece), digest) << input.size() << " bytes in pieces of " << piece;
    }
  }
}

}  // namespace
}  // namespace outpost
