#include "outpost/base/hash.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace outpost {
namespace {

// BLAKE2b-256 of the empty input and of "abc" (RFC 7693's algorithm with a 32-byte output, no
// key), as b2sum -l 256 prints them.
constexpr char kEmpty[] = "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8";
constexpr char kAbc[] = "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319";

class HashTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }
};

TEST_F(HashTest, MatchesBlake2b256) {
  EXPECT_EQ(Hash::Of(std::string_view()).Hex(), kEmpty);
  EXPECT_EQ(Hash::Of(std::string_view("abc")).Hex(), kAbc);
}

TEST_F(HashTest, IncrementalHashingGivesTheSameDigest) {
  Hasher h;
  h.Update(std::string_view("a"));
  h.Update(std::string_view("bc"));
  EXPECT_EQ(h.Final().Hex(), kAbc);
}

TEST_F(HashTest, HexRoundTripsInEitherCase) {
  Hash h = Hash::Of(std::string_view("abc"));
  EXPECT_EQ(Hash::FromHex(h.Hex()), h);
  std::string upper = h.Hex();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Hash::FromHex(upper), h);
}

TEST_F(HashTest, AnythingButSixtyFourHexDigitsIsRefused) {
  std::string hex = Hash::Of(std::string_view("abc")).Hex();
  EXPECT_FALSE(Hash::FromHex(hex.substr(1)));
  EXPECT_FALSE(Hash::FromHex(hex + "0"));
  EXPECT_FALSE(Hash::FromHex(""));
  hex[10] = 'g';
  EXPECT_FALSE(Hash::FromHex(hex));
}

TEST_F(HashTest, DifferentDataGivesDifferentHashesAndKeys) {
  std::unordered_set<Hash> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(Hash::Of(std::to_string(i)));
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace outpost
