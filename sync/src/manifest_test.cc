#include "outpost/sync/manifest.h"

#include <gtest/gtest.h>

#include <functional>

#include "outpost/content/importer.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;

Hash H(std::string_view name) { return Hash::Of(name); }

std::string Hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes)
    out += "0123456789abcdef"[c >> 4], out += "0123456789abcdef"[c & 15];
  return out;
}

DraftNode Topic(std::string path, std::string title) {
  DraftNode n;
  n.path = std::move(path);
  n.kind = NodeKind::kTopic;
  n.meta.title = std::move(title);
  return n;
}

DraftNode File(std::string path, std::string title, NodeKind kind, uint64_t size,
               std::string mime) {
  DraftNode n;
  n.path = std::move(path);
  n.kind = kind;
  n.meta.title = std::move(title);
  n.blob = H(n.path);
  n.size = size;
  n.mime = std::move(mime);
  return n;
}

// A channel with nested topics, French and Arabic titles, an unlisted asset, and every optional
// field set somewhere. `source` and `body_text` are set too: the manifest must ignore them.
VersionDraft Sample() {
  VersionDraft d;
  d.channel_id = "water-cycle";
  d.meta.title = "Le cycle de l'eau";
  d.meta.description = "Évaporation, condensation, précipitations";
  d.meta.language = "fr";
  d.meta.license = "CC BY-SA 4.0";
  d.meta.author = "Ministère de l'Éducation";
  d.source = "/media/usb/water-cycle";
  d.root = Topic("", "Le cycle de l'eau");
  d.root.meta.language = "fr";
  d.root.thumbnail = H("images/cover.png");

  DraftNode fr = Topic("fr", "Français");
  fr.meta = {"Français", "Leçons en français", "fr", "5", "sciences", "CC BY-SA 4.0", "M. Diallo"};
  DraftNode lessons = Topic("fr/leçons", "Leçons");
  DraftNode page = File("fr/leçons/évaporation.html", "L'élève et l'évaporation", NodeKind::kHtml,
                        4096, "text/html; charset=utf-8");
  page.body_text = "Quand le soleil chauffe la mer, l'eau s'évapore.";
  page.thumbnail = H("images/cover.png");
  page.meta.grade = "5";
  lessons.children.push_back(page);
  lessons.children.push_back(
      File("fr/leçons/quiz.json", "Quiz", NodeKind::kExercise, 900, "application/json"));
  fr.children.push_back(lessons);
  fr.children.push_back(
      File("fr/video.mp4", "La pluie", NodeKind::kVideo, 50'000'000, "video/mp4"));

  DraftNode ar = Topic("ar", "العربية");
  ar.meta.language = "ar";
  ar.meta.description = "دَوْرَةُ المَاءِ فِي الطَّبِيعَةِ";
  ar.children.push_back(
      File("ar/rain.pdf", "دَوْرَةُ المَاءِ", NodeKind::kDocument, 123456, "application/pdf"));
  ar.children.back().meta.language = "ar";

  DraftNode images = Topic("images", "Images");
  images.listed = false;
  images.children.push_back(File("images/cover.png", "Cover", NodeKind::kImage, 2048, "image/png"));
  images.children.back().listed = false;

  d.root.children = {fr, ar, images, File("style.css", "Style", NodeKind::kOther, 10, "text/css")};
  d.root.children.back().listed = false;
  d.thumbnail = H("images/cover.png");
  return d;
}

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

void ExpectBodyTextsEmpty(const DraftNode& n) {
  EXPECT_TRUE(n.body_text.empty()) << n.path;
  for (const auto& c : n.children) ExpectBodyTextsEmpty(c);
}

Identity NewIdentity() {
  auto id = Identity::Generate();
  EXPECT_TRUE(id.has_value());
  return std::move(*id);
}

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }
};

// ---- encoding ----

