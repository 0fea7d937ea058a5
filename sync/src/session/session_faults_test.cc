// A sync broken at every point, on in-memory links with a failure countdown (STYLE.md: run it
// failing at step 0, 1, 2, ... until it succeeds). The link is cut, goes silent, or changes a
// byte after N bytes one way; N runs over every boundary of what that side writes and the
// bytes next to it, and points in between. Each time the site serves its last whole version
// and nothing false, and the next sync, whole, completes the update without fetching again
// what the broken one staged. No sockets, no waiting on the clock.
#include <gtest/gtest.h>

#include <set>

#include "outpost/sync/node.h"
#include "session/memory_link.h"
#include "session/session_fixture.h"
#include "staging.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;
using Fault = sync::MemoryLink::Fault;
using Countdown = sync::MemoryLink::Countdown;

// 0, 1, 2; each write's first byte and the bytes either side; ten points in between; the last.
std::vector<uint64_t> Countdowns(const std::vector<uint64_t>& writes, uint64_t total) {
  std::set<uint64_t> at = {0, 1, 2, total - 1};
  for (uint64_t w : writes) {
    for (uint64_t n : {w - 1, w, w + 1}) at.insert(n);
  }
  for (uint64_t k = 1; k < 10; ++k) at.insert(total * k / 10);
  std::vector<uint64_t> out;
  for (uint64_t n : at) {
    if (n < total) out.push_back(n);  // w - 1 of the first write wraps around: dropped here
  }
  return out;
}

class SessionFaultsTest : public SessionTest {
 protected:
  void SetUp() override {
    SessionTest::SetUp();
    // A rate cap fixes the pipeline's window (a bandwidth-delay product, else measured on the
    // clock), so the bytes on the wire are the same from run to run and the countdowns below
    // land where they were aimed. Pacing is on a logical clock: nothing waits.
    pace_clock_ = &clock_;
    ASSERT_NO_FATAL_FAILURE(MakeTemplate());
    // Version 2: an edited page (a patch), a new page and a new video (chunks).
    folder_.Write("lesson-2.html", Page(2, "<p>A corrected sentence.</p>"));
    folder_.Write("lesson-8.html", Page(8));
    folder_.Write("media/river.mp4", Video(400000, 5));
    Publish();
    v2_ = *hub_->catalog->Channel("water")->manifest_hash;
    // The update whole: what it brings, and where each side's writes began.
    TempDir dir;
    auto site = CopyTemplate(dir);
    auto whole = SyncNode(site.get(), Capped());
    ASSERT_TRUE(whole.has_value()) << whole.error().message();
    ASSERT_TRUE(whole->complete);
    ASSERT_EQ(whole->patches_received, 1u);
    whole_ = *whole;
    hub_writes_ = last_link()->write_offsets();
    hub_total_ = last_link()->bytes_sent();
    site_writes_ = last_link()->peer_write_offsets();
    site_total_ = last_link()->bytes_received();
  }

  static SyncOptions Capped() {
    SyncOptions options;
    options.rate_limit_kbps = 8000;
    return options;
  }

  // A site that serves version 1, closed, for each attempt to start from a copy of.
  void MakeTemplate() {
    Node site(template_.path());
    ASSERT_TRUE(Enrol(&site).has_value());
    auto first = SyncNode(&site);
    ASSERT_TRUE(first.has_value() && first->complete);
    v1_ = *site.catalog->Channel("water")->manifest_hash;
  }
  std::unique_ptr<Node> CopyTemplate(const TempDir& dir) {
    fs::copy(template_.path(), dir.path(), fs::copy_options::recursive);
    return std::make_unique<Node>(dir.path());
  }

