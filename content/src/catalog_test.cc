#include "outpost/content/catalog.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <set>
#include <thread>

#include "outpost/base/db.h"
#include "outpost/base/text.h"
#include "search_tokenizer.h"
#include "testing/damage.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;

DraftNode Resource(std::string path, std::string title, NodeKind kind, std::string body = "",
                   std::string language = "en") {
  DraftNode n;
  n.path = std::move(path);
  n.kind = kind;
  n.meta.title = std::move(title);
  n.meta.language = std::move(language);
  n.blob = Hash::Of(n.path);
  n.size = 100;
  n.body_text = std::move(body);
  return n;
}

VersionDraft Draft(std::string title_suffix = "") {
  VersionDraft d;
  d.channel_id = "water";
  d.meta.title = "Water" + title_suffix;
  d.root.path = "";
  d.root.meta.title = "Water";
  DraftNode fr;
  fr.path = "fr";
  fr.meta.title = "Français";
  fr.children.push_back(Resource("fr/eleve.html", "L'élève et l'évaporation", NodeKind::kHtml,
                                 "Quand le soleil chauffe la mer, l'eau s'évapore.", "fr"));
  DraftNode ar;
  ar.path = "ar";
  ar.meta.title = "العربية";
  ar.children.push_back(Resource("ar/rain.html", "دَوْرَةُ المَاءِ", NodeKind::kHtml,
                                 "تَتَبَخَّرُ المِيَاهُ ثُمَّ تَسْقُطُ الأَمْطَارُ", "ar"));
  d.root.children.push_back(fr);
  d.root.children.push_back(ar);
  d.root.children.push_back(Resource("style.css", "Style", NodeKind::kOther));
  d.root.children.back().listed = false;
  return d;
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Catalog::Open(dir_.path() / "catalog.db");
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    catalog_ = std::move(*c);
  }
  std::vector<std::string> SearchPaths(const std::string& q) {
    auto hits = catalog_->Search(q);
    EXPECT_TRUE(hits.has_value()) << hits.error().ToString();
    std::vector<std::string> out;
    if (hits) for (auto& h : *hits) out.push_back(h.path);
    return out;
  }
  TempDir dir_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, ATopicsListedChildrenAreReadAPageAtATimeFromTheirIndex) {
  VersionDraft d = Draft();
  for (int i = 0; i < 120; ++i) {
    std::string n = std::to_string(1000 + i);
    d.root.children.push_back(Resource("p" + n + ".html", "Page " + n, NodeKind::kHtml));
    d.root.children.back().listed = i % 7 != 3;  // some hidden among them
  }
  ASSERT_TRUE(catalog_->CommitVersion(d).has_value());
  auto root = catalog_->NodeByPath("water", "");
  ASSERT_TRUE(root.has_value());
  std::vector<Node> all = catalog_->Children(root->id);
  ASSERT_EQ(catalog_->CountChildren(root->id), static_cast<int64_t>(all.size()));
  std::vector<std::string> paged;
  for (int64_t offset = 0; offset < 200; offset += 25) {
    for (const Node& n : catalog_->ChildrenPage(root->id, offset, 25)) paged.push_back(n.path);
  }
  std::vector<std::string> expected;
  for (const Node& n : all) expected.push_back(n.path);
  EXPECT_EQ(paged, expected);
  EXPECT_TRUE(catalog_->ChildrenPage(root->id, 1000, 25).empty());
  // Read from the partial index, in its order: no scan of the table, no sort.
  sqlite3* db;
  ASSERT_EQ(sqlite3_open((dir_.path() / "catalog.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "EXPLAIN QUERY PLAN SELECT path FROM nodes WHERE parent_id = 1 AND "
                               "listed = 1 ORDER BY sort_order, id LIMIT 50 OFFSET 100",
                               -1, &s, nullptr),
            SQLITE_OK);
  std::string plan;
  while (sqlite3_step(s) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(s, 3));
    plan += "\n";
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  EXPECT_NE(plan.find("USING INDEX nodes_listed_by_parent"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

TEST_F(CatalogTest, OpensInWalModeAtTheCurrentSchemaVersion) {
  EXPECT_EQ(catalog_->schema_version(), Catalog::kSchemaVersion);
  sqlite3* db;
  ASSERT_EQ(sqlite3_open((dir_.path() / "catalog.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_F(CatalogTest, ReopeningKeepsDataAndDoesNotMigrateAgain) {
  ASSERT_TRUE(catalog_->CommitVersion(Draft()).has_value());
  catalog_.reset();
  auto again = Catalog::Open(dir_.path() / "catalog.db");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)->Channels().size(), 1u);
}

TEST_F(CatalogTest, RefusesACatalogFromTheFuture) {
  catalog_.reset();
  sqlite3* db;
  sqlite3_open((dir_.path() / "catalog.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto c = Catalog::Open(dir_.path() / "catalog.db");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("newer"), std::string::npos);
}

TEST_F(CatalogTest, CommitServesTheNewVersionAndStoresTheTree) {
  auto v = catalog_->CommitVersion(Draft());
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_EQ(*v, 1);
  auto ch = catalog_->Channel("water");
  ASSERT_TRUE(ch.has_value());
  EXPECT_EQ(ch->served_version, 1);
  EXPECT_EQ(ch->files, 3);
  auto top = catalog_->Children(ch->root_node);
  ASSERT_EQ(top.size(), 2u);  // the hidden style sheet is not listed
  EXPECT_EQ(top[0].path, "fr");
  EXPECT_EQ(top[1].path, "ar");
  EXPECT_EQ(catalog_->Children(ch->root_node, true).size(), 3u);
  auto page = catalog_->NodeByPath("water", "fr/eleve.html");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->kind, NodeKind::kHtml);
  EXPECT_EQ(page->meta.language, "fr");
  EXPECT_EQ(page->blob, Hash::Of(std::string_view("fr/eleve.html")));
}

TEST_F(CatalogTest, AnUnchangedTreeMakesNoNewVersion) {
  ASSERT_EQ(*catalog_->CommitVersion(Draft()), 1);
  EXPECT_EQ(*catalog_->CommitVersion(Draft()), 0);
  EXPECT_EQ(*catalog_->CommitVersion(Draft(" (corrected)")), 2);
  EXPECT_EQ(catalog_->Channel("water")->served_version, 2);
}

TEST_F(CatalogTest, OldVersionStaysUntilTheNewOneIsServedAndSearchSeesOnlyServed) {
  ASSERT_EQ(*catalog_->CommitVersion(Draft()), 1);
  VersionDraft d2 = Draft(" 2");
  d2.root.children[0].children[0].meta.title = "Le cycle de l'eau";
  ASSERT_EQ(*catalog_->CommitVersion(d2), 2);
  // Old nodes still exist (for sync's patches) but search shows only the served version.
  EXPECT_EQ(SearchPaths("cycle"), std::vector<std::string>{"fr/eleve.html"});
  EXPECT_EQ(catalog_->Search("cycle")->size(), 1u);
  auto pruned = catalog_->PruneVersions(0);
  ASSERT_TRUE(pruned.has_value());
  EXPECT_EQ(*pruned, 1);
  EXPECT_EQ(catalog_->Channel("water")->served_version, 2);
}

// Compares two trees field by field, body_text excepted (LoadVersion does not rebuild it).
void ExpectSameTree(const DraftNode& a, const DraftNode& b) {
  SCOPED_TRACE("node \"" + a.path + "\"");
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.listed, b.listed);
  for (auto field : {&NodeMeta::title, &NodeMeta::description, &NodeMeta::language,
                     &NodeMeta::grade, &NodeMeta::subject, &NodeMeta::license, &NodeMeta::author}) {
    EXPECT_EQ(a.meta.*field, b.meta.*field);
  }
  EXPECT_EQ(a.thumbnail, b.thumbnail);
  EXPECT_EQ(a.blob, b.blob);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.mime, b.mime);
  ASSERT_EQ(a.children.size(), b.children.size());
  for (size_t i = 0; i < a.children.size(); ++i) ExpectSameTree(a.children[i], b.children[i]);
}

TEST_F(CatalogTest, LoadVersionRebuildsAStoredTreeWithUnlistedNodesInOrder) {
  VersionDraft d1 = Draft();
  d1.meta.description = "Le cycle de l'eau";
  d1.meta.language = "fr";
  d1.meta.license = "CC BY 4.0";
  d1.meta.author = "Ministère";
  d1.source = "/media/usb/water";
  d1.thumbnail = Hash::Of(std::string_view("cover"));
  d1.root.children[0].thumbnail = Hash::Of(std::string_view("fr-cover"));
  d1.root.children[0].meta.grade = "5";
  d1.root.children[0].meta.subject = "science";
  d1.root.children[0].children[0].mime = "text/html";
  ASSERT_EQ(*catalog_->CommitVersion(d1), 1);
  VersionDraft d2 = Draft(" 2");
  std::swap(d2.root.children[0], d2.root.children[1]);
  ASSERT_EQ(*catalog_->CommitVersion(d2), 2);

  for (auto [version, want] : {std::pair{int64_t{1}, &d1}, std::pair{int64_t{2}, &d2}}) {
    auto got = catalog_->LoadVersion("water", version);
    ASSERT_TRUE(got.has_value()) << got.error().ToString();
    EXPECT_EQ(got->channel_id, "water");
    EXPECT_EQ(got->meta.title, want->meta.title);
    EXPECT_EQ(got->meta.description, want->meta.description);
    EXPECT_EQ(got->meta.language, want->meta.language);
    EXPECT_EQ(got->meta.license, want->meta.license);
    EXPECT_EQ(got->meta.author, want->meta.author);
    EXPECT_EQ(got->thumbnail, want->thumbnail);
    EXPECT_EQ(got->source, want->source);
    ExpectSameTree(got->root, want->root);
    EXPECT_TRUE(got->root.children[0].children[0].body_text.empty());
    EXPECT_EQ(Catalog::TreeHash(*got), Catalog::TreeHash(*want));
  }
}

TEST_F(CatalogTest, AVersionsLabelsAreStoredServedRebuiltAndPrunedWithIt) {
  VersionDraft d1 = Draft();
  d1.labels = {{"grade", "CM2", "ar", "الصف الخامس"}, {"grade", "CM2", "en", "Grade 5"}};
  Hash plain = Catalog::TreeHash(Draft());
  EXPECT_NE(Catalog::TreeHash(d1), plain);  // a change of labels alone is a new version
  ASSERT_EQ(*catalog_->CommitVersion(d1), 1);
  EXPECT_EQ(catalog_->ValueLabels("water"), d1.labels);
  EXPECT_EQ(catalog_->LoadVersion("water", 1)->labels, d1.labels);
  EXPECT_EQ(Catalog::TreeHash(*catalog_->LoadVersion("water", 1)), Catalog::TreeHash(d1));

  ASSERT_EQ(*catalog_->CommitVersion(Draft(" 2")), 2);  // no labels any more
  EXPECT_TRUE(catalog_->ValueLabels("water").empty());
  EXPECT_EQ(catalog_->LoadVersion("water", 1)->labels, d1.labels);
  ASSERT_EQ(*catalog_->PruneVersions(0), 1);
  EXPECT_TRUE(catalog_->LoadVersion("water", 2)->labels.empty());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "catalog.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* count = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM value_labels", -1, &count, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(count, 0), 0);  // version 1's labels left with it
  sqlite3_finalize(count);
  sqlite3_close(db);
  EXPECT_TRUE(catalog_->ValueLabels("no-such-channel").empty());
}

// An edit commits a loaded draft again: with its search text, every page stays findable.
TEST_F(CatalogTest, ADraftLoadedWithItsSearchTextCommitsAVersionThatSearchStillFinds) {
  ASSERT_EQ(*catalog_->CommitVersion(Draft()), 1);
  auto loaded = catalog_->LoadVersion("water", 1, /*with_body_text=*/true);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(loaded->root.children[0].children[0].body_text,
            "Quand le soleil chauffe la mer, l'eau s'évapore.");
  EXPECT_TRUE(loaded->root.children[2].body_text.empty());  // unlisted: no search row
  loaded->root.children[1].meta.title = "Arabe";  // an edit elsewhere
  ASSERT_EQ(*catalog_->CommitVersion(*loaded), 2);
  auto hits = catalog_->Search("soleil chauffe");
  ASSERT_TRUE(hits.has_value());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].path, "fr/eleve.html");
  EXPECT_EQ(catalog_->Search("تسقط")->size(), 1u);
  // Loaded without it (what sync re-encodes), the same draft would lose it.
  auto plain = catalog_->LoadVersion("water", 2);
  EXPECT_TRUE(plain->root.children[0].children[0].body_text.empty());
}

TEST_F(CatalogTest, ACommitMadeFromAVersionNoLongerServedIsRefused) {
  auto none = catalog_->CommitVersion(Draft(), /*if_served=*/1);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), StatusCode::kChanged);
  EXPECT_FALSE(catalog_->Channel("water").has_value());
  ASSERT_EQ(*catalog_->CommitVersion(Draft(), /*if_served=*/0), 1);
  ASSERT_EQ(*catalog_->CommitVersion(Draft(" 2"), /*if_served=*/1), 2);
  auto late = catalog_->CommitVersion(Draft(" 3"), /*if_served=*/1);  // made from version 1
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code(), StatusCode::kChanged);
  EXPECT_NE(late.error().message().find("now serves version 2"), std::string::npos)
      << late.error().message();
  EXPECT_EQ(catalog_->Channel("water")->served_version, 2);
  EXPECT_EQ(catalog_->Versions("water").size(), 2u);
}