TEST_F(ManifestTest, EncodingIsDeterministicAndRoundTrips) {
  VersionDraft d = Sample();
  ASSERT_TRUE(CheckManifestDraft(d, 7).ok()) << CheckManifestDraft(d, 7).ToString();
  std::string bytes = EncodeManifest(d, 7);
  EXPECT_EQ(bytes, EncodeManifest(Sample(), 7));
  EXPECT_EQ(bytes.substr(0, 6), std::string("OPMF\0\1", 6));

  auto m = DecodeManifest(bytes);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->channel_id, "water-cycle");
  EXPECT_EQ(m->draft.channel_id, "water-cycle");
  EXPECT_EQ(m->version, 7u);
  EXPECT_EQ(m->hash, Hash::Of(bytes));
  EXPECT_EQ(m->draft.meta.title, d.meta.title);
  EXPECT_EQ(m->draft.meta.description, d.meta.description);
  EXPECT_EQ(m->draft.meta.language, d.meta.language);
  EXPECT_EQ(m->draft.meta.license, d.meta.license);
  EXPECT_EQ(m->draft.meta.author, d.meta.author);
  EXPECT_EQ(m->draft.thumbnail, d.thumbnail);
  EXPECT_TRUE(m->draft.source.empty());
  ExpectSameTree(m->draft.root, d.root);
  ExpectBodyTextsEmpty(m->draft.root);
  // One manifest, one encoding.
  EXPECT_EQ(EncodeManifest(m->draft, m->version), bytes);
}

TEST_F(ManifestTest, SourceAndBodyTextAreNotPartOfTheManifestButEverythingElseIs) {
  std::string bytes = EncodeManifest(Sample(), 7);
  VersionDraft d = Sample();
  d.source = "/elsewhere";
  d.root.children[0].children[0].children[0].body_text = "other text";
  EXPECT_EQ(EncodeManifest(d, 7), bytes);

  std::vector<std::function<void(VersionDraft*)>> changes = {
      [](VersionDraft* d) { d->meta.author = "x"; },
      [](VersionDraft* d) { d->thumbnail.reset(); },
      [](VersionDraft* d) { d->root.children[1].listed = false; },
      [](VersionDraft* d) { d->root.children[0].meta.subject = "physique"; },
      [](VersionDraft* d) { d->root.children[0].children[1].mime = "video/webm"; },
      [](VersionDraft* d) { d->root.children[0].children[1].size += 1; },
      [](VersionDraft* d) { d->root.children[0].children[1].kind = NodeKind::kAudio; },
      [](VersionDraft* d) { std::swap(d->root.children[0], d->root.children[1]); },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    VersionDraft changed = Sample();
    changes[i](&changed);
    EXPECT_NE(EncodeManifest(changed, 7), bytes) << i;
  }
  EXPECT_NE(EncodeManifest(Sample(), 8), bytes);
}

TEST_F(ManifestTest, BlobsListsEveryFileOnceWithItsSize) {
  VersionDraft d = Sample();
  // The same file at two places is one blob.
  d.root.children[1].children.push_back(
      File("ar/copy.css", "Style", NodeKind::kOther, 10, "text/css"));
  d.root.children[1].children.back().blob = H("style.css");
  auto m = DecodeManifest(EncodeManifest(d, 1));
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  std::vector<BlobRef> want = {
      {H("fr/leçons/évaporation.html"), 4096}, {H("fr/leçons/quiz.json"), 900},
      {H("fr/video.mp4"), 50'000'000},         {H("ar/rain.pdf"), 123456},
      {H("images/cover.png"), 2048},           {H("style.css"), 10}};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(m->Blobs(), want);
  EXPECT_EQ(m->TotalBytes(), 4096u + 900 + 50'000'000 + 123456 + 2048 + 10);
}

