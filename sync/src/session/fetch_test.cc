// The fetch pipeline against a scripted ChunkSource: what it asks for, what it does with each
// kind of answer, and where it stops. No channel, no link: the holder's answers are made from
// a published channel's files.
#include "session/fetch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <set>

#include "outpost/base/file.h"
#include "outpost/sync/node.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/trust_store.h"
#include "test_node.h"
#include "testing/fault_env.h"
#include "testing/temp_dir.h"
#include "zstd_codec.h"

namespace outpost::sync {
namespace {

using testing::TempDir;
using testing::TestNode;

// Answers each chunk asked for from `holder`'s store, in order, unless the test says otherwise.
class ScriptedSource : public ChunkSource {
 public:
  explicit ScriptedSource(TestNode* holder) : holder_(holder) {}

  Status AskChunks(const std::vector<Hash>& chunks) override {
    for (const Hash& h : chunks) queued_.push_back(h);
    asked.insert(asked.end(), chunks.begin(), chunks.end());
    moved_ += 4 + 32 * chunks.size();
    return Status::Ok();
  }
  Status AskPatch(const Hash&, const Hash&) override { return Internal("no patch in these tests"); }
  Status Flush() override {
    ++flushes;
    for (const Hash& h : queued_) pending_.push_back(h);
    queued_.clear();
    return Status::Ok();
  }
  Result<Record> Next() override {
    if (answered_ == drop_after) return IoError("receiving: the connection was reset");
    if (pending_.empty()) return Internal("an answer nobody asked for");
    Hash h = pending_.front();
    pending_.pop_front();
    ++answered_;
    Record record = answer ? answer(h) : Chunk(h);
    moved_ += record.body.size();
    received_ += record.body.size();
    return record;
  }
  uint64_t bytes_moved() const override { return moved_; }
  uint64_t bytes_received() const override { return received_; }

  // The chunk as the holder would send it, its bytes changed by `damage` if set.
  Record Chunk(const Hash& h, bool damage = false) {
    auto where = holder_->catalog->FindChunk(h);
    auto data = ReadFileRange(holder_->store->PathOf(where->blob), where->offset, where->length);
    if (damage) (*data)[0] ^= 1;
    ChunkData chunk{h, static_cast<uint32_t>(data->size()), ZstdCompress(*data, 1, {})};
    return {kChunk, EncodeChunk(chunk)};
  }

  std::function<Record(const Hash&)> answer;  // unset: Chunk(h)
  size_t drop_after = SIZE_MAX;               // answers before the link drops
  std::vector<Hash> asked;
  int flushes = 0;

 private:
  TestNode* holder_;
  std::vector<Hash> queued_;
  std::deque<Hash> pending_;
  size_t answered_ = 0;
  uint64_t moved_ = 0, received_ = 0;
};

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_ = std::make_unique<TestNode>(hub_dir_.path());
    site_ = std::make_unique<TestNode>(site_dir_.path());
    ASSERT_TRUE(InitHub(hub_->paths).has_value());
    folder_.Write("outpost.toml", "[channel]\nid = \"air\"\ntitle = \"Air\"\nlanguage = \"en\"\n");
    folder_.Write("a.html", "<html><body><p>Wind.</p></body></html>\n");
    folder_.Write("b.html", "<html><body><p>Clouds.</p></body></html>\n");
    folder_.Write("film.mp4", std::string("\0\0\0\x18" "ftypisom", 12) + testing::RandomBytes(300000, 4));
    auto published = Publish(hub_->paths, hub_->store.get(), hub_->catalog.get(), folder_.path(), "");
    ASSERT_TRUE(published.has_value()) << published.error().message();
    auto log = StagingLog::Open(site_->paths.staging / "chunks");
    ASSERT_TRUE(log.has_value());
    log_ = std::move(*log);
  }

  // The hub's version of "air", as an offer would describe it, accepted as it is.
  FetchRequest Request() {
    FetchRequest request;
    auto info = hub_->catalog->Channel("air");
    auto envelope = hub_->catalog->ManifestEnvelope("air", info->served_version);
    auto manifest = DecodeEnvelopeManifest(*envelope);
    for (const BlobRef& blob : manifest->Blobs()) {
      OfferedFile file{blob.hash, blob.size, {}, std::nullopt};
      for (const Chunk& c : hub_->catalog->ChunksOf(blob.hash)) file.chunks.push_back({c.hash, c.length});
      request.offered.emplace(blob.hash, file);
    }
    request.versions.push_back({*manifest, *envelope});
    request.window = 64 * 1024;  // several rounds
    return request;
  }
  size_t ChunkCount() {
    size_t n = 0;
    for (const auto& [hash, file] : Request().offered) n += file.chunks.size();
    return n;
  }
  Status Run(ScriptedSource* source, FetchRequest request, SyncSummary* summary, Status* stopped) {
    return Fetch(site_->store.get(), site_->catalog.get(), source, log_.get(), std::move(request),
                 summary, stopped);
  }

