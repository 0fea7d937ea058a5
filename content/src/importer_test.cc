#include "outpost/content/importer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <map>

#include "outpost/base/db.h"
#include "outpost/content/metadata.h"
#include "search_tokenizer.h"
#include "testing/fault_env.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::FaultEnv;
using testing::TempDir;

const char* kPage = R"(<!DOCTYPE html><html lang="fr"><head><title>L'&eacute;vaporation</title>
<link rel="stylesheet" href="../style/s.css"></head><body><h1>L'évaporation</h1>
<p>Le soleil chauffe l'eau de la mer.</p><img src="../images/sun.svg" alt="soleil">
<script>var hidden = "scriptword";</script></body></html>)";

class ImporterTest : public ::testing::Test {
 public:
  void SetUp() override { Reopen(Env::Default()); }
  void Reopen(Env* env) {
    importer_.reset();
    catalog_.reset();
    store_.reset();
    auto store = BlobStore::Open(data_.path(), env);
    ASSERT_TRUE(store.has_value());
    store_ = std::move(*store);
    auto catalog = Catalog::Open(data_.path() / "catalog.db");
    ASSERT_TRUE(catalog.has_value());
    catalog_ = std::move(*catalog);
    importer_ = std::make_unique<Importer>(store_.get(), catalog_.get());
  }
  // A small plain folder with no metadata.
  void MakeFolder() {
    src_.Write("Science/fr/01-evaporation.html", kPage);
    src_.Write("Science/style/s.css", "body { color: black }");
    src_.Write("Science/images/sun.svg", "<svg xmlns='http://www.w3.org/2000/svg'></svg>");
    src_.Write("Science/02_the-rain_cycle.pdf", "%PDF-1.4\n% a tiny pdf\n");
    src_.Write("Science/video/clip.mp4", std::string("\0\0\0\x18" "ftypisom", 12) +
                                             testing::RandomBytes(300000, 1));
    src_.Write("Science/quiz.exercise.json",
               R"({"title":"Quiz","questions":[{"type":"numeric","prompt":"2+2?","answer":4}]})");
  }
  fs::path Folder() { return src_.path() / "Science"; }
  Result<ImportReport> Import(ImportOptions options = {}) {
    return importer_->Import(Folder(), options);
  }

  TempDir data_, src_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<Importer> importer_;
};

TEST_F(ImporterTest, APlainFolderBecomesAChannel) {
  MakeFolder();
  auto report = Import();
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->channel_id, "science");
  EXPECT_EQ(report->version, 1);
  EXPECT_EQ(report->files, 6);
  EXPECT_EQ(report->new_blobs, 6);
  auto ch = catalog_->Channel("science");
  ASSERT_TRUE(ch.has_value());
  EXPECT_EQ(ch->meta.title, "Science");
  auto page = catalog_->NodeByPath("science", "fr/01-evaporation.html");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->kind, NodeKind::kHtml);
  EXPECT_EQ(page->meta.title, "L'évaporation");
  EXPECT_EQ(page->meta.language, "fr");
  EXPECT_EQ(catalog_->NodeByPath("science", "02_the-rain_cycle.pdf")->meta.title, "The rain cycle");
  EXPECT_EQ(catalog_->NodeByPath("science", "02_the-rain_cycle.pdf")->kind, NodeKind::kDocument);
  EXPECT_EQ(catalog_->NodeByPath("science", "video/clip.mp4")->kind, NodeKind::kVideo);
  EXPECT_EQ(catalog_->NodeByPath("science", "images/sun.svg")->kind, NodeKind::kImage);
  EXPECT_EQ(catalog_->NodeByPath("science", "quiz.exercise.json")->kind, NodeKind::kExercise);
  auto css = catalog_->NodeByPath("science", "style/s.css");
  ASSERT_TRUE(css.has_value());
  EXPECT_FALSE(css->listed);
  // Blobs are stored whole and the chunk index knows them.
  EXPECT_EQ(testing::ReadFile(store_->PathOf(*page->blob)), kPage);
  EXPECT_TRUE(catalog_->HasBlob(*page->blob));
  // Page text is searchable; script text is not.
  EXPECT_EQ(catalog_->Search("soleil")->size(), 1u);
  EXPECT_EQ(catalog_->Search("scriptword")->size(), 0u);
  // Children in natural order: folders and files by name.
  auto top = catalog_->Children(ch->root_node);
  std::vector<std::string> names;
  for (auto& n : top) names.push_back(n.path);
  EXPECT_EQ(names, (std::vector<std::string>{"02_the-rain_cycle.pdf", "fr", "images",
                                             "quiz.exercise.json", "style", "video"}));
}