// The smallest useful channel: one topic holding one file. Its bytes are the worked example
// in docs/manifest.md.
VersionDraft Tiny() {
  VersionDraft d;
  d.channel_id = "demo";
  d.meta.title = "Démo";
  d.meta.language = "fr";
  d.root = Topic("", "Démo");
  d.root.children.push_back(File("a.txt", "A", NodeKind::kDocument, 3, "text/plain"));
  d.root.children.back().blob = H("abc");
  return d;
}

TEST_F(ManifestTest, TheFormatIsPinned) {
  // If this test fails, the manifest format changed: every signed manifest in the field would
  // stop matching. Bump kManifestFormat and update docs/manifest.md instead.
  std::string bytes = EncodeManifest(Tiny(), 1);
  EXPECT_EQ(bytes.size(), 207u);
  EXPECT_EQ(Hash::Of(bytes).Hex(),
            "1eefd112164977b1884e94846dc4602d8a6ce4fb328fcd4b1357db1face27ad7");
  ASSERT_TRUE(DecodeManifest(bytes).has_value());

  // Signed by the key of the seed 00 01 02 ... 1f (Ed25519 signatures are deterministic).
  std::array<uint8_t, 32> seed;
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i);
  auto publisher = Identity::FromSeed(seed);
  ASSERT_TRUE(publisher.has_value());
  EXPECT_EQ(publisher->public_key().Hex(),
            "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
  auto env = SignManifest(Tiny(), 1, *publisher);
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->size(), 4u + 2 + 4 + 207 + 32 + 64);
  EXPECT_EQ(Hex(env->substr(env->size() - 64)),
            "043258dbf4e6c4b498edeed3ab0ad3f0ce4f323e3ca8e767937e11bef08b4a16"
            "75c73a713b2ce611c8a97730ae8518f2fb184d07305cb9563bfd1e6401908003");
  EXPECT_EQ(Hash::Of(*env).Hex(),
            "1d2d82db596ac4ce92a69b812201bd65fbaa850513ece10daa9206ab71e7d602");
}

void ExpectCorrupt(std::string_view bytes, std::string_view why) {
  auto m = DecodeManifest(bytes);
  ASSERT_FALSE(m.has_value()) << why;
  EXPECT_EQ(m.error().code(), StatusCode::kCorrupt);
  EXPECT_NE(m.error().message().find(why), std::string::npos) << m.error().message();
}

// Tiny with one label: the second worked example in docs/manifest.md (format 2).
VersionDraft TinyWithLabel() {
  VersionDraft d = Tiny();
  d.labels = {{"subject", "sciences", "ar", "العلوم"}};
  return d;
}

TEST_F(ManifestTest, AVersionWithLabelsIsFormatTwoAndPinned) {
  std::string plain = EncodeManifest(Tiny(), 1);
  std::string bytes = EncodeManifest(TinyWithLabel(), 1);
  EXPECT_EQ(bytes.substr(0, 6), std::string("OPMF\0\2", 6));
  // Format 1's bytes after the header, then the label count and the label's four strings.
  EXPECT_EQ(bytes.substr(6, plain.size() - 6), plain.substr(6));
  EXPECT_EQ(bytes.size(), 207u + 4 + (4 + 7) + (4 + 8) + (4 + 2) + (4 + 12));
  EXPECT_EQ(Hash::Of(bytes).Hex(),
            "ce9d809d4707766dedab2257eaad601a12d1102db6397c44044b22a3a2efdbda");
  auto m = DecodeManifest(bytes);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->draft.labels, TinyWithLabel().labels);
  EXPECT_EQ(EncodeManifest(m->draft, 1), bytes);
}