TEST_F(CatalogTest, LoadVersionOfAMissingVersionIsNotFound) {
  ASSERT_EQ(*catalog_->CommitVersion(Draft()), 1);
  auto v = catalog_->LoadVersion("water", 2);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->LoadVersion("air", 1).error().code(), StatusCode::kNotFound);
}

TEST_F(CatalogTest, FrenchSearchIgnoresAccentsAndCase) {
  ASSERT_TRUE(catalog_->CommitVersion(Draft()).has_value());
  EXPECT_EQ(SearchPaths("eleve"), std::vector<std::string>{"fr/eleve.html"});
  EXPECT_EQ(SearchPaths("ÉLÈVE"), std::vector<std::string>{"fr/eleve.html"});
  EXPECT_EQ(SearchPaths("evapore"), std::vector<std::string>{"fr/eleve.html"});  // body, prefix
  EXPECT_EQ(SearchPaths("soleil mer"), std::vector<std::string>{"fr/eleve.html"});
  EXPECT_TRUE(SearchPaths("soleil lune").empty());
}

TEST_F(CatalogTest, ArabicSearchIgnoresHarakatAndAlefForms) {
  ASSERT_TRUE(catalog_->CommitVersion(Draft()).has_value());
  std::vector<std::string> rain{"ar/rain.html"};
  EXPECT_EQ(SearchPaths("الماء"), rain);           // title written with harakat
  EXPECT_EQ(SearchPaths("المَاءِ"), rain);
  EXPECT_EQ(SearchPaths("الامطار"), rain);         // bare alef for أ
  EXPECT_EQ(SearchPaths("الإمطار"), rain);         // another alef form
  EXPECT_EQ(SearchPaths("المياه"), rain);
}