TEST_F(ImporterTest, MetadataSetsIdsTitlesOrderAndInheritance) {
  MakeFolder();
  src_.Write("Science/outpost.toml", R"(
[channel]
id = "water-cycle"
title = "The water cycle"
license = "CC BY 4.0"
thumbnail = "images/sun.svg"

[topic]
grade = "5"
subject = "science"
order = ["quiz.exercise.json", "fr"]

[files."style"]
hidden = true

[files."02_the-rain_cycle.pdf"]
title = "Rain, a summary"
description = "One page."
)");
  src_.Write("Science/fr/outpost.toml", "[topic]\ntitle = \"En français\"\nlanguage = \"fr\"\n");
  auto report = Import();
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->channel_id, "water-cycle");
  auto ch = catalog_->Channel("water-cycle");
  EXPECT_EQ(ch->meta.title, "The water cycle");
  EXPECT_TRUE(ch->thumbnail.has_value());
  auto top = catalog_->Children(ch->root_node);
  ASSERT_GE(top.size(), 2u);
  EXPECT_EQ(top[0].path, "quiz.exercise.json");
  EXPECT_EQ(top[1].path, "fr");
  EXPECT_EQ(top[1].meta.title, "En français");
  for (auto& n : top) EXPECT_NE(n.path, "style");  // hidden folder
  auto pdf = catalog_->NodeByPath("water-cycle", "02_the-rain_cycle.pdf");
  EXPECT_EQ(pdf->meta.title, "Rain, a summary");
  EXPECT_EQ(pdf->meta.grade, "5");
  EXPECT_EQ(pdf->meta.license, "CC BY 4.0");
  auto page = catalog_->NodeByPath("water-cycle", "fr/01-evaporation.html");
  EXPECT_EQ(page->meta.subject, "science");
  EXPECT_EQ(page->meta.grade, "5");
}

TEST_F(ImporterTest, LabelsInTheRootMetadataGiveAValuesWordsPerLanguage) {
  MakeFolder();
  src_.Write("Science/outpost.toml", R"(
[topic]
grade = "CM2"
subject = "Géographie locale"

[labels.subject."Géographie locale"]
en = "Local geography"
AR = "الجغرافيا المحلية"

[labels.grade.CM2]
en = "Grade 5"
ar_EG = "الصف الخامس"
)");
  auto report = Import();
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  std::vector<ValueLabel> want = {{"grade", "CM2", "ar-eg", "الصف الخامس"},
                                  {"grade", "CM2", "en", "Grade 5"},
                                  {"subject", "Géographie locale", "ar", "الجغرافيا المحلية"},
                                  {"subject", "Géographie locale", "en", "Local geography"}};
  EXPECT_EQ(catalog_->ValueLabels("science"), want);
  auto version = catalog_->LoadVersion("science", report->version);
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(version->labels, want);
}

