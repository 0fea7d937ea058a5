#include "outpost/sync/review.h"

#include <gtest/gtest.h>

#include <set>

#include "outpost/base/text.h"
#include "outpost/content/importer.h"
#include "outpost/sync/manifest.h"
#include "test_hub.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::NewIdentity;
using testing::ReadFile;

// A hub holding the channel "school-a" of a site (imported here as a site's upload would store
// it: the review reads only the catalog's served version and who owns the channel).
class ReviewTest : public testing::HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    MakeHub();
    db_ = OpenDb();
    ASSERT_TRUE(db_->AddPeer({site_.public_key(), "school-a", "site"}).ok());
    ASSERT_TRUE(db_->ClaimChannel("school-a", site_.public_key()).ok());
    src_.Write("school-a/grade-5/water.html",
               "<html lang=\"en\"><title>Water</title><body><p>Water falls as rain and "
               "flows to the sea.</p></body></html>");
    src_.Write("school-a/blackboard.txt", "photo of the blackboard");
    src_.Write("school-a/outpost.toml",
               "[files.\"blackboard.txt\"]\ntitle = \"Blackboard\"\ngrade = \"5\"\n");
  }
  // The site's channel as it stands in its folder, stored as its next version.
  void Upload() {
    ImportOptions options;
    options.channel_id = "school-a";
    auto r = Importer(store_.get(), catalog_.get()).Import(src_.path() / "school-a", options);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }
  std::vector<ReviewItem> Pending() {
    Status st = RefreshReview(db_.get(), catalog_.get());
    EXPECT_TRUE(st.ok()) << st.ToString();
    return db_->ReviewItems(false);
  }
  const ReviewItem* Find(const std::vector<ReviewItem>& items, const std::string& path) {
    for (const auto& i : items) {
      if (i.path == path) return &i;
    }
    return nullptr;
  }
  Result<AdoptResult> Adopt(int64_t id, const std::string& topic, fs::path folder = {}) {
    AdoptRequest request{id, "science", topic, folder};
    return AdoptReviewItem(paths_, store_.get(), catalog_.get(), db_.get(), request);
  }

  Identity site_ = NewIdentity();
  std::unique_ptr<SyncDb> db_;
};

TEST_F(ReviewTest, AFirstUploadListsEveryResourceWithItsPreview) {
  Upload();
  auto items = Pending();
  ASSERT_EQ(items.size(), 2u);
  const ReviewItem* water = Find(items, "grade-5/water.html");
  ASSERT_NE(water, nullptr);
  EXPECT_EQ(water->title, "Water");
  EXPECT_EQ(water->kind, "html");
  EXPECT_EQ(water->language, "en");
  EXPECT_EQ(water->site_name, "school-a");
  EXPECT_EQ(water->site, site_.public_key());
  EXPECT_EQ(water->excerpt, "Water falls as rain and flows to the sea.");
  EXPECT_EQ(water->blob, catalog_->NodeByPath("school-a", "grade-5/water.html")->blob);
  EXPECT_EQ(water->state, ReviewState::kPending);
  const ReviewItem* board = Find(items, "blackboard.txt");
  ASSERT_NE(board, nullptr);
  EXPECT_EQ(board->title, "Blackboard");
  EXPECT_EQ(board->grade, "5");
  EXPECT_EQ(board->size, 23u);
  EXPECT_EQ(db_->ReviewItems(false, NewIdentity().public_key()).size(), 0u);  // another site
  EXPECT_EQ(db_->ReviewItems(false, site_.public_key()).size(), 2u);
}

TEST_F(ReviewTest, ASecondUploadListsOnlyWhatIsNewOrChangedAndIdsStay) {
  Upload();
  auto first = Pending();
  ASSERT_EQ(first.size(), 2u);
  const int64_t water_id = Find(first, "grade-5/water.html")->id;
  const int64_t board_id = Find(first, "blackboard.txt")->id;
  ASSERT_TRUE(DeclineReviewItem(db_.get(), water_id, "not ours").has_value());

  Upload();  // unchanged: no new version, nothing new
  EXPECT_EQ(Pending().size(), 1u);

  src_.Write("school-a/outpost.toml",
             "[files.\"blackboard.txt\"]\ntitle = \"Blackboard, Monday\"\ngrade = \"5\"\n");
  src_.Write("school-a/new.txt", "a new worksheet");
  Upload();
  auto second = Pending();
  ASSERT_EQ(second.size(), 2u);
  const ReviewItem* board = Find(second, "blackboard.txt");
  ASSERT_NE(board, nullptr);
  EXPECT_EQ(board->title, "Blackboard, Monday");  // metadata changed: a new item
  EXPECT_NE(board->id, board_id);
  EXPECT_EQ(board->version, 2);
  EXPECT_NE(Find(second, "new.txt"), nullptr);
  EXPECT_EQ(Find(second, "grade-5/water.html"), nullptr);  // declined and unchanged
  EXPECT_EQ(db_->ReviewItemById(board_id)->state, ReviewState::kSuperseded);
  EXPECT_EQ(db_->ReviewItemById(water_id)->state, ReviewState::kDeclined);
  EXPECT_EQ(db_->ReviewItems(true).size(), 4u);

  src_.Write("school-a/grade-5/water.html", "<title>Water</title><p>Rewritten.</p>");
  Upload();
  std::vector<ReviewItem> third = Pending();
  const ReviewItem* water = Find(third, "grade-5/water.html");
  ASSERT_NE(water, nullptr);  // declined, then changed: asked again
  EXPECT_GT(water->id, water_id);
}

