#include "protocol.h"

#include <gtest/gtest.h>

namespace outpost::sync {
namespace {

Offer Example() {
  Offer offer;
  offer.trust_list = "a trust list";
  OfferedVersion v;
  v.channel_id = "water";
  v.packing = kZstdAgainstBase;
  v.base_version = 3;
  v.envelope_size = 1234;
  v.packed = "packed manifest";
  OfferedFile f;
  f.blob = Hash::Of("file");
  f.size = 300;
  f.previous = Hash::Of("old file");
  f.chunks = {{Hash::Of("c1"), 100}, {Hash::Of("c2"), 200}};
  v.files.push_back(f);
  offer.versions.push_back(v);
  offer.uploads = true;
  offer.yours.push_back({"ecole-1-notes", 2, 0});
  return offer;
}

TEST(ProtocolTest, AnOfferReadsBackAsWritten) {
  auto decoded = DecodeOffer(EncodeOffer(Example()));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message();
  EXPECT_EQ(decoded->trust_list, "a trust list");
  ASSERT_EQ(decoded->versions.size(), 1u);
  const OfferedVersion& v = decoded->versions[0];
  EXPECT_EQ(v.channel_id, "water");
  EXPECT_EQ(v.packing, kZstdAgainstBase);
  EXPECT_EQ(v.base_version, 3u);
  EXPECT_EQ(v.envelope_size, 1234u);
  EXPECT_EQ(v.packed, "packed manifest");
  ASSERT_EQ(v.files.size(), 1u);
  EXPECT_EQ(v.files[0].blob, Hash::Of("file"));
  EXPECT_EQ(v.files[0].previous, Hash::Of("old file"));
  ASSERT_EQ(v.files[0].chunks.size(), 2u);
  EXPECT_EQ(v.files[0].chunks[1].length, 200u);
  EXPECT_TRUE(decoded->uploads);
  ASSERT_EQ(decoded->yours.size(), 1u);
  EXPECT_EQ(decoded->yours[0].served, 2u);
}

TEST(ProtocolTest, AnOfferCutAnywhereOrWithBytesAfterItIsRefused) {
  std::string bytes = EncodeOffer(Example());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeOffer(bytes.substr(0, n)).has_value()) << n;
  }
  EXPECT_FALSE(DecodeOffer(bytes + '\0').has_value());
}

TEST(ProtocolTest, AFileWhoseChunksDoNotAddUpIsRefused) {
  Offer offer = Example();
  offer.versions[0].files[0].size = 301;
  auto decoded = DecodeOffer(EncodeOffer(offer));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.error().message().find("add up to 300 bytes, not 301"), std::string::npos)
      << decoded.error().message();
}

TEST(ProtocolTest, AnOfferedChunkLongerThanTheChunkerCutsIsRefused) {
  Offer offer = Example();
  OfferedFile& f = offer.versions[0].files[0];
  f.chunks[1].length = kMaxChunkLength + 1;
  f.size = 100 + f.chunks[1].length;
  auto decoded = DecodeOffer(EncodeOffer(offer));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.error().message().find("chunk longer than a chunk can be"), std::string::npos)
      << decoded.error().message();
}

TEST(ProtocolTest, AnUnknownPackingIsRefused) {
  Offer offer = Example();
  offer.versions[0].packing = 7;
  EXPECT_FALSE(DecodeOffer(EncodeOffer(offer)).has_value());
}

// An offer: an empty trust list, a version count, then `tail` (what the versions would be).
std::string OfferClaiming(uint32_t versions, std::string tail) {
  std::string b(4, '\0');  // the trust list's length: 0
  for (int shift = 24; shift >= 0; shift -= 8) b += static_cast<char>((versions >> shift) & 0xff);
  return b + tail;
}

// Each version decodes to some 144 bytes of memory, and at least 29 bytes of the record: a count
// is checked against the record at 29 bytes apiece before the versions are made, not at 8.
TEST(ProtocolTest, AVersionCountTheRecordCannotHoldIsRefusedBeforeAnyVersionIsMade) {
  // 1000 versions would take 8000 bytes at 8 apiece, but 29000 at their least.
  auto decoded = DecodeOffer(OfferClaiming(1000, std::string(10 * 1000, '\0')));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.error().message().find("version count 1000 cannot fit"), std::string::npos)
      << decoded.error().message();
  decoded = DecodeOffer(OfferClaiming(uint32_t{1} << 31, std::string(10 * 1000, '\0')));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.error().message().find("version count 2147483648"), std::string::npos)
      << decoded.error().message();
}