TEST_F(ManifestTest, LabelsMustBeKnownFieldsNonEmptyAndAscendingOnBothSides) {
  std::vector<std::pair<std::vector<ValueLabel>, std::string>> bad = {
      {{{"colour", "red", "en", "Red"}}, "grade, subject or license only"},
      {{{"grade", "", "en", "x"}}, "empty value, language or label"},
      {{{"grade", "5", "", "x"}}, "empty value, language or label"},
      {{{"grade", "5", "en", ""}}, "empty value, language or label"},
      {{{"grade", "5", "fr", "x"}, {"grade", "5", "en", "y"}}, "out of order or repeated"},
      {{{"grade", "5", "en", "x"}, {"grade", "5", "en", "y"}}, "out of order or repeated"},
      {{{"subject", "a", "en", "x"}, {"grade", "b", "en", "y"}}, "out of order or repeated"},
  };
  for (const auto& [labels, why] : bad) {
    VersionDraft d = Tiny();
    d.labels = labels;
    Status st = CheckManifestDraft(d, 1);
    EXPECT_NE(st.message().find(why), std::string::npos) << why << ": " << st.ToString();
    ExpectCorrupt(EncodeManifest(d, 1), why);
  }
  // Format 2 with no labels is not the one encoding of a label-less version.
  std::string plain = EncodeManifest(Tiny(), 1);
  std::string two = plain;
  two[5] = 2;
  ExpectCorrupt(two + std::string(4, '\0'), "it must be format 1");
  ExpectCorrupt(two, "truncated");
  std::string three = plain;
  three[5] = 3;
  ExpectCorrupt(three, "this outpost reads versions 1 to 2");
  // A count the bytes left cannot hold.
  ExpectCorrupt(two + std::string("\x00\x01\x00\x00", 4) + std::string(40, '\0'),
                "more than the 65536 allowed or the bytes left hold");
}

// ---- decoding refuses ----

TEST_F(ManifestTest, DecodeRefusesEveryTruncationAndTrailingBytes) {
  std::string bytes = EncodeManifest(Sample(), 3);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto m = DecodeManifest(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(m.has_value()) << n;
    EXPECT_EQ(m.error().code(), StatusCode::kCorrupt) << n;
  }
  ExpectCorrupt(bytes.substr(0, 100), "truncated");
  ExpectCorrupt(bytes + '\0', "1 unexpected bytes after its end");
  ExpectCorrupt(bytes + EncodeManifest(Sample(), 3), "unexpected bytes");
}

TEST_F(ManifestTest, DecodeRefusesBadHeadersFlagsKindsAndCounts) {
  std::string bytes = EncodeManifest(Tiny(), 1);
  // Layout of Tiny (docs/manifest.md): the header, then the root node from offset `root`.
  const size_t root = 4 + 2 + (4 + 4) + 8 + (4 + 5) + 4 + (4 + 2) + 4 + 4 + 1;
  auto with = [&](size_t offset, std::string_view replacement) {
    std::string b = bytes;
    b.replace(offset, replacement.size(), replacement);
    return b;
  };
  ExpectCorrupt(with(0, "OPSM"), "does not start with \"OPMF\"");
  ExpectCorrupt(with(4, std::string("\0\3", 2)), "format version is 3");
  ExpectCorrupt(with(root - 1, "\2"), "channel thumbnail is 2, not 0 or 1");
  ExpectCorrupt(with(root + 4, "\x09"), "unknown kind 9");
  ExpectCorrupt(with(root + 5, "\2"), "listed flag of the root topic is 2");
  ExpectCorrupt(with(root + 6, "\xff\xff\xff\xff"), "more than the 1048576 allowed");
  const size_t root_children = root + 4 + 1 + 1 + (4 + 5) + 6 * 4 + 1 + 1 + 8 + 4;
  ExpectCorrupt(with(root_children, "\xff\xff\xff\xff"), "more than the bytes left can hold");
  ExpectCorrupt(with(root_children, std::string("\0\0\0\0", 4)), "unexpected bytes");
  ExpectCorrupt(with(root + 10, "\xc3\x28"), "title of the root topic is not valid UTF-8");
  ExpectCorrupt(std::string(kMaxManifestBytes + 1, 'x'), "more than the");
}