// The words base/text's code-point functions alone make of `text`: what the tokenizer's ASCII
// fast path must keep giving.
std::vector<std::string> WordsByCodePoint(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = DecodeUtf8(text, &pos);
    if (IsWordCodePoint(cp)) {
      char32_t folded[2];
      int n = FoldCodePoint(cp, folded);
      for (int i = 0; i < n; ++i) AppendUtf8(folded[i], &word);
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

TEST(SearchTokenizerTest, MixedScriptsSplitAndFoldAsTheCodePointFunctionsSay) {
  const std::string text =
      "Water-Cycle 42x ÉLÈVE élève; Œuvre\xC3 l'eau «Soleil» الماءُ والمطر ЗЕМЛЯ Ωmega "
      "\xE2\x80\x94" "dash\xEF\xBB\xBF bad\xFF\xFE" "bytes ALLCAPS_under\tTab end";
  auto words = SearchWords(text);
  EXPECT_EQ(words, WordsByCodePoint(text));
  EXPECT_EQ(words.front(), "water");
  EXPECT_NE(std::find(words.begin(), words.end(), "eleve"), words.end());
}

TEST_F(CatalogTest, TitlesRankBeforeBodyText) {
  VersionDraft d = Draft();
  d.root.children.push_back(Resource("a.html", "Something else", NodeKind::kHtml,
                                     "this page mentions rainbow in passing"));
  d.root.children.push_back(Resource("b.html", "Rainbow", NodeKind::kHtml, "colours"));
  ASSERT_TRUE(catalog_->CommitVersion(d).has_value());
  auto paths = SearchPaths("rainbow");
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0], "b.html");
}

