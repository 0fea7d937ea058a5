// What an enrolled peer may fetch in a session: the chunks and files of the versions offered to
// it, and patches only against the files its own versions hold. A request for anything else
// (another school's upload, a file outside the offer) is refused with an Error before anything
// is read. The site's side of the session is spoken by hand here, as a hostile site would.
#include <gtest/gtest.h>

#include "outpost/base/file.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/node.h"
#include "outpost/sync/trust_store.h"
#include "protocol.h"
#include "session/secure_channel.h"
#include "session/session_fixture.h"

namespace outpost::testing {
namespace {

using namespace sync;

class ChunkAccessTest : public SessionTest {
 protected:
  using RawSession = HandSession;

  void SetUp() override {
    SessionTest::SetUp();
    // Site 1 takes "water"; site 2 joins and sends its own channel up.
    ASSERT_NO_FATAL_FAILURE(Join());
    ASSERT_TRUE(Sync().has_value());
    other_ = std::make_unique<Node>(other_dir_.path());
    ASSERT_TRUE(Enrol(other_.get()).has_value());
    TempDir notes;
    notes.Write("outpost.toml", "[channel]\nid = \"ecole-2-notes\"\ntitle = \"Notes\"\nlanguage = \"fr\"\n");
    notes.Write("bulletin.html", Page(201));
    notes.Write("films/eleves.mp4", Video(200000, 21));
    auto published = outpost::Publish(other_->paths, other_->store.get(), other_->catalog.get(),
                                      notes.path(), "");
    ASSERT_TRUE(published.has_value()) << published.error().message();
    auto up = SyncNode(other_.get());
    ASSERT_TRUE(up.has_value()) << up.error().message();
    ASSERT_EQ(up->uploaded.size(), 1u);
    ASSERT_EQ(up->uploaded[0].state, "served") << up->uploaded[0].message;
  }

  // Opens a session as site 1, saying it serves `water_version` of "water".
  void Open(uint64_t water_version, RawSession* s) {
    Hello hello;
    hello.held.push_back({"water", water_version, 0});
    // The trust list it holds: a site behind on it is offered every channel again.
    auto held_list = ReadWholeFile(site_->paths.trust_list, kMaxTrustListBytes);
    ASSERT_TRUE(held_list.has_value());
    hello.trust_sequence = TrustListSequence(*held_list).value();
    OpenByHand(hello, s);
  }
  // Sends one request and returns the hub's answer's type (kError for a refusal).
  uint8_t Ask(RawSession* s, uint8_t type, const std::string& body) {
    EXPECT_TRUE(s->channel->Send(type, body).ok());
    EXPECT_TRUE(s->channel->Flush().ok());
    auto answer = s->channel->Receive();
    if (!answer) return 0;
    if (answer->type == kError) {
      auto error = DecodeError(answer->body);
      EXPECT_TRUE(error.has_value());
      if (error) refusal_ = *error;
    }
    return answer->type;
  }
  void End(RawSession* s) {
    (void)s->channel->Send(kBye, "");
    (void)s->channel->Flush();
    s->link.reset();
    JoinSessions();
  }
  // A file of the hub's copy of site 2's channel, and its first chunk.
  Hash OtherSitesFile(const std::string& path) {
    auto node = hub_->catalog->NodeByPath("ecole-2-notes", path);
    EXPECT_TRUE(node.has_value() && node->blob.has_value());
    return node && node->blob ? *node->blob : Hash{};
  }
  Hash FirstChunkOf(const Hash& file) {
    auto chunks = hub_->catalog->ChunksOf(file);
    EXPECT_FALSE(chunks.empty());
    return chunks.empty() ? Hash{} : chunks.front().hash;
  }