// A draft that breaks one rule: CheckManifestDraft refuses it, and the bytes EncodeManifest
// makes of it anyway are refused by DecodeManifest with the same explanation (unless the
// broken field is one the format does not carry).
struct Broken {
  std::string why;
  std::function<void(VersionDraft*)> change;
  uint64_t version = 1;
  bool encoded = true;
};

TEST_F(ManifestTest, StructuralRulesHoldOnBothSides) {
  std::vector<Broken> cases = {
      {"invalid channel id", [](VersionDraft* d) { d->channel_id = "Water"; }},
      {"version 0 is outside", [](VersionDraft*) {}, 0},
      {"outside 1 to 2^63-1", [](VersionDraft*) {}, uint64_t{1} << 63},
      {"a channel has no grade or subject", [](VersionDraft* d) { d->meta.grade = "5"; }, 1, false},
      {"a channel has no grade or subject", [](VersionDraft* d) { d->meta.subject = "x"; }, 1,
       false},
      {"title of node \"ar\" is not valid UTF-8",
       [](VersionDraft* d) { d->root.children[1].meta.title = "\xd8"; }},
      {"the root must be a topic", [](VersionDraft* d) { d->root.path = "x"; }},
      {"the root must be a topic", [](VersionDraft* d) { d->root.kind = NodeKind::kHtml; }},
      {"\"ar/rain.pdf\" is not one segment under node \"fr\"",
       [](VersionDraft* d) {
         d->root.children[0].children.push_back(d->root.children[1].children[0]);
       }},
      {"\"fr/x/y\" is not one segment under node \"fr\"",
       [](VersionDraft* d) { d->root.children[0].children[1].path = "fr/x/y"; }},
      {"\"fr/..\" is not one segment",
       [](VersionDraft* d) { d->root.children[0].children[1].path = "fr/.."; }},
      {"\"fr/\" is not one segment",
       [](VersionDraft* d) { d->root.children[0].children[1].path = "fr/"; }},
      {"\".\" is not one segment under the root",
       [](VersionDraft* d) { d->root.children[0].path = "."; }},
      {"is not one segment under the root",
       [](VersionDraft* d) { d->root.children[3].path = std::string("a\0b", 3); }},
      {"the root topic has two children with the path \"style.css\"",
       [](VersionDraft* d) { d->root.children.push_back(d->root.children[3]); }},
      {"node \"fr\" is a topic but has a file",
       [](VersionDraft* d) { d->root.children[0].blob = H("x"); }},
      {"node \"fr\" is a topic but has a file",
       [](VersionDraft* d) { d->root.children[0].size = 1; }},
      {"node \"style.css\" (other) has no file",
       [](VersionDraft* d) { d->root.children[3].blob.reset(); }},
      {"node \"style.css\" (other) has children",
       [](VersionDraft* d) {
         d->root.children[3].children.push_back(File("style.css/x", "x", NodeKind::kOther, 1, ""));
       }},
      {"is not a file of this version",
       [](VersionDraft* d) { d->root.children[1].thumbnail = H("nowhere.png"); }},
      {"the thumbnail of the channel", [](VersionDraft* d) { d->thumbnail = H("nowhere.png"); }},
      {"has two sizes, 11 and 10",
       [](VersionDraft* d) {
         d->root.children[1].children.push_back(File("ar/s.css", "s", NodeKind::kOther, 11, ""));
         d->root.children[1].children.back().blob = H("style.css");
       }},
      {"has a size over 2^63-1",
       [](VersionDraft* d) { d->root.children[3].size = uint64_t{1} << 63; }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.why);
    VersionDraft d = Sample();
    c.change(&d);
    Status st = CheckManifestDraft(d, c.version);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find(c.why), std::string::npos) << st.message();
    if (c.encoded) ExpectCorrupt(EncodeManifest(d, c.version), c.why);
  }
}

// A chain of topics `levels` deep under the root, ending in a file.
VersionDraft Deep(int levels) {
  VersionDraft d = Tiny();
  DraftNode* n = &d.root;
  std::string path;
  for (int i = 0; i < levels; ++i) {
    path += (path.empty() ? "" : "/") + std::string("t");
    n->children.push_back(Topic(path, "t"));
    n = &n->children.back();
  }
  return d;
}