TEST_F(CatalogTest, SnippetsShowTheOriginalTextWithTheMatchMarked) {
  ASSERT_TRUE(catalog_->CommitVersion(Draft()).has_value());
  auto hits = catalog_->Search("eleve");
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_NE((*hits)[0].snippet.find("\x02" "élève\x03"), std::string::npos) << (*hits)[0].snippet;
}

TEST_F(CatalogTest, QueriesWithSyntaxCharactersAreSafe) {
  ASSERT_TRUE(catalog_->CommitVersion(Draft()).has_value());
  for (const char* q : {"\"", "eleve\" OR \"x", "*", "NEAR(", "a AND", "-", "'"}) {
    auto hits = catalog_->Search(q);
    EXPECT_TRUE(hits.has_value()) << q;
  }
}

TEST_F(CatalogTest, ChunkIndexFindsWhichBlobHoldsAChunk) {
  std::string data = testing::RandomBytes(600000, 9);
  BlobInfo info;
  info.hash = Hash::Of(data);
  info.size = data.size();
  info.chunks = ChunkBuffer({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  ASSERT_GT(info.chunks.size(), 2u);
  ASSERT_TRUE(catalog_->RecordBlobs({info}).ok());
  ASSERT_TRUE(catalog_->RecordBlobs({info}).ok());  // idempotent
  EXPECT_TRUE(catalog_->HasBlob(info.hash));
  EXPECT_EQ(catalog_->ChunksOf(info.hash), info.chunks);
  const Chunk& third = info.chunks[2];
  auto loc = catalog_->FindChunk(third.hash);
  ASSERT_TRUE(loc.has_value());
  EXPECT_EQ(loc->blob, info.hash);
  EXPECT_EQ(loc->offset, third.offset);
  EXPECT_EQ(loc->length, third.length);
  EXPECT_FALSE(catalog_->FindChunk(Hash::Of(std::string_view("nope"))).has_value());
  ASSERT_TRUE(catalog_->ForgetBlobs({info.hash}).ok());
  EXPECT_FALSE(catalog_->HasBlob(info.hash));
  EXPECT_FALSE(catalog_->FindChunk(third.hash).has_value());
}

TEST_F(CatalogTest, OnlyTheServedVersionsFilesAndThumbnailsAreServedByHash) {
  auto h = [](std::string_view s) { return Hash::Of(s); };
  VersionDraft d1 = Draft();
  d1.thumbnail = h("cover 1");
  ASSERT_TRUE(catalog_->CommitVersion(d1).has_value());
  VersionDraft d2 = Draft(" 2");
  d2.root.children.pop_back();  // style.css is in version 1 only
  d2.thumbnail = h("cover 2");
  d2.root.children[0].thumbnail = h("fr thumbnail");
  ASSERT_TRUE(catalog_->CommitVersion(d2).has_value());

  for (auto served : {h("fr/eleve.html"), h("cover 2"), h("fr thumbnail")}) {
    auto is = catalog_->IsServedBlob(served);
    ASSERT_TRUE(is.has_value());
    EXPECT_TRUE(*is) << served.Hex();
  }
  // Kept with version 1, which learners no longer see; and a hash the catalog never named.
  for (auto hidden : {h("style.css"), h("cover 1"), h("never imported")}) {
    auto is = catalog_->IsServedBlob(hidden);
    ASSERT_TRUE(is.has_value());
    EXPECT_FALSE(*is) << hidden.Hex();
  }
}

TEST_F(CatalogTest, ReferencedBlobsCoverEveryVersion) {
  ASSERT_TRUE(catalog_->CommitVersion(Draft()).has_value());
  VersionDraft d2 = Draft(" 2");
  d2.root.children.pop_back();  // drop style.css from v2
  ASSERT_TRUE(catalog_->CommitVersion(d2).has_value());
  auto refs = catalog_->ReferencedBlobs();
  ASSERT_TRUE(refs.has_value());
  EXPECT_TRUE(refs->count(Hash::Of(std::string_view("style.css"))));  // still in v1
  ASSERT_TRUE(catalog_->PruneVersions(0).has_value());
  refs = catalog_->ReferencedBlobs();
  EXPECT_FALSE(refs->count(Hash::Of(std::string_view("style.css"))));
}

TEST_F(CatalogTest, RejectsABadChannelId) {
  VersionDraft d = Draft();
  d.channel_id = "../etc";
  auto v = catalog_->CommitVersion(d);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace outpost

namespace outpost::db {
namespace {

TEST(DbTest, AStatementThatFailsToPrepareReportsItsErrorInsteadOfCrashing) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  Stmt s(raw, "SELECT no_such_column FROM no_such_table");
  EXPECT_FALSE(s.ok());
  s.Bind(1, int64_t{1}).Bind(2, std::string_view("x"));
  EXPECT_FALSE(s.Step());
  Status st = s.Run();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no_such_table"), std::string::npos) << st.message();
  sqlite3_close(raw);
}

}  // namespace
}  // namespace outpost::db

namespace outpost {
namespace {

TEST_F(CatalogTest, SearchFiltersAndFacets) {
  ASSERT_TRUE(catalog_->CommitVersion(Draft()).has_value());
  SearchFilters fr;
  fr.language = "fr";
  EXPECT_EQ(catalog_->Search("eleve", 20, fr)->size(), 1u);
  SearchFilters ar;
  ar.language = "ar";
  EXPECT_EQ(catalog_->Search("eleve", 20, ar)->size(), 0u);
  SearchFilters video;
  video.kind = "video";
  EXPECT_EQ(catalog_->Search("eleve", 20, video)->size(), 0u);
  SearchFilters other_channel;
  other_channel.channel_id = "nope";
  EXPECT_EQ(catalog_->Search("eleve", 20, other_channel)->size(), 0u);
  auto facets = catalog_->Facets();
  EXPECT_EQ(facets.languages, (std::vector<std::string>{"ar", "fr"}));
  EXPECT_NE(std::find(facets.kinds.begin(), facets.kinds.end(), "html"), facets.kinds.end());
}

}  // namespace
}  // namespace outpost

namespace outpost {
namespace {

// ---- signed manifests and the publisher's version numbers (schema 2) ----

// Stand-ins for sync's envelopes: the catalog keeps them as opaque bytes.
const std::string kEnvelope5("OPSM\0\x01 five", 11);
const Hash kManifest5 = Hash::Of(std::string_view("manifest five"));

TEST_F(CatalogTest, AVersionCommittedAsThePublishersNumberIsServedWithItsManifest) {
  auto v = catalog_->CommitVersionAs(Draft(), 5, kEnvelope5, kManifest5);
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_EQ(*v, 5);
  auto ch = catalog_->Channel("water");
  ASSERT_TRUE(ch.has_value());
  EXPECT_EQ(ch->served_version, 5);
  EXPECT_EQ(ch->latest_version, 5);
  EXPECT_EQ(ch->manifest_hash, kManifest5);
  EXPECT_EQ(ch->files, 3);
  EXPECT_EQ(catalog_->ManifestEnvelope("water", 5), kEnvelope5);  // bytes kept exactly, NUL too
  EXPECT_EQ(SearchPaths("eleve"), std::vector<std::string>{"fr/eleve.html"});
  // The same tree under a newer number is still a new version: the publisher said so.
  auto v7 = catalog_->CommitVersionAs(Draft(), 7, "seven", Hash::Of(std::string_view("7")));
  ASSERT_TRUE(v7.has_value()) << v7.error().ToString();
  EXPECT_EQ(catalog_->Channel("water")->served_version, 7);
  // A local import after that continues from the highest number.
  EXPECT_EQ(*catalog_->CommitVersion(Draft(" (local)")), 8);
  EXPECT_EQ(catalog_->Channel("water")->manifest_hash, std::nullopt);
}

TEST_F(CatalogTest, CommitVersionAsRefusesAnOlderOrEqualVersionAndChangesNothing) {
  ASSERT_TRUE(catalog_->CommitVersionAs(Draft(), 5, kEnvelope5, kManifest5).has_value());
  for (int64_t older : {int64_t{5}, int64_t{3}, int64_t{1}}) {
    auto v = catalog_->CommitVersionAs(Draft(" old"), older, "old", Hash{});
    ASSERT_FALSE(v.has_value()) << older;
    EXPECT_EQ(v.error().code(), StatusCode::kInvalidArgument);
    const std::string& m = v.error().message();
    EXPECT_NE(m.find("version " + std::to_string(older)), std::string::npos) << m;
    EXPECT_NE(m.find("version 5"), std::string::npos) << m;
  }
  EXPECT_EQ(catalog_->CommitVersionAs(Draft(), 0, "zero", Hash{}).error().code(),
            StatusCode::kInvalidArgument);
  auto ch = catalog_->Channel("water");
  EXPECT_EQ(ch->served_version, 5);
  EXPECT_EQ(ch->latest_version, 5);
  EXPECT_EQ(ch->meta.title, "Water");
  EXPECT_FALSE(catalog_->LoadVersion("water", 3).has_value());
}

TEST_F(CatalogTest, CommitVersionAsCountsVersionsImportedLocally) {
  // A site that imported the channel itself twice holds versions 1 and 2: a publisher's
  // version 2 is not newer than what it holds.
  ASSERT_EQ(*catalog_->CommitVersion(Draft()), 1);
  ASSERT_EQ(*catalog_->CommitVersion(Draft(" 2")), 2);
  auto v = catalog_->CommitVersionAs(Draft(" 2b"), 2, "x", Hash{});
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message().find("already holds version 2"), std::string::npos)
      << v.error().message();
  EXPECT_EQ(*catalog_->CommitVersionAs(Draft(" 3"), 3, "x", Hash{}), 3);
}

// What a node does when a trust list revokes the key that signed its newest versions.
TEST_F(CatalogTest, WithdrawnVersionsAreGoneForGoodAndTheNextNumberComparesWithWhatIsLeft) {
  ASSERT_TRUE(catalog_->CommitVersionAs(Draft(), 5, kEnvelope5, kManifest5).has_value());
  ASSERT_TRUE(catalog_->CommitVersionAs(Draft(" owned"), 8, "eight", Hash{}).has_value());
  ASSERT_TRUE(catalog_->CommitVersionAs(Draft(" owned"), 9, "nine", Hash{}).has_value());
  EXPECT_EQ(catalog_->Versions("water"), (std::vector<int64_t>{9, 8, 5}));
  // A version to serve that is not left is refused, and nothing changes.
  EXPECT_EQ(catalog_->WithdrawVersions("water", {9, 8}, 8).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->Versions("water"), (std::vector<int64_t>{9, 8, 5}));

  ASSERT_TRUE(catalog_->WithdrawVersions("water", {9, 8}, 5).ok());
  auto reopened = Catalog::Open(dir_.path() / "catalog.db");  // as after a restart
  ASSERT_TRUE(reopened.has_value());
  auto ch = (*reopened)->Channel("water");
  EXPECT_EQ(ch->served_version, 5);
  EXPECT_EQ(ch->meta.title, "Water");
  EXPECT_EQ((*reopened)->Versions("water"), std::vector<int64_t>{5});
  EXPECT_FALSE((*reopened)->ManifestEnvelope("water", 9).has_value());
  EXPECT_EQ(SearchPaths("eleve"), std::vector<std::string>{"fr/eleve.html"});
  // Versions only grow from what is left: 6 is taken now, 5 again is not.
  EXPECT_FALSE(catalog_->CommitVersionAs(Draft(), 5, "again", Hash{}).has_value());
  EXPECT_EQ(*catalog_->CommitVersionAs(Draft(" 6"), 6, "six", Hash{}), 6);

  // Nothing left to serve: the channel is hidden, no page and no search hit.
  ASSERT_TRUE(catalog_->WithdrawVersions("water", {6, 5}, 0).ok());
  EXPECT_EQ(catalog_->Channel("water")->served_version, 0);
  EXPECT_FALSE(catalog_->NodeByPath("water", "fr/eleve.html").has_value());
  EXPECT_TRUE(SearchPaths("eleve").empty());
  EXPECT_TRUE(catalog_->CheckIntegrity().empty());
}

TEST_F(CatalogTest, EverySignedManifestTakenIsAlsoKeptBesideTheCatalog) {
  ASSERT_EQ(*catalog_->CommitVersionAs(Draft(), 5, kEnvelope5, kManifest5), 5);
  EXPECT_EQ(testing::ReadFile(dir_.path() / "manifests" / "water" / "5.opsm"), kEnvelope5);
  ASSERT_EQ(*catalog_->CommitVersion(Draft("other")), 6);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "manifests" / "water" / "6.opsm"));
  ASSERT_TRUE(catalog_->AttachManifest("water", 6, "six", kManifest5).ok());
  EXPECT_EQ(testing::ReadFile(dir_.path() / "manifests" / "water" / "6.opsm"), "six");
  // Pruning a version removes its copy.
  ASSERT_EQ(*catalog_->PruneVersions(0), 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "manifests" / "water" / "5.opsm"));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "manifests" / "water" / "6.opsm"));
}