  TempDir other_dir_;
  std::unique_ptr<Node> other_;
  ErrorMessage refusal_;
};

TEST_F(ChunkAccessTest, ASiteAskingForAChunkOfAnotherSchoolsUploadIsRefused) {
  RawSession s;
  ASSERT_NO_FATAL_FAILURE(Open(1, &s));
  EXPECT_TRUE(s.offer.versions.empty());  // site 1 serves "water" already: nothing offered
  Hash theirs = FirstChunkOf(OtherSitesFile("films/eleves.mp4"));
  EXPECT_EQ(Ask(&s, kGetChunks, EncodeHashes({theirs})), kError);
  EXPECT_EQ(refusal_.code, 5);
  EXPECT_NE(refusal_.message.find("not offered"), std::string::npos) << refusal_.message;
  End(&s);
}

TEST_F(ChunkAccessTest, ASiteAskingForAChunkOfAChannelNotOfferedToItIsRefused) {
  RawSession s;
  ASSERT_NO_FATAL_FAILURE(Open(1, &s));
  // "water" is not offered (the site serves it): its chunks are not for this session either.
  auto clip = hub_->catalog->NodeByPath("water", "media/clip.mp4");
  ASSERT_TRUE(clip.has_value() && clip->blob.has_value());
  EXPECT_EQ(Ask(&s, kGetChunks, EncodeHashes({FirstChunkOf(*clip->blob)})), kError);
  EXPECT_EQ(refusal_.code, 5);
  End(&s);
}

TEST_F(ChunkAccessTest, ASiteGetsTheChunksOfWhatIsOfferedToIt) {
  RawSession s;
  ASSERT_NO_FATAL_FAILURE(Open(0, &s));  // says it serves nothing: all of "water" is offered
  ASSERT_EQ(s.offer.versions.size(), 1u);
  ASSERT_FALSE(s.offer.versions[0].files.empty());
  std::vector<Hash> offered;
  for (const OfferedFile& f : s.offer.versions[0].files) offered.push_back(f.chunks.front().hash);
  EXPECT_TRUE(s.channel->Send(kGetChunks, EncodeHashes(offered)).ok());
  EXPECT_TRUE(s.channel->Flush().ok());
  for (size_t i = 0; i < offered.size(); ++i) {
    auto answer = s.channel->Receive();
    ASSERT_TRUE(answer.has_value()) << answer.error().message();
    EXPECT_EQ(answer->type, kChunk);
  }
  // The other school's chunk is still refused in a session that was offered something.
  EXPECT_EQ(Ask(&s, kGetChunks, EncodeHashes({FirstChunkOf(OtherSitesFile("bulletin.html"))})), kError);
  End(&s);
}

TEST_F(ChunkAccessTest, APatchAgainstABaseOutsideTheSitesVersionsIsRefused) {
  // Version 2 of "water" edits a page: offered to site 1 with the page of version 1 as its base.
  folder_.Write("lesson-2.html", Page(2, "<p>A corrected sentence.</p>"));
  Publish();
  RawSession s;
  ASSERT_NO_FATAL_FAILURE(Open(1, &s));
  ASSERT_EQ(s.offer.versions.size(), 1u);
  const OfferedFile* edited = nullptr;
  for (const OfferedFile& f : s.offer.versions[0].files) {
    if (f.previous) edited = &f;
  }
  ASSERT_NE(edited, nullptr);
  EXPECT_EQ(Ask(&s, kGetPatch, EncodeGetPatch(edited->blob, *edited->previous)), kPatch);
  // Against another school's page (its bytes would shape the delta), or for a file not offered.
  Hash theirs = OtherSitesFile("bulletin.html");
  EXPECT_EQ(Ask(&s, kGetPatch, EncodeGetPatch(edited->blob, theirs)), kError);
  EXPECT_EQ(refusal_.code, 5);
  End(&s);

  RawSession again;
  ASSERT_NO_FATAL_FAILURE(Open(1, &again));
  EXPECT_EQ(Ask(&again, kGetPatch, EncodeGetPatch(theirs, *edited->previous)), kError);
  End(&again);
}

}  // namespace
}  // namespace outpost::testing