TEST_F(ReviewTest, ADeclineIsKeptWithItsReasonAcrossReopening) {
  Upload();
  int64_t id = Find(Pending(), "blackboard.txt")->id;
  auto declined = DeclineReviewItem(db_.get(), id, "The photo is blurred; please retake it.");
  ASSERT_TRUE(declined.has_value()) << declined.error().ToString();
  EXPECT_EQ(declined->state, ReviewState::kDeclined);
  db_.reset();
  db_ = OpenDb();
  auto item = db_->ReviewItemById(id);
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(item->state, ReviewState::kDeclined);
  EXPECT_EQ(item->reason, "The photo is blurred; please retake it.");
  EXPECT_GT(item->decided_at, 0);
  EXPECT_EQ(Pending().size(), 1u);
}

TEST_F(ReviewTest, BadDecisionsAreRefusedWithClearErrors) {
  Upload();
  int64_t id = Find(Pending(), "blackboard.txt")->id;
  auto unknown = DeclineReviewItem(db_.get(), 9999, "x");
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.error().message().find("no review item has id 9999"), std::string::npos);
  EXPECT_EQ(DeclineReviewItem(db_.get(), id, "").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DeclineReviewItem(db_.get(), id, std::string(kMaxReviewReason + 1, 'x')).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DeclineReviewItem(db_.get(), id, "bad \xff").error().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(DeclineReviewItem(db_.get(), id, "no").has_value());
  auto twice = DeclineReviewItem(db_.get(), id, "again");
  EXPECT_NE(twice.error().message().find("is declined already"), std::string::npos);
  auto adopt = Adopt(id, "Grade 5");
  EXPECT_EQ(adopt.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(ReviewTest, AdoptionPlacesTheFileAtTheTopicAndPublishesASignedVersion) {
  ASSERT_TRUE(PublishFolder().has_value());  // "science", version 1, from its folder
  Upload();
  const ReviewItem board = *Find(Pending(), "blackboard.txt");
  auto adopted = Adopt(board.id, " Grade 5 / Science ");
  ASSERT_TRUE(adopted.has_value()) << adopted.error().ToString();
  EXPECT_EQ(adopted->path, "grade-5/science/blackboard.txt");
  EXPECT_EQ(adopted->created, (std::vector<std::string>{"grade-5", "grade-5/science"}));
  EXPECT_EQ(adopted->published.version, 2);

  auto node = catalog_->NodeByPath("science", "grade-5/science/blackboard.txt");
  ASSERT_TRUE(node.has_value());
  EXPECT_EQ(node->blob, board.blob);
  EXPECT_EQ(node->meta.title, "Blackboard");
  EXPECT_EQ(node->meta.grade, "5");
  EXPECT_EQ(catalog_->GetNode(node->parent_id)->meta.title, "Science");
  auto envelope = catalog_->ManifestEnvelope("science", 2);
  ASSERT_TRUE(envelope.has_value());
  auto manifest = VerifySignedManifest(*envelope, HeldTrust());
  ASSERT_TRUE(manifest.has_value()) << manifest.error().ToString();
  EXPECT_EQ(ParseSignedManifest(*envelope)->publisher, hub_.publisher_key);

  auto item = db_->ReviewItemById(board.id);
  EXPECT_EQ(item->state, ReviewState::kAdopted);
  EXPECT_EQ(item->adopted_channel, "science");
  EXPECT_EQ(item->adopted_topic, "Grade 5/Science");
  EXPECT_EQ(item->adopted_version, 2);

  // The folder holds it now: publishing the folder again keeps it, and a topic named again
  // by its title is the same folder.
  src_.Write("science/rain.txt", "more rain");
  auto again = PublishFolder();
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->version, 3);
  EXPECT_TRUE(catalog_->NodeByPath("science", "grade-5/science/blackboard.txt").has_value());
  const ReviewItem water = *Find(Pending(), "grade-5/water.html");
  auto second = Adopt(water.id, "Grade 5/Science");
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(second->path, "grade-5/science/water.html");
  EXPECT_TRUE(second->created.empty());
}

TEST_F(ReviewTest, AFailedPublishLeavesTheFolderAsItWasAndTheItemPending) {
  ASSERT_TRUE(PublishFolder().has_value());
  Upload();
  const ReviewItem board = *Find(Pending(), "blackboard.txt");
  std::string toml_before = ReadFile(Folder() / "outpost.toml");
  // A root outpost.toml the importer refuses (an unknown key): the publish fails.
  src_.Write("science/outpost.toml", "[topic]\nmisspelt = 1\n");
  auto adopted = Adopt(board.id, "New topic");
  ASSERT_FALSE(adopted.has_value());
  EXPECT_NE(adopted.error().message().find("the folder is left as it was"), std::string::npos);
  EXPECT_FALSE(fs::exists(Folder() / "new-topic"));
  EXPECT_EQ(ReadFile(Folder() / "outpost.toml"), "[topic]\nmisspelt = 1\n");
  EXPECT_EQ(db_->ReviewItemById(board.id)->state, ReviewState::kPending);
}

TEST_F(ReviewTest, AdoptionRefusesBadTargetsBeforeTouchingAnything) {
  ASSERT_TRUE(PublishFolder().has_value());
  Upload();
  const ReviewItem board = *Find(Pending(), "blackboard.txt");
  AdoptRequest request{board.id, "school-a", "Grade 5", {}};
  auto own = AdoptReviewItem(paths_, store_.get(), catalog_.get(), db_.get(), request);
  EXPECT_NE(own.error().message().find("is a site's own channel"), std::string::npos);
  request.channel_id = "nope";
  auto missing = AdoptReviewItem(paths_, store_.get(), catalog_.get(), db_.get(), request);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(Adopt(board.id, "Grade 5//Science").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Adopt(board.id, "").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Adopt(board.id, "..").error().code(), StatusCode::kInvalidArgument);
  auto elsewhere = Adopt(board.id, "Grade 5", src_.path() / "not-there");
  EXPECT_NE(elsewhere.error().message().find("--folder"), std::string::npos);
  EXPECT_EQ(Adopt(4242, "Grade 5").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->ReviewItemById(board.id)->state, ReviewState::kPending);
}

// A site signs its own manifests, so an item's path is whatever it wrote: a name that is not a
// plain visible file name never leaves the topic's folder, nor hides, nor becomes metadata.
TEST_F(ReviewTest, AnItemWithAnOddNameIsAdoptedUnderASafeOne) {
  ASSERT_TRUE(PublishFolder().has_value());
  auto blob = store_->Put("what a site sent");
  ASSERT_TRUE(blob.has_value());
  std::vector<ReviewItem> items;
  for (const char* path : {"a/..", "a/.hidden.txt", "outpost.toml"}) {
    ReviewItem item;
    item.path = path;
    item.kind = "topic";  // not a resource's kind: not written as one
    item.title = "Odd";
    item.blob = blob->hash;
    item.fingerprint = Hash::Of(path);
    items.push_back(item);
  }
  ASSERT_TRUE(db_->NoteReviewVersion("school-a", 1, items).ok());
  std::vector<std::string> placed;
  for (const auto& item : db_->ReviewItems(false)) {
    auto adopted = Adopt(item.id, "Odd");
    ASSERT_TRUE(adopted.has_value()) << item.path << ": " << adopted.error().ToString();
    EXPECT_TRUE(catalog_->NodeByPath("science", adopted->path).has_value()) << adopted->path;
    placed.push_back(adopted->path);
  }
  auto ids = db_->ReviewItems(true);
  EXPECT_EQ(placed, (std::vector<std::string>{"odd/item-" + std::to_string(ids[0].id),
                                               "odd/item-" + std::to_string(ids[1].id) + ".txt",
                                               "odd/item-" + std::to_string(ids[2].id) + ".toml"}));
  std::set<std::string> beside;  // nothing written outside the channel's folder
  for (const auto& entry : fs::directory_iterator(Folder().parent_path())) {
    beside.insert(entry.path().filename().string());
  }
  EXPECT_EQ(beside, (std::set<std::string>{"school-a", "science"}));
}

TEST(ReviewExcerptTest, KeepsTwoHundredCharactersOnOneLine) {
  EXPECT_EQ(ReviewExcerpt("  a\n\n b  "), "a b");
  std::string arabic;
  for (int i = 0; i < 150; ++i) arabic += "ماء ";  // 4 characters, 7 bytes each time
  std::string cut = ReviewExcerpt(arabic);
  EXPECT_TRUE(IsValidUtf8(cut));
  EXPECT_EQ(cut.substr(cut.size() - 3), "…");
  EXPECT_LE(cut.size(), 200u * 2 + 3);
}

}  // namespace
}  // namespace outpost