TEST_F(CatalogTest, AManifestAttachesToAStoredVersion) {
  ASSERT_EQ(*catalog_->CommitVersion(Draft()), 1);
  EXPECT_EQ(catalog_->Channel("water")->manifest_hash, std::nullopt);
  EXPECT_EQ(catalog_->ManifestEnvelope("water", 1), std::nullopt);
  ASSERT_TRUE(catalog_->AttachManifest("water", 1, kEnvelope5, kManifest5).ok());
  EXPECT_EQ(catalog_->Channel("water")->manifest_hash, kManifest5);
  EXPECT_EQ(catalog_->ManifestEnvelope("water", 1), kEnvelope5);
  // Attaching again replaces it; a version that does not exist is NotFound.
  Hash other = Hash::Of(std::string_view("other"));
  ASSERT_TRUE(catalog_->AttachManifest("water", 1, "other", other).ok());
  EXPECT_EQ(catalog_->ManifestEnvelope("water", 1), "other");
  EXPECT_EQ(catalog_->AttachManifest("water", 2, "x", other).code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->AttachManifest("air", 1, "x", other).code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->ManifestEnvelope("air", 1), std::nullopt);
}

// Turns the catalog back into what schema 1 made: the same tables without the manifest columns,
// the thumbnail index and the labels table.
void DowngradeToSchemaOne(const std::filesystem::path& db_path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db,
                        "DROP INDEX nodes_listed_by_parent; DROP TABLE value_labels; DROP INDEX nodes_by_thumbnail; "
                        "ALTER TABLE channel_versions DROP COLUMN manifest_hash; "
                        "ALTER TABLE channel_versions DROP COLUMN manifest; "
                        "PRAGMA user_version = 1;",
                        nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST_F(CatalogTest, ASchemaOneCatalogMigratesKeepingItsVersionsUnsigned) {
  ASSERT_EQ(*catalog_->CommitVersion(Draft()), 1);
  catalog_.reset();
  DowngradeToSchemaOne(dir_.path() / "catalog.db");

  auto reopened = Catalog::Open(dir_.path() / "catalog.db");
  ASSERT_TRUE(reopened.has_value()) << reopened.error().ToString();
  catalog_ = std::move(*reopened);
  EXPECT_EQ(catalog_->schema_version(), Catalog::kSchemaVersion);
  auto ch = catalog_->Channel("water");
  ASSERT_TRUE(ch.has_value());
  EXPECT_EQ(ch->served_version, 1);
  EXPECT_EQ(ch->manifest_hash, std::nullopt);
  EXPECT_EQ(catalog_->ManifestEnvelope("water", 1), std::nullopt);
  EXPECT_TRUE(catalog_->LoadVersion("water", 1).has_value());
  EXPECT_EQ(SearchPaths("eleve"), std::vector<std::string>{"fr/eleve.html"});
  EXPECT_TRUE(catalog_->CheckIntegrity().empty());
  // And the new columns work.
  ASSERT_TRUE(catalog_->AttachManifest("water", 1, kEnvelope5, kManifest5).ok());
  EXPECT_EQ(catalog_->Channel("water")->manifest_hash, kManifest5);
  EXPECT_EQ(*catalog_->CommitVersionAs(Draft(" 2"), 2, "two", kManifest5), 2);
}

}  // namespace
}  // namespace outpost

