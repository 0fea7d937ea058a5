// What each side checks of what the other sends before it goes on (docs/sync-protocol.md): the
// protocol version of a Hello, an Accept and a HubInfo, and the manifest of a site's own channel
// going up. A peer written from the documents alone meets these refusals with a message that
// says what is wrong, not with a session that goes on and fails later.
#include <gtest/gtest.h>

#include "offer.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/publish.h"
#include "protocol.h"
#include "session/secure_channel.h"
#include "session/session_fixture.h"

namespace outpost::testing {
namespace {

using sync::kProtocolVersion;

// ---- protocol versions ----

TEST_F(SessionTest, AHubRefusesAHelloOfAVersionItDoesNotSpeakNamingBoth) {
  using namespace sync;
  Join();
  Hello hello;
  hello.protocol = kProtocolVersion + 1;
  HandSession hand;
  std::vector<uint8_t> answer;
  ASSERT_NO_FATAL_FAILURE(HelloByHand(hello, &hand, &answer));
  ASSERT_FALSE(answer.empty());
  ASSERT_EQ(answer[0], kError);
  auto error = DecodeError({reinterpret_cast<const char*>(answer.data()) + 1, answer.size() - 1});
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, kErrorVersion);
  EXPECT_NE(error->message.find("version " + std::to_string(kProtocolVersion + 1)), std::string::npos)
      << error->message;
  EXPECT_NE(error->message.find("versions 1 to " + std::to_string(kProtocolVersion)),
            std::string::npos)
      << error->message;
  hand.link.reset();
  JoinSessions();
}

// An older site speaks version 1: the hub answers in version 1 (and so sends it no Outcomes).
TEST_F(SessionTest, AHubStillAcceptsAHelloOfVersionOneAndAnswersInIt) {
  Join();
  HandSession hand;
  std::vector<uint8_t> answer;
  sync::Hello hello;
  hello.protocol = 1;
  ASSERT_NO_FATAL_FAILURE(HelloByHand(hello, &hand, &answer));
  ASSERT_FALSE(answer.empty());
  EXPECT_EQ(answer[0], sync::kAccept);
  auto accept = sync::DecodeAccept({reinterpret_cast<const char*>(answer.data()) + 1, answer.size() - 1});
  ASSERT_TRUE(accept.has_value());
  EXPECT_EQ(accept->protocol, 1);
  hand.link.reset();
  JoinSessions();
}

TEST(PeerChecksTest, AHubInfoOfAnotherVersionIsRefusedNamingBoth) {
  auto key = Identity::Generate();
  ASSERT_TRUE(key.has_value());
  std::string info = sync::EncodeHubInfo(key->public_key());
  ASSERT_TRUE(sync::DecodeHubInfo(info).has_value());
  info[1] = 7;  // the u16 protocol: 7
  auto refused = sync::DecodeHubInfo(info);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("version 7"), std::string::npos) << refused.error().message();
  EXPECT_NE(refused.error().message().find("versions 1 to " + std::to_string(sync::kProtocolVersion)), std::string::npos)
      << refused.error().message();
}

// ---- a site's own channel: its manifest ----

// The site's channel "ecole-1-notes" as a signed envelope whose node "a.html" has the kind code
// `code`, signed by the site's own key: what a peer's hand-made manifest could be.
std::string SiteEnvelopeWithKind(Node* site, uint8_t code) {
  auto draft = site->catalog->LoadVersion("ecole-1-notes", 1);
  EXPECT_TRUE(draft.has_value());
  std::string manifest = EncodeManifest(*draft, 1);
  // The child's kind byte: right after its path "a.html" (u32 length, 6 bytes).
  size_t at = manifest.find(std::string("\0\0\0\x06" "a.html", 10));
  EXPECT_NE(at, std::string::npos);
  manifest[at + 10] = static_cast<char>(code);
  auto identity = LoadIdentity(site->paths.node_key);
  EXPECT_TRUE(identity.has_value());
  Hash hash = Hash::Of(manifest);
  std::string message("outpost manifest v1\0", 20);
  message.append(reinterpret_cast<const char*>(hash.bytes.data()), hash.bytes.size());
  return EncodeSignedManifest({manifest, identity->public_key(), identity->Sign(message)});
}

TEST_F(SessionTest, AHubRefusesASitesManifestWithAKindOutsideTheListAndSaysSo) {
  using namespace sync;
  Join();
  TempDir notes;
  notes.Write("a.html", Page(5));
  auto published = outpost::Publish(site_->paths, site_->store.get(), site_->catalog.get(),
                                    notes.path(), "ecole-1-notes");
  ASSERT_TRUE(published.has_value()) << published.error().message();
  std::string envelope = SiteEnvelopeWithKind(site_.get(), 42);

  HandSession hand;
  ASSERT_NO_FATAL_FAILURE(OpenByHand({}, &hand));
  auto version = OfferVersion(site_->catalog.get(), *site_->catalog->Channel("ecole-1-notes"), 0);
  ASSERT_TRUE(version.has_value());
  version->packing = kRaw;
  version->packed = envelope;
  version->envelope_size = envelope.size();
  Offer up;
  up.versions.push_back(*version);
  ASSERT_TRUE(hand.channel->Send(kOffer, EncodeOffer(up)).ok());
  ASSERT_TRUE(hand.channel->Flush().ok());
  auto answer = hand.channel->Receive();
  ASSERT_TRUE(answer.has_value()) << answer.error().message();
  ASSERT_EQ(answer->type, kReceipt);
  auto receipt = DecodeReceipt(answer->body);
  ASSERT_TRUE(receipt.has_value());
  ASSERT_EQ(receipt->size(), 1u);
  EXPECT_EQ((*receipt)[0].state, ReceiptState::kRefused);
  const std::string& why = (*receipt)[0].message;
  EXPECT_NE(why.find("unknown kind 42"), std::string::npos) << why;
  EXPECT_EQ(why.find("not signed by"), std::string::npos) << why;  // it is signed: say what is wrong
  (void)hand.channel->Send(kBye, "");
  (void)hand.channel->Flush();
  hand.link.reset();
  JoinSessions();
  EXPECT_FALSE(hub_->catalog->Channel("ecole-1-notes").has_value());
  EXPECT_FALSE(hub_->db->ChannelOwner("ecole-1-notes").has_value());
}

}  // namespace
}  // namespace outpost::testing