TEST_F(ImporterTest, BadLabelsAreRefusedWithTheFileAndKey) {
  MakeFolder();
  struct Case {
    const char* file;
    const char* toml;
    const char* says;
  } cases[] = {
      {"Science/outpost.toml", "[labels.colour.red]\nen = \"Red\"\n", "unknown table [labels.colour]"},
      {"Science/outpost.toml", "[labels.grade.CM2]\n\"en gb\" = \"Year 6\"\n", "language tag"},
      {"Science/outpost.toml", "[labels.grade.CM2]\nen = \"\"\n", "must be 1 to 1024 bytes"},
      {"Science/outpost.toml", "[labels.grade.CM2]\nen = \"a\"\nEN = \"b\"\n", "twice"},
      {"Science/fr/outpost.toml", "[labels.grade.CM2]\nen = \"Year 6\"\n", "channel's root"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.toml);
    fs::remove(Folder() / "outpost.toml");
    fs::remove(Folder() / "fr" / "outpost.toml");
    src_.Write(c.file, c.toml);
    auto report = Import();
    ASSERT_FALSE(report.has_value());
    EXPECT_NE(report.error().message().find("outpost.toml"), std::string::npos);
    EXPECT_NE(report.error().message().find(c.says), std::string::npos) << report.error().message();
  }
}

TEST(ValueKeyTest, CaseSpacesUnderscoresAndHyphensDoNotMatter) {
  EXPECT_EQ(ValueKey("  Social_Studies "), "social-studies");
  EXPECT_EQ(ValueKey("CC BY-SA 4.0"), "cc-by-sa-4.0");
  EXPECT_EQ(ValueKey("cc-by-sa-4.0"), "cc-by-sa-4.0");
  EXPECT_EQ(ValueKey("Géographie  locale"), "géographie-locale");
  EXPECT_EQ(ValueKey(" - "), "");
}

TEST_F(ImporterTest, ReimportingAnUnchangedFolderMakesNoNewVersion) {
  MakeFolder();
  ASSERT_EQ(Import()->version, 1);
  auto again = Import();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->version, 0);
  EXPECT_EQ(again->files_read, 0);  // the import cache knew every file
  EXPECT_EQ(again->new_blobs, 0);
  ImportOptions rehash;
  rehash.rehash = true;
  auto reread = Import(rehash);
  EXPECT_EQ(reread->version, 0);
  EXPECT_EQ(reread->files_read, 6);
}

TEST_F(ImporterTest, AChangedFolderMakesANewVersionReusingUnchangedBlobs) {
  MakeFolder();
  ASSERT_EQ(Import()->version, 1);
  auto v1_page = catalog_->NodeByPath("science", "fr/01-evaporation.html");
  src_.Write("Science/fr/01-evaporation.html", std::string(kPage) + "<p>Un paragraphe.</p>");
  fs::rename(Folder() / "video", Folder() / "films");  // a move costs nothing
  auto report = Import();
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->version, 2);
  EXPECT_EQ(report->new_blobs, 1);
  EXPECT_EQ(report->reused_blobs, 5);
  EXPECT_EQ(catalog_->Channel("science")->served_version, 2);
  EXPECT_FALSE(catalog_->NodeByPath("science", "video/clip.mp4").has_value());
  EXPECT_TRUE(catalog_->NodeByPath("science", "films/clip.mp4").has_value());
  EXPECT_NE(catalog_->NodeByPath("science", "fr/01-evaporation.html")->blob, v1_page->blob);
  EXPECT_TRUE(store_->Contains(*v1_page->blob));  // the old version's blob stays
}

TEST_F(ImporterTest, ThousandsOfPlainFilesImport) {
  for (int i = 0; i < 1500; ++i) {
    std::string lang = i % 3 == 0 ? "en" : (i % 3 == 1 ? "fr" : "ar");
    src_.Write("Science/" + lang + "/unit" + std::to_string(i / 100) + "/page" +
                   std::to_string(i) + ".html",
               "<html lang='" + lang + "'><title>Page " + std::to_string(i) +
                   "</title><p>élève الماء " + std::to_string(i) + "</p></html>");
  }
  auto report = Import();
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->files, 1500);
  EXPECT_EQ(catalog_->Search("Page 1499")->size(), 1u);
}

