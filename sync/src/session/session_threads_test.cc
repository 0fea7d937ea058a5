// An exception inside a session, on a thread of the session's own (a file builder) or on the
// caller's: it ends that session with a clear error, serves nothing of what was being fetched,
// and the process goes on. The fault: a store whose writers throw std::bad_alloc, or a dialer
// that throws.
#include <gtest/gtest.h>

#include <stdexcept>

#include "session/session_fixture.h"
#include "testing/fault_env.h"

namespace outpost::testing {
namespace {

class SessionThreadsTest : public SessionTest {
 protected:
  // A store on `node`'s folder whose file writers throw while env_.armed.
  std::unique_ptr<BlobStore> ThrowingStore(Node* node) {
    auto store = BlobStore::Open(node->paths.data, &env_);
    EXPECT_TRUE(store.has_value());
    return store ? std::move(*store) : nullptr;
  }
  void TearDown() override {
    SessionTest::TearDown();
    thrower_.reset();
    hub_->store.reset();
    site_->store.reset();  // before env_ goes
  }

  ThrowingEnv env_;
  std::unique_ptr<SyncServer> thrower_;
};

TEST_F(SessionThreadsTest, ASitesFileBuilderThatThrowsEndsItsSyncWithTheErrorAndServesNothing) {
  ASSERT_NO_FATAL_FAILURE(Join());
  site_->store = ThrowingStore(site_.get());
  auto failed = Sync();
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), StatusCode::kInternal) << failed.error().message();
  EXPECT_NE(failed.error().message().find("std::bad_alloc"), std::string::npos) << failed.error().message();
  EXPECT_FALSE(site_->catalog->Channel("water").has_value());  // nothing half-served

  env_.armed = false;
  auto healed = Sync();
  ASSERT_TRUE(healed.has_value()) << healed.error().message();
  EXPECT_TRUE(healed->complete);
}

TEST_F(SessionThreadsTest, AHubsFileBuilderThatThrowsEndsThatUploadAloneAndTheHubGoesOn) {
  ASSERT_NO_FATAL_FAILURE(Join());
  ASSERT_TRUE(Sync().has_value());
  TempDir notes;
  notes.Write("outpost.toml", "[channel]\nid = \"ecole-1-notes\"\ntitle = \"Notes\"\nlanguage = \"fr\"\n");
  notes.Write("cours-1.html", Page(101));
  auto published = outpost::Publish(site_->paths, site_->store.get(), site_->catalog.get(), notes.path(), "");
  ASSERT_TRUE(published.has_value()) << published.error().message();
  // The hub's server now builds the files it is sent with a store whose writers throw.
  hub_->store = ThrowingStore(hub_.get());
  thrower_ = std::make_unique<SyncServer>(hub_->paths, hub_->store.get(), hub_->catalog.get(),
                                          hub_->db.get(), Limits());
  Listen(address_, [this](sync::Link* link) { return thrower_->ServeSession(link); });

  auto failed = Sync();
  ASSERT_TRUE(failed.has_value()) << failed.error().message();
  EXPECT_FALSE(failed->complete);
  ASSERT_FALSE(failed->refused.empty());
  EXPECT_NE(failed->refused.back().find("std::bad_alloc"), std::string::npos) << failed->refused.back();
  EXPECT_FALSE(hub_->catalog->Channel("ecole-1-notes").has_value());  // nothing half-served

  env_.armed = false;
  auto healed = Sync();
  ASSERT_TRUE(healed.has_value()) << healed.error().message();
  ASSERT_EQ(healed->uploaded.size(), 1u);
  EXPECT_EQ(healed->uploaded[0].state, "served") << healed->uploaded[0].message;
}

TEST_F(SessionThreadsTest, AnExceptionOnTheSitesOwnThreadComesBackAsTheSyncsError) {
  ASSERT_NO_FATAL_FAILURE(Join());
  SyncOptions options;
  options.dial = [](const std::string&, std::chrono::milliseconds) -> Result<std::unique_ptr<sync::Link>> {
    throw std::runtime_error("the network stack gave up");
  };
  auto failed = SyncWithHub(site_->paths, site_->store.get(), site_->catalog.get(), site_->db.get(), options);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), StatusCode::kInternal);
  EXPECT_NE(failed.error().message().find("the network stack gave up"), std::string::npos)
      << failed.error().message();

  auto code = hub_->db->NewEnrolCode("ecole-2", 3600);
  ASSERT_TRUE(code.has_value());
  TempDir other_dir;
  Node other(other_dir.path());
  auto joined = EnrolWithHub(other.paths, other.db.get(), address_, *code, "", std::chrono::seconds(10),
                             options.dial);
  ASSERT_FALSE(joined.has_value());
  EXPECT_NE(joined.error().message().find("the network stack gave up"), std::string::npos)
      << joined.error().message();
}

}  // namespace
}  // namespace outpost::testing