  // A copy of the version-1 site syncs over a link with these faults, then again over a whole
  // one. `why` gets the broken sync's error or why it stopped; `struck` whether the fault did.
  void Attempt(Countdown site_sends, Countdown hub_sends, std::string* why = nullptr,
               bool* struck = nullptr) {
    TempDir dir;
    auto site = CopyTemplate(dir);
    FailNext(site_sends, hub_sends);
    auto broken = SyncNode(site.get(), Capped());
    if (struck) *struck = last_link()->faulted();
    if (why) *why = broken ? (broken->refused.empty() ? "" : broken->refused.back()) : broken.error().message();
    bool complete = broken && broken->complete;
    // Its last whole version, exactly: version 2 only if the sync got to serve it.
    EXPECT_EQ(site->catalog->Channel("water")->manifest_hash, complete ? v2_ : v1_);
    auto staged = sync::StagingLog::Open(site->paths.staging / "chunks");
    ASSERT_TRUE(staged.has_value());
    size_t staged_chunks = (*staged)->size();
    auto resumed = SyncNode(site.get(), Capped());
    ASSERT_TRUE(resumed.has_value()) << resumed.error().message();
    EXPECT_TRUE(resumed->complete);
    EXPECT_EQ(site->catalog->Channel("water")->manifest_hash, v2_);
    auto river = site->catalog->NodeByPath("water", "media/river.mp4");
    ASSERT_TRUE(river && river->blob);
    EXPECT_TRUE(site->store->Verify(*river->blob).ok());
    // What the broken sync staged is not asked for again.
    if (!complete) {
      EXPECT_EQ(staged_chunks + resumed->chunks_received, whole_.chunks_received);
    }
  }

  StepClock clock_;
  TempDir template_;
  Hash v1_, v2_;
  SyncSummary whole_;
  std::vector<uint64_t> hub_writes_, site_writes_;
  uint64_t hub_total_ = 0, site_total_ = 0;
};

TEST_F(SessionFaultsTest, AnUpdateCutAnywhereInWhatTheHubSendsResumesWithoutFetchingTwice) {
  auto points = Countdowns(hub_writes_, hub_total_);
  EXPECT_GT(points.size(), 20u);
  for (uint64_t n : points) {
    SCOPED_TRACE("cut after " + std::to_string(n) + " of " + std::to_string(hub_total_) + " bytes");
    bool struck = false;
    ASSERT_NO_FATAL_FAILURE(Attempt({}, {Fault::kCut, n}, nullptr, &struck));
    EXPECT_TRUE(struck);
  }
  // The countdown runs out: the sync is whole.
  bool struck = true;
  ASSERT_NO_FATAL_FAILURE(Attempt({}, {Fault::kCut, hub_total_}, nullptr, &struck));
  EXPECT_FALSE(struck);
}

TEST_F(SessionFaultsTest, AnUpdateCutAnywhereInWhatTheSiteSendsResumes) {
  for (uint64_t n : Countdowns(site_writes_, site_total_)) {
    SCOPED_TRACE("cut after " + std::to_string(n) + " of " + std::to_string(site_total_) + " bytes");
    bool struck = false;
    ASSERT_NO_FATAL_FAILURE(Attempt({Fault::kCut, n}, {}, nullptr, &struck));
    EXPECT_TRUE(struck);
  }
}

TEST_F(SessionFaultsTest, ADamagedByteAnywhereIsRefusedAndNothingFalseIsServed) {
  for (uint64_t n : Countdowns(hub_writes_, hub_total_)) {
    SCOPED_TRACE("byte " + std::to_string(n) + " of what the hub sends flipped");
    std::string why;
    ASSERT_NO_FATAL_FAILURE(Attempt({}, {Fault::kCorrupt, n}, &why));
    EXPECT_FALSE(why.empty());
  }
  // The site's side: the preamble, and each write's length and its first sealed byte.
  std::set<uint64_t> site_points = {0, 4, 7};
  for (uint64_t w : site_writes_) site_points.insert({w + 1, w + 2});
  for (uint64_t n : site_points) {
    if (n >= site_total_) continue;
    SCOPED_TRACE("byte " + std::to_string(n) + " of what the site sends flipped");
    ASSERT_NO_FATAL_FAILURE(Attempt({Fault::kCorrupt, n}, {}));
  }
}

TEST_F(SessionFaultsTest, AStalledLinkTimesOutAtOnceAndTheNextSyncResumes) {
  std::vector<std::pair<Countdown, Countdown>> stalls = {
      {{}, {Fault::kStall, 0}},
      {{}, {Fault::kStall, hub_writes_.at(1) + 7}},  // in the offer
      {{}, {Fault::kStall, hub_total_ / 2}},
      {{}, {Fault::kStall, hub_total_ - 1}},
      {{Fault::kStall, site_writes_.at(1) + 3}, {}},  // a request the hub never gets
  };
  for (const auto& [site_sends, hub_sends] : stalls) {
    SCOPED_TRACE("stall after " + std::to_string(site_sends.after + hub_sends.after) + " bytes");
    std::string why;
    ASSERT_NO_FATAL_FAILURE(Attempt(site_sends, hub_sends, &why));
    EXPECT_NE(why.find("timed out"), std::string::npos) << why;
  }
}

}  // namespace
}  // namespace outpost::testing