std::string ImportError(ImporterTest* t, ImportOptions options = {}) {
  auto r = t->importer_->Import(t->Folder(), options);
  return r.has_value() ? "" : r.error().message();
}

// Run's steps before the commit: the options and the folder are checked first, the channel id
// once the folder is scanned, and the caller's check_channel last; each refusal leaves nothing
// served.
TEST_F(ImporterTest, ABadChannelIdOrFolderIsRefusedBeforeAnythingIsCommitted) {
  MakeFolder();
  ImportOptions bad_id;
  bad_id.channel_id = "-science";
  EXPECT_NE(ImportError(this, bad_id).find("\"-science\" must be 1 to 64 characters"),
            std::string::npos);
  auto file = importer_->Import(Folder() / "quiz.exercise.json", {});
  ASSERT_FALSE(file.has_value());
  EXPECT_NE(file.error().message().find("is not a folder"), std::string::npos);
  src_.Write("___/a.html", "<p>a</p>");  // a name with no letter or digit to make an id of
  auto nameless = importer_->Import(src_.path() / "___", {});
  ASSERT_FALSE(nameless.has_value());
  EXPECT_NE(nameless.error().message().find("cannot make a channel id from the folder name"),
            std::string::npos);
  ImportOptions refused;
  refused.check_channel = [](const std::string& id) {
    return InvalidArgument("not here: " + id);
  };
  EXPECT_EQ(ImportError(this, refused), "not here: science");
  EXPECT_TRUE(catalog_->Channels().empty());
}

TEST_F(ImporterTest, AnInvalidUtf8NameIsNamedWithItsBadBytesEscaped) {
  MakeFolder();
  src_.Write("Science/bad\xFFname.html", "<p>x</p>");
  std::string err = ImportError(this);
  EXPECT_NE(err.find("bad\\xFFname.html: the file name is not valid UTF-8"), std::string::npos)
      << err;
  EXPECT_TRUE(catalog_->Channels().empty());
}

TEST_F(ImporterTest, ALinkOutsideTheFolderAndALoopAreRefused) {
  MakeFolder();
  fs::create_symlink("/etc/hostname", Folder() / "outside");
  fs::create_directory_symlink("..", Folder() / "fr" / "loop");
  fs::create_symlink(Folder() / "nothing-here", Folder() / "dangling");
  std::string err = ImportError(this);
  EXPECT_NE(err.find("outside: symbolic link points outside the folder"), std::string::npos) << err;
  EXPECT_NE(err.find("fr/loop: symbolic link loop"), std::string::npos) << err;
  EXPECT_NE(err.find("dangling: symbolic link to nothing"), std::string::npos) << err;
  EXPECT_TRUE(catalog_->Channels().empty());
}

TEST_F(ImporterTest, ALinkInsideTheFolderIsFollowed) {
  MakeFolder();
  fs::create_symlink(Folder() / "images" / "sun.svg", Folder() / "sun-link.svg");
  auto report = Import();
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_TRUE(catalog_->NodeByPath("science", "sun-link.svg").has_value());
}

TEST_F(ImporterTest, BrokenMetadataNamesTheFileAndLine) {
  MakeFolder();
  src_.Write("Science/fr/outpost.toml", "[topic]\ntitle = \"unclosed\n");
  std::string err = ImportError(this);
  EXPECT_NE(err.find("fr/outpost.toml:2"), std::string::npos) << err;
  src_.Write("Science/fr/outpost.toml", "[topic]\ntitel = \"typo\"\n");
  err = ImportError(this);
  EXPECT_NE(err.find("fr/outpost.toml:2: unknown key \"topic.titel\""), std::string::npos) << err;
  // Even --skip-errors refuses broken metadata: it would mislabel many files.
  ImportOptions skip;
  skip.skip_errors = true;
  EXPECT_FALSE(ImportError(this, skip).empty());
  EXPECT_TRUE(catalog_->Channels().empty());
}