TEST_F(ManifestTest, TreesDeeperThan64LevelsAreRefused) {
  EXPECT_TRUE(CheckManifestDraft(Deep(kMaxManifestDepth), 1).ok());
  EXPECT_TRUE(DecodeManifest(EncodeManifest(Deep(kMaxManifestDepth), 1)).has_value());
  Status st = CheckManifestDraft(Deep(kMaxManifestDepth + 1), 1);
  EXPECT_NE(st.message().find("64 levels deep at most"), std::string::npos) << st.ToString();
  ExpectCorrupt(EncodeManifest(Deep(kMaxManifestDepth + 1), 1), "deeper than the 64 levels");
  // Deeper still: refused at the limit, without recursing further.
  ExpectCorrupt(EncodeManifest(Deep(5000), 1), "deeper than the 64 levels");
}

// ---- the catalog keeps everything a manifest holds ----

TEST_F(ManifestTest, AVersionRebuiltFromTheCatalogEncodesToTheSameBytes) {
  TempDir dir;
  auto catalog = Catalog::Open(dir.path() / "catalog.db");
  ASSERT_TRUE(catalog.has_value()) << catalog.error().ToString();
  ASSERT_EQ(*(*catalog)->CommitVersion(Sample()), 1);
  auto loaded = (*catalog)->LoadVersion("water-cycle", 1);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(EncodeManifest(*loaded, 4), EncodeManifest(Sample(), 4));

  VersionDraft labelled = Sample();
  labelled.labels = {{"grade", "5", "ar", "الصف الخامس"}, {"subject", "sciences", "en", "Science"}};
  ASSERT_EQ(*(*catalog)->CommitVersion(labelled), 2);
  loaded = (*catalog)->LoadVersion("water-cycle", 2);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(EncodeManifest(*loaded, 4), EncodeManifest(labelled, 4));
}

TEST_F(ManifestTest, AnImportedFolderWithThumbnailsMakesAValidManifestOfStoredFiles) {
  TempDir data, src;
  src.Write("Science/outpost.toml", R"(
[channel]
id = "science"
title = "Sciences"
thumbnail = "images/sun.svg"

[topic]
grade = "5"

[files."images"]
hidden = true

[files."rain.pdf"]
thumbnail = "images/rain.svg"
)");
  src.Write("Science/fr/outpost.toml", "[topic]\nthumbnail = \"../images/sun.svg\"\n");
  src.Write("Science/fr/01-evaporation.html",
            "<!DOCTYPE html><html lang=\"fr\"><head><title>L'évaporation</title></head>"
            "<body><p>Le soleil chauffe la mer.</p></body></html>");
  src.Write("Science/images/sun.svg", "<svg xmlns='http://www.w3.org/2000/svg'></svg>");
  src.Write("Science/images/rain.svg", "<svg xmlns='http://www.w3.org/2000/svg'><g/></svg>");
  src.Write("Science/rain.pdf", "%PDF-1.4\n% a tiny pdf\n");
  auto store = BlobStore::Open(data.path());
  auto catalog = Catalog::Open(data.path() / "catalog.db");
  ASSERT_TRUE(store.has_value() && catalog.has_value());
  auto report = Importer(store->get(), catalog->get()).Import(src.path() / "Science", {});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();

  auto draft = (*catalog)->LoadVersion("science", report->version);
  ASSERT_TRUE(draft.has_value()) << draft.error().ToString();
  EXPECT_TRUE(draft->thumbnail.has_value());
  Status st = CheckManifestDraft(*draft, 1);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto m = DecodeManifest(EncodeManifest(*draft, 1));
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  ASSERT_EQ(m->Blobs().size(), 4u);
  for (const auto& blob : m->Blobs()) {
    EXPECT_TRUE((*store)->Contains(blob.hash)) << blob.hash.Hex();
    EXPECT_EQ(std::filesystem::file_size((*store)->PathOf(blob.hash)), blob.size);
  }
}