namespace outpost {
namespace {

// ---- reading a damaged or read-only catalog (issue 14)

class DamagedCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Catalog::Open(path());
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    ASSERT_TRUE((*c)->CommitVersion(Draft()).has_value());
  }
  std::filesystem::path path() const { return dir_.path() / "catalog.db"; }
  std::set<std::string> Files() const {
    std::set<std::string> out;
    for (auto& e : std::filesystem::directory_iterator(dir_.path())) {
      out.insert(e.path().filename().string());
    }
    return out;
  }
  TempDir dir_;
};

TEST_F(DamagedCatalogTest, AReadOnlyOpenChangesNothingAndLeavesNoFileBehind) {
  auto before = Files();
  {
    auto c = Catalog::OpenReadOnly(path());
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    EXPECT_EQ((*c)->Channels().size(), 1u);
    EXPECT_TRUE((*c)->CheckIntegrity().empty());
    EXPECT_TRUE((*c)->QuickCheck().empty());
    BlobInfo blob;
    blob.hash = Hash::Of("x");
    EXPECT_FALSE((*c)->RecordBlobs({blob}).ok());  // writes fail
  }
  EXPECT_EQ(Files(), before);
  EXPECT_EQ(Catalog::OpenReadOnly(dir_.path() / "none.db").error().code(), StatusCode::kNotFound);
}