TEST_F(ImporterTest, ABrokenExerciseNamesTheFileAndQuestion) {
  MakeFolder();
  src_.Write("Science/bad.exercise.json",
             R"({"questions":[{"type":"choice","prompt":"?","choices":["a","b"],"answer":5}]})");
  std::string err = ImportError(this);
  EXPECT_NE(err.find("bad.exercise.json: question 1: \"answer\""), std::string::npos) << err;
}

TEST_F(ImporterTest, SkipErrorsImportsTheRestAndListsWhatItLeftOut) {
  MakeFolder();
  src_.Write("Science/bad\xFEname.pdf", "%PDF-1.4");
  ImportOptions skip;
  skip.skip_errors = true;
  auto report = Import(skip);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->files, 6);
  ASSERT_EQ(report->skipped.size(), 1u);
  EXPECT_EQ(report->skipped[0].path, "bad\\xFEname.pdf");
}

TEST_F(ImporterTest, AFileThatChangesOrVanishesMidImportIsReported) {
  MakeFolder();
  ImportOptions options;
  options.progress = [&](const ImportProgress& p) {
    if (p.current == "02_the-rain_cycle.pdf") {
      std::ofstream(Folder() / "02_the-rain_cycle.pdf", std::ios::app) << "more bytes";
    }
    if (p.current == "images/sun.svg") fs::remove(Folder() / "images" / "sun.svg");
  };
  std::string err = ImportError(this, options);
  EXPECT_NE(err.find("02_the-rain_cycle.pdf: changed during the import"), std::string::npos)
      << err;
  EXPECT_NE(err.find("images/sun.svg: vanished during the import"), std::string::npos) << err;
  EXPECT_TRUE(catalog_->Channels().empty());
}

TEST_F(ImporterTest, AFullDiskAtAnyStepChangesNothingServed) {
  MakeFolder();
  ASSERT_EQ(Import()->version, 1);
  auto before = catalog_->Channel("science");
  src_.Write("Science/new/more.html", "<title>More</title>" + testing::RandomBytes(100000, 7));
  src_.Write("Science/new/video.mp4", testing::RandomBytes(700000, 8));
  FaultEnv env;
  Reopen(&env);
  long step = 0;
  for (;; ++step) {
    env.FailAfter(step, FaultEnv::Fault::kNoSpace);
    ImportOptions rehash;
    rehash.rehash = true;  // make every file go through the store
    rehash.threads = 1;    // so that the countdown meets the same operations every time
    auto r = Import(rehash);
    if (!env.fired()) {
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      break;
    }
    ASSERT_FALSE(r.has_value()) << "step " << step;
    EXPECT_EQ(r.error().code(), StatusCode::kNoSpace) << r.error().ToString();
    EXPECT_NE(r.error().message().find("importing "), std::string::npos)
        << r.error().message();
    auto now = catalog_->Channel("science");
    EXPECT_EQ(now->served_version, before->served_version) << "step " << step;
    EXPECT_EQ(now->tree_hash, before->tree_hash);
    EXPECT_TRUE(catalog_->NodeByPath("science", "fr/01-evaporation.html").has_value());
    env.Heal();
  }
  EXPECT_GT(step, 5);
  EXPECT_EQ(catalog_->Channel("science")->served_version, 2);
}