// Even where the bytes could hold them, an offer names at most kMaxOfferedChannels versions.
TEST(ProtocolTest, AnOfferOfMoreVersionsThanTheStatedMaximumIsRefused) {
  constexpr size_t kEmptyVersion = 29;  // every field zero: an empty id, no files
  std::string after = std::string(1 + 4, '\0');  // no uploads, none of the site's channels
  std::string at_max(kMaxOfferedChannels * kEmptyVersion, '\0');
  ASSERT_TRUE(DecodeOffer(OfferClaiming(kMaxOfferedChannels, at_max + after)).has_value());
  auto decoded = DecodeOffer(
      OfferClaiming(kMaxOfferedChannels + 1, at_max + std::string(kEmptyVersion, '\0') + after));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.error().message().find("over the limit of " +
                                           std::to_string(kMaxOfferedChannels)),
            std::string::npos)
      << decoded.error().message();
}

}  // namespace
}  // namespace outpost::sync

namespace outpost::sync {
namespace {

std::vector<ReviewOutcome> ExampleOutcomes() {
  ReviewOutcome declined;
  declined.id = 7;
  declined.channel_id = "ecole-1-notes";
  declined.path = "tp/mesures.txt";
  declined.blob = Hash::Of("mesures");
  declined.state = ReviewState::kDeclined;
  declined.decided_at = 1800000000;
  declined.reason = "Ajoutez les unités.";
  ReviewOutcome adopted;
  adopted.id = 8;
  adopted.channel_id = "ecole-1-notes";
  adopted.path = "cours.html";
  adopted.blob = Hash::Of("cours");
  adopted.state = ReviewState::kAdopted;
  adopted.decided_at = 1800000100;
  adopted.adopted_channel = "science";
  adopted.adopted_topic = "Grade 5/Science";
  adopted.adopted_version = 4;
  return {declined, adopted};
}

TEST(ProtocolTest, OutcomesReadBackAsWrittenAndTheFirstBytesAreAsDocumented) {
  std::string bytes = EncodeOutcomes(ExampleOutcomes());
  auto decoded = DecodeOutcomes(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message();
  EXPECT_EQ(*decoded, ExampleOutcomes());
  // docs/sync-protocol.md, "Outcomes": count 2, then id 7, then the channel id's length (13).
  EXPECT_EQ(bytes.substr(0, 16),
            std::string("\0\0\0\x02" "\0\0\0\0\0\0\0\x07" "\0\0\0\x0d", 16));
  EXPECT_TRUE(DecodeOutcomes(EncodeOutcomes({})).value().empty());
}

TEST(ProtocolTest, OutcomesCutBadOrTooManyAreRefusedBeforeAllocating) {
  std::string bytes = EncodeOutcomes(ExampleOutcomes());
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(DecodeOutcomes(bytes.substr(0, cut)).has_value()) << cut;
  }
  EXPECT_FALSE(DecodeOutcomes(bytes + "x").has_value());
  // A count the bytes cannot hold, and one over the limit, before any outcome is made.
  auto huge = DecodeOutcomes(std::string("\x00\x0f\xff\xff", 4) + std::string(100, '\0'));
  ASSERT_FALSE(huge.has_value());
  EXPECT_NE(huge.error().message().find("over the limit"), std::string::npos) << huge.error().message();
  auto unheld = DecodeOutcomes(std::string("\x00\x00\x00\x05", 4) + std::string(100, '\0'));
  ASSERT_FALSE(unheld.has_value());
  EXPECT_NE(unheld.error().message().find("cannot fit"), std::string::npos) << unheld.error().message();
  // A state that is neither adopted (1) nor declined (2).
  std::string bad_state = bytes;
  bad_state[4 + 8 + 4 + 13 + 4 + 14 + 32] = 3;
  EXPECT_FALSE(DecodeOutcomes(bad_state).has_value());
  // A reason longer than a hub may give.
  auto long_reason = ExampleOutcomes();
  long_reason[0].reason.assign(kMaxReviewReason + 1, 'x');
  EXPECT_FALSE(DecodeOutcomes(EncodeOutcomes(long_reason)).has_value());
}

}  // namespace
}  // namespace outpost::sync