// ---- signed manifests ----

class SignedManifestTest : public ManifestTest {
 protected:
  void SetUp() override {
    ManifestTest::SetUp();
    TrustList list;
    list.sequence = 2;
    list.entries = {{publisher_.public_key(), {"maths-5", "water-cycle"}, KeyState::kActive},
                    {science_.public_key(), {"science"}, KeyState::kActive},
                    {revoked_.public_key(), {"water-cycle"}, KeyState::kRevoked},
                    {everything_.public_key(), {"*"}, KeyState::kActive}};
    auto doc = SignTrustList(list, root_);
    ASSERT_TRUE(doc.has_value());
    auto verified = VerifyTrustList(*doc, root_.public_key());
    ASSERT_TRUE(verified.has_value());
    trust_ = *verified;
  }
  std::string Signed(const Identity& by, uint64_t version = 7) {
    auto env = SignManifest(Sample(), version, by);
    EXPECT_TRUE(env.has_value()) << env.error().ToString();
    return env ? *env : std::string();
  }
  Identity root_ = NewIdentity(), publisher_ = NewIdentity(), science_ = NewIdentity(),
           revoked_ = NewIdentity(), everything_ = NewIdentity(), stranger_ = NewIdentity();
  TrustList trust_;
};

TEST_F(SignedManifestTest, AnAuthorizedPublishersManifestVerifies) {
  std::string env = Signed(publisher_);
  auto m = VerifySignedManifest(env, trust_);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->version, 7u);
  EXPECT_EQ(m->hash, Hash::Of(EncodeManifest(Sample(), 7)));
  ExpectSameTree(m->draft.root, Sample().root);
  EXPECT_TRUE(VerifySignedManifest(Signed(everything_), trust_).has_value());  // "*"

  auto parts = ParseSignedManifest(env);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->publisher, publisher_.public_key());
  EXPECT_EQ(parts->manifest, EncodeManifest(Sample(), 7));
  EXPECT_EQ(EncodeSignedManifest(*parts), env);
  // The documented signing rule, checked independently.
  std::string msg("outpost manifest v1\0", 20);
  Hash h = Hash::Of(parts->manifest);
  msg.append(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
  EXPECT_TRUE(VerifySignature(publisher_.public_key(), msg, parts->signature));
}

// Unverified: the manifest of an envelope whose signature does not verify, or whose signer the
// trust list does not know, is still read; a malformed envelope is not.
TEST_F(SignedManifestTest, DecodeEnvelopeManifestReadsTheManifestWithoutCheckingTheSignature) {
  for (std::string env : {Signed(publisher_), Signed(stranger_)}) {
    env.back() ^= 1;  // a bit of the signature
    auto m = DecodeEnvelopeManifest(env);
    ASSERT_TRUE(m.has_value()) << m.error().ToString();
    EXPECT_EQ(m->version, 7u);
    EXPECT_EQ(m->hash, Hash::Of(EncodeManifest(Sample(), 7)));
    ExpectSameTree(m->draft.root, Sample().root);
  }
  std::string env = Signed(publisher_);
  EXPECT_EQ(DecodeEnvelopeManifest(env.substr(0, env.size() - 1)).error().code(),
            StatusCode::kCorrupt);
  EXPECT_EQ(DecodeEnvelopeManifest(EncodeManifest(Sample(), 7)).error().code(),
            StatusCode::kCorrupt);  // a bare manifest is not an envelope
}