// Counts the syncs an import asks for: per file (WritableFile::Sync) and per file system.
class SyncCountingEnv : public FaultEnv {
 public:
  std::atomic<int> file_syncs{0}, fs_syncs{0};
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const fs::path& path,
                                                        bool private_file) override {
    auto base = FaultEnv::NewWritableFile(path, private_file);
    if (!base) return base.error();
    return std::unique_ptr<WritableFile>(new Counted(this, std::move(*base)));
  }
  Status SyncFilesystem(const fs::path& path) override {
    ++fs_syncs;
    return FaultEnv::SyncFilesystem(path);
  }

 private:
  struct Counted : WritableFile {
    Counted(SyncCountingEnv* env, std::unique_ptr<WritableFile> base)
        : env(env), base(std::move(base)) {}
    Status Append(std::span<const uint8_t> data) override { return base->Append(data); }
    Status Sync() override {
      ++env->file_syncs;
      return base->Sync();
    }
    Status Close() override { return base->Close(); }
    SyncCountingEnv* env;
    std::unique_ptr<WritableFile> base;
  };
};

void WritePages(const TempDir& src, int count, int seed) {
  for (int i = 0; i < count; ++i) {
    src.Write("Science/pages/p" + std::to_string(i) + ".html",
              "<title>Page " + std::to_string(i) + "</title><p>élève " + std::to_string(seed) +
                  "</p>" + testing::RandomBytes(3000, static_cast<uint64_t>(seed * 1000 + i)));
  }
}

TEST_F(ImporterTest, ManySmallFilesAreMadeDurableOneBatchAtATimeNotOneFsyncEach) {
  WritePages(src_, 40, 1);
  SyncCountingEnv env;
  Reopen(&env);
  ImportOptions options;
  options.batch_files = 16;
  auto report = Import(options);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->new_blobs, 40);
  EXPECT_EQ(env.file_syncs, 0);
  // 40 files in batches of 16: three batches, each one syncfs for the files and at most one for
  // their folders.
  EXPECT_GE(env.fs_syncs, 3);
  EXPECT_LE(env.fs_syncs, 6);
  for (int i = 0; i < 40; ++i) {
    auto node = catalog_->NodeByPath("science", "pages/p" + std::to_string(i) + ".html");
    ASSERT_TRUE(node.has_value()) << i;
    EXPECT_TRUE(store_->Verify(*node->blob).ok()) << i;
  }
}

// Every blob the catalog records is in the store, whole.
void ExpectRecordedBlobsWhole(const fs::path& db_path, BlobStore* store, const std::string& when) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  {
    db::Stmt s(db, "SELECT hash FROM blobs");
    while (s.Step()) {
      auto hash = s.HashAt(0);
      ASSERT_TRUE(hash.has_value());
      EXPECT_TRUE(store->Verify(*hash).ok()) << when << ": " << hash->Hex();
    }
  }
  sqlite3_close(db);
}

// A batch is written, synced with one syncfs, renamed into place, its folders synced, then
// recorded: a failure at any of those steps (and of any file's write) leaves the served version
// whole, records no blob that is not durable in place, and the next import completes.
TEST_F(ImporterTest, AFailureAtAnyStepOfABatchedInstallLeavesTheServedVersionWhole) {
  WritePages(src_, 6, 1);
  ASSERT_EQ(Import()->version, 1);
  FaultEnv env;
  Reopen(&env);
  int seed = 2;
  for (auto fault : {FaultEnv::Fault::kNoSpace, FaultEnv::Fault::kSyncFails,
                     FaultEnv::Fault::kRenameFails}) {
    auto before = catalog_->Channel("science");
    WritePages(src_, 9, seed++);  // every page changes (three are new the first time)
    long step = 0;
    for (;; ++step) {
      std::string when = "fault " + std::to_string(static_cast<int>(fault)) + " at step " +
                         std::to_string(step);
      env.FailAfter(step, fault);
      ImportOptions options;
      options.threads = 1;
      options.batch_files = 4;
      auto r = Import(options);
      if (!env.fired()) {
        ASSERT_TRUE(r.has_value()) << when << ": " << r.error().ToString();
        break;
      }
      ASSERT_FALSE(r.has_value()) << when;
      EXPECT_NE(r.error().message().find("importing"), std::string::npos) << r.error().message();
      EXPECT_EQ(catalog_->Channel("science")->tree_hash, before->tree_hash) << when;
      ExpectRecordedBlobsWhole(data_.path() / "catalog.db", store_.get(), when);
      env.Heal();
    }
    EXPECT_GT(step, 2);
    EXPECT_EQ(catalog_->Channel("science")->served_version, before->served_version + 1);
  }
  EXPECT_EQ(catalog_->Channel("science")->served_version, 4);
  for (int i = 0; i < 9; ++i) {
    auto node = catalog_->NodeByPath("science", "pages/p" + std::to_string(i) + ".html");
    ASSERT_TRUE(node.has_value()) << i;
    EXPECT_TRUE(store_->Verify(*node->blob).ok()) << i;
  }
  EXPECT_TRUE(catalog_->CheckIntegrity().empty());
}