  TempDir hub_dir_, site_dir_, folder_;
  std::unique_ptr<TestNode> hub_, site_;
  std::unique_ptr<StagingLog> log_;
};

TEST_F(FetchTest, EveryChunkIsAskedForOnceAndTheVersionServedWhenAllItsFilesAreBuilt) {
  ScriptedSource source(hub_.get());
  SyncSummary summary;
  Status stopped;
  ASSERT_TRUE(Run(&source, Request(), &summary, &stopped).ok());
  EXPECT_TRUE(stopped.ok());
  EXPECT_TRUE(summary.complete);
  EXPECT_EQ(source.asked.size(), ChunkCount());
  EXPECT_EQ(std::set<Hash>(source.asked.begin(), source.asked.end()).size(), source.asked.size());
  EXPECT_EQ(summary.chunks_received, ChunkCount());
  EXPECT_EQ(summary.files_received, 3u);
  EXPECT_GT(summary.round_trips, 1);  // the window held the rest back
  ASSERT_EQ(summary.updated.size(), 1u);
  EXPECT_EQ(site_->catalog->Channel("air")->manifest_hash, hub_->catalog->Channel("air")->manifest_hash);
  EXPECT_EQ(log_->size(), 0u);  // cleared once served
}

// A file builder runs on a thread of its own: an exception there (a std::bad_alloc while
// building a file) would end the process, every other session with it. It ends this fetch with
// the exception's message instead, and serves nothing.
TEST_F(FetchTest, AFileBuilderThatThrowsEndsTheFetchWithItsErrorAndServesNothing) {
  testing::ThrowingEnv env;
  auto store = BlobStore::Open(site_dir_.path(), &env);
  ASSERT_TRUE(store.has_value());
  site_->store = std::move(*store);  // its writers, made on the builder threads, throw
  ScriptedSource source(hub_.get());
  SyncSummary summary;
  Status stopped;
  Status st = Run(&source, Request(), &summary, &stopped);
  site_->store.reset();  // before `env` goes
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.message();
  EXPECT_NE(st.message().find("std::bad_alloc"), std::string::npos) << st.message();
  EXPECT_FALSE(summary.complete);
  EXPECT_TRUE(summary.updated.empty());
  EXPECT_FALSE(site_->catalog->Channel("air").has_value());  // nothing half-served
}

TEST_F(FetchTest, ChunksStagedAlreadyAreNotAskedForAgain) {
  ScriptedSource first(hub_.get());
  first.drop_after = 3;
  SyncSummary cut;
  Status stopped;
  ASSERT_TRUE(Run(&first, Request(), &cut, &stopped).ok());
  EXPECT_FALSE(stopped.ok());
  EXPECT_FALSE(cut.complete);
  EXPECT_FALSE(site_->catalog->Channel("air").has_value());  // nothing half-served
  EXPECT_EQ(log_->size(), 3u);

  ScriptedSource second(hub_.get());
  SyncSummary rest;
  ASSERT_TRUE(Run(&second, Request(), &rest, &stopped).ok());
  EXPECT_TRUE(rest.complete);
  EXPECT_EQ(second.asked.size(), ChunkCount() - 3);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(std::count(second.asked.begin(), second.asked.end(), first.asked[i]), 0);
  }
  // The small files came first and were built then; the staged chunk of the film is used.
  EXPECT_EQ(rest.files_received, 1u);
  EXPECT_EQ(rest.chunks_reused, 1u);
}

TEST_F(FetchTest, AnAnswerOutOfOrderIsThisSidesError) {
  ScriptedSource source(hub_.get());
  Hash stranger = Hash::Of("not asked for");
  source.answer = [&](const Hash&) {
    ChunkData chunk{stranger, 13, ZstdCompress("not asked for", 1, {})};
    return Record{kChunk, EncodeChunk(chunk)};
  };
  SyncSummary summary;
  Status stopped;
  Status st = Run(&source, Request(), &summary, &stopped);
  EXPECT_EQ(st.code(), StatusCode::kCorrupt) << st.message();
  EXPECT_FALSE(site_->catalog->Channel("air").has_value());
}