TEST_F(DamagedCatalogTest, AFailedReadIsKeptForTheCallingThreadUntilTaken) {
  testing::DamagePage(path(), "nodes", testing::PageDamage::kZero);
  auto c = Catalog::OpenReadOnly(path());
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_TRUE(Catalog::TakeReadError().ok());
  EXPECT_FALSE((*c)->NodeByPath("water", "fr/eleve.html").has_value());
  Status other_thread;
  std::thread([&] { other_thread = Catalog::TakeReadError(); }).join();
  EXPECT_TRUE(other_thread.ok());
  Status taken = Catalog::TakeReadError();
  EXPECT_EQ(taken.code(), StatusCode::kCorrupt) << taken.ToString();
  EXPECT_TRUE(Catalog::TakeReadError().ok());  // taken once
  EXPECT_FALSE((*c)->QuickCheck().empty());
}

TEST_F(DamagedCatalogTest, TheFileIndexGivesTheHashesOfADamagedNodesTable) {
  testing::DamagePage(path(), "nodes", testing::PageDamage::kFlipHeader);
  auto c = Catalog::OpenReadOnly(path());
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  std::vector<std::string> problems;
  auto hashes = (*c)->ReadableBlobReferences(&problems);
  EXPECT_TRUE(hashes.count(Hash::Of("fr/eleve.html")));
  EXPECT_TRUE(hashes.count(Hash::Of("ar/rain.html")));
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("the nodes table"), std::string::npos) << problems[0];
}

}  // namespace
}  // namespace outpost