TEST_F(SignedManifestTest, AFlippedByteAnywhereInTheEnvelopeIsRefused) {
  std::string env = Signed(publisher_);
  // Every byte of the signature, one bit at a time.
  for (size_t i = env.size() - crypto_sign_BYTES; i < env.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = env;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      auto m = VerifySignedManifest(bad, trust_);
      ASSERT_FALSE(m.has_value()) << i;
      EXPECT_EQ(m.error().code(), StatusCode::kCorrupt);
      EXPECT_NE(m.error().message().find("does not verify"), std::string::npos);
    }
  }
  // And every other byte (header, manifest, key).
  for (size_t i = 0; i < env.size() - crypto_sign_BYTES; ++i) {
    std::string bad = env;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(VerifySignedManifest(bad, trust_).has_value()) << i;
  }
}

TEST_F(SignedManifestTest, EveryTruncationAndTrailingBytesAreRefused) {
  std::string env = Signed(publisher_);
  for (size_t n = 0; n < env.size(); ++n) {
    auto m = VerifySignedManifest(std::string_view(env).substr(0, n), trust_);
    ASSERT_FALSE(m.has_value()) << n;
    EXPECT_EQ(m.error().code(), StatusCode::kCorrupt) << n;
  }
  auto m = VerifySignedManifest(env + "x", trust_);
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("unexpected bytes"), std::string::npos);
}

TEST_F(SignedManifestTest, AKeyTheRootNeverAuthorizedIsRefused) {
  auto m = VerifySignedManifest(Signed(stranger_, 3), trust_);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.error().message(),
            "manifest for channel water-cycle version 3 is signed by key " +
                stranger_.public_key().Fingerprint() +
                "…, which the hub's root has not authorized for this channel (trust list 2)");
}

TEST_F(SignedManifestTest, APublisherOfAnotherChannelIsRefused) {
  auto m = VerifySignedManifest(Signed(science_), trust_);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.error().message().find("not authorized for this channel (only for science)"),
            std::string::npos)
      << m.error().message();
}

TEST_F(SignedManifestTest, ARevokedKeyIsRefusedEvenForAVersionItSignedBeforeRevocation) {
  // Signed while the key was active, and arriving (say, on an old USB stick) after rotation.
  std::string old_manifest = Signed(revoked_, 2);
  auto m = VerifySignedManifest(old_manifest, trust_);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(
      m.error().message().find("version 2 is signed by key " + revoked_.public_key().Fingerprint() +
                               "…, which the hub's root has revoked"),
      std::string::npos)
      << m.error().message();
}

TEST_F(SignedManifestTest, AManifestAnyoneCanSignIsStillAManifestNobodyTrusts) {
  // A forger who swaps the key in the envelope breaks the signature.
  auto parts = ParseSignedManifest(Signed(stranger_));
  ASSERT_TRUE(parts.has_value());
  parts->publisher = publisher_.public_key();
  auto m = VerifySignedManifest(EncodeSignedManifest(*parts), trust_);
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("does not verify"), std::string::npos);
}

TEST_F(SignedManifestTest, SigningRefusesADraftSitesWouldRefuse) {
  VersionDraft d = Sample();
  d.root.children[0].children[1].path = "elsewhere/video.mp4";
  auto env = SignManifest(d, 1, publisher_);
  ASSERT_FALSE(env.has_value());
  EXPECT_EQ(env.error().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(SignManifest(Sample(), 0, publisher_).has_value());
}

TEST_F(SignedManifestTest, VersionsOnlyGrow) {
  auto m = VerifySignedManifest(Signed(publisher_, 3), trust_);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(CheckVersionIsNewer(*m, 0).ok());
  EXPECT_TRUE(CheckVersionIsNewer(*m, 2).ok());
  Status same = CheckVersionIsNewer(*m, 3);
  EXPECT_EQ(same.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(same.message(),
            "channel water-cycle: version 3 is the version this site already holds");
  Status older = CheckVersionIsNewer(*m, 5);
  EXPECT_EQ(older.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(older.message(),
            "channel water-cycle: refusing version 3, older than version 5 which this site holds "
            "(versions only grow)");
}

}  // namespace
}  // namespace outpost