TEST_F(FetchTest, AChunkThatDoesNotVerifyIsRefusedAndNothingIsServed) {
  ScriptedSource source(hub_.get());
  bool damaged = false;
  source.answer = [&](const Hash& h) {
    bool damage = !damaged;
    damaged = true;
    return source.Chunk(h, damage);
  };
  SyncSummary summary;
  Status stopped;
  ASSERT_TRUE(Run(&source, Request(), &summary, &stopped).ok());
  EXPECT_TRUE(stopped.ok());  // the conversation could go on
  EXPECT_FALSE(summary.complete);
  ASSERT_FALSE(summary.refused.empty());
  EXPECT_NE(summary.refused[0].find("did not verify"), std::string::npos) << summary.refused[0];
  EXPECT_EQ(log_->size(), ChunkCount() - 1);  // the rest is kept for the next time
  EXPECT_FALSE(site_->catalog->Channel("air").has_value());
}

TEST_F(FetchTest, AChunkClaimingThreeGibibytesIsRefusedWithoutAllocatingThem) {
  ScriptedSource source(hub_.get());
  bool lied = false;
  source.answer = [&](const Hash& h) {
    Record record = source.Chunk(h);
    if (lied) return record;
    lied = true;
    auto chunk = DecodeChunk(record.body);
    chunk->length = 3u << 30;  // a hostile hub's claim; the frame itself is small
    return Record{kChunk, EncodeChunk(*chunk)};
  };
  SyncSummary summary;
  Status stopped;
  ASSERT_TRUE(Run(&source, Request(), &summary, &stopped).ok());
  EXPECT_TRUE(stopped.ok());
  EXPECT_FALSE(summary.complete);
  ASSERT_FALSE(summary.refused.empty());
  EXPECT_NE(summary.refused[0].find("the offer said"), std::string::npos) << summary.refused[0];
  EXPECT_EQ(log_->size(), ChunkCount() - 1);
}

TEST_F(FetchTest, AChunkLongerThanTheOfferSaidIsRefusedEvenIfItVerifies) {
  // The offer understates one chunk's length: the real chunk, whose hash matches, is refused.
  FetchRequest request = Request();
  std::optional<Hash> shortened;
  for (auto& [blob, file] : request.offered) {
    if (file.chunks.size() > 1 || shortened) continue;
    file.chunks[0].length -= 1;
    shortened = file.chunks[0].hash;
  }
  ASSERT_TRUE(shortened.has_value());
  ScriptedSource source(hub_.get());
  SyncSummary summary;
  Status stopped;
  ASSERT_TRUE(Run(&source, std::move(request), &summary, &stopped).ok());
  EXPECT_FALSE(summary.complete);
  ASSERT_EQ(summary.refused.size(), 1u);
  EXPECT_NE(summary.refused[0].find(shortened->Hex()), std::string::npos) << summary.refused[0];
  EXPECT_NE(summary.refused[0].find("the offer said"), std::string::npos) << summary.refused[0];
}

TEST_F(FetchTest, AMissingChunkLeavesTheVersionUnserved) {
  ScriptedSource source(hub_.get());
  source.answer = [&](const Hash& h) {
    return h == source.asked.front() ? Record{kMissing, EncodeHashes({h})} : source.Chunk(h);
  };
  SyncSummary summary;
  Status stopped;
  ASSERT_TRUE(Run(&source, Request(), &summary, &stopped).ok());
  EXPECT_FALSE(summary.complete);
  ASSERT_FALSE(summary.refused.empty());
  EXPECT_NE(summary.refused[0].find("no longer has"), std::string::npos) << summary.refused[0];
  EXPECT_FALSE(site_->catalog->Channel("air").has_value());
}

TEST_F(FetchTest, TheBudgetStopsTheAskingBeforeItIsSpent) {
  ScriptedSource source(hub_.get());
  FetchRequest request = Request();
  request.budget_bytes = 100000;
  SyncSummary summary;
  Status stopped;
  ASSERT_TRUE(Run(&source, std::move(request), &summary, &stopped).ok());
  EXPECT_TRUE(stopped.ok());
  EXPECT_TRUE(summary.budget_reached);
  EXPECT_FALSE(summary.complete);
  EXPECT_LT(source.asked.size(), ChunkCount());
  EXPECT_LE(source.bytes_moved(), 100000u + 70000u);  // at most what was in flight over it
  EXPECT_FALSE(site_->catalog->Channel("air").has_value());
}

TEST_F(FetchTest, AFileTheOfferDoesNotDescribeLeavesTheVersionUnserved) {
  ScriptedSource source(hub_.get());
  FetchRequest request = Request();
  request.offered.erase(request.offered.begin());
  SyncSummary summary;
  Status stopped;
  ASSERT_TRUE(Run(&source, std::move(request), &summary, &stopped).ok());
  EXPECT_FALSE(summary.complete);
  ASSERT_FALSE(summary.refused.empty());
  EXPECT_NE(summary.refused[0].find("did not describe"), std::string::npos) << summary.refused[0];
  EXPECT_FALSE(site_->catalog->Channel("air").has_value());
}

}  // namespace
}  // namespace outpost::sync