TEST_F(ImporterTest, AnUnreadableFileIsNamed) {
  MakeFolder();
  fs::path secret = src_.Write("Science/secret.pdf", "%PDF-1.4 secret");
  // Root reads anything; drop to an unprivileged user in a child process.
  if (geteuid() == 0) {
    for (const auto& p : {src_.path(), data_.path()}) {
      fs::permissions(p, fs::perms::all, fs::perm_options::add);
      for (auto& e : fs::recursive_directory_iterator(p)) {
        fs::permissions(e.path(), fs::perms::all, fs::perm_options::add);
      }
    }
  }
  fs::permissions(secret, fs::perms::none);
  EXPECT_EXIT(
      {
        if (geteuid() == 0 && (setegid(65534) != 0 || seteuid(65534) != 0)) _exit(3);
        auto r = importer_->Import(Folder(), {});
        fprintf(stderr, "%s\n", r.has_value() ? "imported" : r.error().message().c_str());
        _exit(r.has_value() ? 0 : 1);
      },
      ::testing::ExitedWithCode(1), "secret.pdf: cannot read: Permission denied");
}

}  // namespace
}  // namespace outpost

namespace outpost {
namespace {

// The search text the catalog indexed for each listed node of a version, by path.
std::map<std::string, std::string> IndexedBodies(const fs::path& db_path,
                                                 const std::string& channel, int64_t version) {
  std::map<std::string, std::string> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  EXPECT_TRUE(RegisterSearchTokenizer(db).ok());
  {
    db::Stmt s(db, "SELECT n.path, s.body FROM nodes n JOIN search s ON s.rowid = n.id "
                   "WHERE n.channel_id = ? AND n.version = ?");
    s.Bind(1, channel).Bind(2, version);
    while (s.Step()) out[s.Text(0)] = s.Text(1);
    EXPECT_TRUE(s.StepStatus().ok()) << s.StepStatus().ToString();
  }
  sqlite3_close(db);
  return out;
}

// Checks every node of `draft` against what the import indexed; counts the non-empty texts.
void ExpectIndexedText(const DraftNode& n, const std::map<std::string, std::string>& indexed,
                       int* with_text) {
  if (n.listed) {
    auto it = indexed.find(n.path);
    ASSERT_NE(it, indexed.end()) << n.path;
    EXPECT_EQ(n.body_text, it->second) << n.path;
    if (!n.body_text.empty()) ++*with_text;
  }
  for (const auto& c : n.children) ExpectIndexedText(c, indexed, with_text);
}

TEST_F(ImporterTest, FillBodyTextGivesAStoredVersionTheTextItsImportIndexed) {
  MakeFolder();
  // A page whose metadata calls it a document keeps its page text; a hidden page gets text
  // too (it is only not indexed); a long page is cut where the import cuts it.
  src_.Write("Science/notes.html", "<title>Notes</title><p>nuages et brouillard</p>");
  src_.Write("Science/style/hidden.html", "<p>invisible words</p>");
  std::string long_page = "<p>";
  for (int i = 0; i < 20000; ++i) long_page += "mot" + std::to_string(i) + " ";
  src_.Write("Science/long.html", long_page + "</p>");
  src_.Write("Science/outpost.toml", "[files.\"notes.html\"]\nkind = \"document\"\n"
                                     "[files.\"style\"]\nhidden = true\n");
  ASSERT_TRUE(Import().has_value());
  // Version 2 reads only the changed file: the others' text comes from the store (the import
  // cache's path), which must agree as well.
  src_.Write("Science/fr/01-evaporation.html", std::string(kPage) + "<p>nouveau</p>");
  auto second = Import();
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  ASSERT_EQ(second->version, 2);
  ASSERT_EQ(second->files_read, 1);

  for (int64_t version : {1, 2}) {
    SCOPED_TRACE("version " + std::to_string(version));
    auto draft = catalog_->LoadVersion("science", version);
    ASSERT_TRUE(draft.has_value()) << draft.error().ToString();
    ASSERT_TRUE(FillBodyText(&*draft, store_.get()).ok());
    int with_text = 0;
    ExpectIndexedText(draft->root, IndexedBodies(data_.path() / "catalog.db", "science", version),
                      &with_text);
    EXPECT_EQ(with_text, 4);  // the evaporation page, notes, the long page and the quiz
    const DraftNode* hidden = nullptr;
    for (const auto& c : draft->root.children) {
      if (c.path == "style") {
        for (const auto& f : c.children) {
          if (f.path == "style/hidden.html") hidden = &f;
        }
      }
    }
    ASSERT_NE(hidden, nullptr);
    EXPECT_NE(hidden->body_text.find("invisible"), std::string::npos);
  }
}

TEST_F(ImporterTest, FillBodyTextNamesANodeWhoseFileIsMissing) {
  MakeFolder();
  ASSERT_TRUE(Import().has_value());
  auto draft = catalog_->LoadVersion("science", 1);
  ASSERT_TRUE(draft.has_value());
  auto page = catalog_->NodeByPath("science", "fr/01-evaporation.html");
  fs::remove(store_->PathOf(*page->blob));
  Status st = FillBodyText(&*draft, store_.get());
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("fr/01-evaporation.html"), std::string::npos) << st.message();
}

// The school's materials describe an upload as an import of the same file would.
TEST_F(ImporterTest, DescribeFileGivesWhatAnImportGivesTheSameFile) {
  MakeFolder();
  ASSERT_TRUE(Import().has_value());
  auto draft = catalog_->LoadVersion("science", 1);
  ASSERT_TRUE(draft.has_value());
  ASSERT_TRUE(FillBodyText(&*draft, store_.get()).ok());
  int compared = 0;
  std::function<void(const DraftNode&)> compare = [&](const DraftNode& n) {
    for (const auto& c : n.children) compare(c);
    if (!n.blob || !n.listed) return;
    SCOPED_TRACE(n.path);
    auto described = DescribeFile(Folder() / n.path, n.path);
    ASSERT_TRUE(described.has_value()) << described.error().ToString();
    EXPECT_EQ(described->path, n.path);
    EXPECT_EQ(described->kind, n.kind);
    EXPECT_EQ(described->mime, n.mime);
    EXPECT_EQ(described->size, n.size);
    EXPECT_EQ(described->meta.title, n.meta.title);
    EXPECT_EQ(described->meta.language, n.meta.language);
    EXPECT_EQ(described->body_text, n.body_text);
    EXPECT_FALSE(described->blob.has_value());
    ++compared;
  };
  compare(draft->root);
  EXPECT_GE(compared, 5);
  src_.Write("bad.exercise.json", R"({"questions":[{"type":"choice","prompt":"?","answer":5}]})");
  auto bad = DescribeFile(src_.path() / "bad.exercise.json", "bad.exercise.json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DescribeFile(src_.path() / "none.pdf", "none.pdf").error().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace outpost
