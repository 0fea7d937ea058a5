#include "outpost/sync/school_materials.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "outpost/base/text.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/publish.h"
#include "test_hub.h"
#include "test_node.h"
#include "testing/temp_dir.h"
#include "version_signing.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::TestNode;

std::string Page(const std::string& title, const std::string& text) {
  return "<html lang=fr><title>" + title + "</title><body><p>" + text + "</p></body></html>";
}

class SchoolMaterialsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }

  // An upload finished on the node's file system, as the upload store leaves it.
  fs::path Upload(const std::string& name, const std::string& content) {
    return dir_.Write("uploads/" + std::to_string(++uploads_) + "/" + name, content);
  }
  Result<MaterialChange> AddPage(const std::string& topic, const std::string& title,
                                 const std::string& text, const std::string& file_name = "") {
    NewMaterial m;
    m.file_name = file_name.empty() ? title + ".html" : file_name;
    m.file = Upload(m.file_name, Page(title, text));
    m.topic = topic;
    return materials_.Add(m);
  }
  std::string Id() { return *materials_.ChannelId(); }
  // The paths search finds for `query`, in the school channel.
  std::vector<std::string> Found(const std::string& query) {
    SearchFilters only;
    only.channel_id = Id();
    auto hits = node_.catalog->Search(query, 20, only);
    EXPECT_TRUE(hits.has_value());
    std::vector<std::string> paths;
    for (const auto& h : *hits) paths.push_back(h.path);
    std::sort(paths.begin(), paths.end());
    return paths;
  }
  // True if the served version is signed by this node's key, in a manifest that says so.
  bool SignedByNodeKey() {
    auto info = node_.catalog->Channel(Id());
    if (!info || !info->manifest_hash) return false;
    auto signer = SignerOf(node_.catalog.get(), Id(), info->served_version);
    auto key = LoadIdentity(node_.paths.node_key);
    return signer && key && *signer == key->public_key();
  }
  int64_t Served() {
    auto info = node_.catalog->Channel(Id());
    return info ? info->served_version : 0;
  }

  TempDir dir_;
  TestNode node_{dir_.path()};
  SchoolMaterials materials_{node_.paths, node_.store.get(), node_.catalog.get()};
  int uploads_ = 0;
};

TEST_F(SchoolMaterialsTest, TheSchoolChannelIsNamedAfterTheNodeKeyAndStaysSo) {
  auto id = materials_.ChannelId();
  ASSERT_TRUE(id.has_value()) << id.error().ToString();
  auto key = LoadIdentity(node_.paths.node_key);  // made on first use
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(*id, "school-" + key->public_key().Hex().substr(0, 16));
  EXPECT_TRUE(IsValidChannelId(*id));
  EXPECT_EQ(*SchoolMaterials(node_.paths, node_.store.get(), node_.catalog.get()).ChannelId(), *id);
  auto empty = materials_.Tree();
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->version, 0);
  EXPECT_FALSE(node_.catalog->Channel(*id).has_value());  // nothing made until a material
}

TEST_F(SchoolMaterialsTest, AnAddedPageIsServedSignedAndFoundBySearchAtOnce) {
  NewMaterial m;
  m.file_name = "Le cycle de l'eau.html";
  m.file = Upload(m.file_name, Page("Le cycle de l'eau", "Le soleil chauffe la mer."));
  m.topic = "Grade 5 / Science";
  m.fields.description = "Une fiche pour la classe";
  m.fields.grade = "5";
  m.fields.subject = "science";
  m.fields.license = "CC BY 4.0";
  auto added = materials_.Add(m);
  ASSERT_TRUE(added.has_value()) << added.error().ToString();
  EXPECT_EQ(added->version, 1);
  EXPECT_EQ(added->path, "grade-5/science/le-cycle-de-l-eau.html");
  EXPECT_TRUE(SignedByNodeKey());
  EXPECT_EQ(Found("soleil"), std::vector<std::string>{added->path});
  EXPECT_EQ(Found("fiche classe"), std::vector<std::string>{added->path});

  auto node = node_.catalog->NodeByPath(Id(), added->path);
  ASSERT_TRUE(node.has_value());
  EXPECT_EQ(node->kind, NodeKind::kHtml);
  EXPECT_EQ(node->meta.title, "Le cycle de l'eau");
  EXPECT_EQ(node->meta.language, "fr");
  EXPECT_EQ(node->meta.grade, "5");
  EXPECT_EQ(node->meta.license, "CC BY 4.0");
  EXPECT_EQ(node->blob, added->blob);
  // The upload moved into the store, recorded in the chunk index; a file of the served version.
  EXPECT_FALSE(fs::exists(m.file));
  EXPECT_TRUE(node_.store->Contains(*added->blob));
  EXPECT_TRUE(node_.catalog->HasBlob(*added->blob));
  EXPECT_TRUE(*node_.catalog->IsServedBlob(*added->blob));
  auto topics = materials_.Topics();
  ASSERT_TRUE(topics.has_value());
  ASSERT_EQ(topics->size(), 2u);
  EXPECT_EQ((*topics)[0].path, "grade-5");
  EXPECT_EQ((*topics)[1].path, "grade-5/science");
  EXPECT_EQ((*topics)[1].title, "Grade 5 / Science");
  EXPECT_EQ(node_.catalog->Channel(Id())->meta.title, "Teachers' materials");
}

TEST_F(SchoolMaterialsTest, AnImageIsItsOwnThumbnail) {
  NewMaterial m;
  m.file_name = "tableau.png";
  m.file = Upload(m.file_name, std::string("\x89PNG\r\n\x1a\n", 8) + std::string(100, 'x'));
  m.fields.title = "Le tableau du 3 mai";
  auto added = materials_.Add(m);
  ASSERT_TRUE(added.has_value()) << added.error().ToString();
  EXPECT_EQ(added->path, "le-tableau-du-3-mai.png");
  auto node = node_.catalog->NodeByPath(Id(), added->path);
  ASSERT_TRUE(node.has_value());
  EXPECT_EQ(node->kind, NodeKind::kImage);
  EXPECT_EQ(node->thumbnail, added->blob);
}

TEST_F(SchoolMaterialsTest, EditMoveAndDeleteEachMakeOneSignedVersionAndSearchKeepsTheRest) {
  auto rain = AddPage("Grade 5/Science", "La pluie", "Les nuages donnent la pluie.");
  auto sums = AddPage("Grade 4/Maths", "Les sommes", "Additionner des dizaines.");
  auto map = AddPage("Grade 4/Geography", "La carte", "Le fleuve traverse la plaine.");
  ASSERT_TRUE(rain && sums && map);
  ASSERT_EQ(Served(), 3);

  MaterialFields retitle;
  retitle.title = "La pluie et les nuages";
  retitle.description = "Revu en classe";
  auto edited = materials_.Edit(rain->path, retitle);
  ASSERT_TRUE(edited.has_value()) << edited.error().ToString();
  EXPECT_EQ(edited->version, 4);
  EXPECT_EQ(edited->path, rain->path);  // its address does not change with its title
  EXPECT_TRUE(SignedByNodeKey());
  EXPECT_EQ(node_.catalog->NodeByPath(Id(), rain->path)->meta.title, "La pluie et les nuages");
  EXPECT_EQ(Found("dizaines"), std::vector<std::string>{sums->path});  // untouched page's text
  EXPECT_EQ(Found("nuages"), std::vector<std::string>{rain->path});    // its own text too

  auto moved = materials_.Move(sums->path, "Grade 5/Maths");
  ASSERT_TRUE(moved.has_value()) << moved.error().ToString();
  EXPECT_EQ(moved->version, 5);
  EXPECT_EQ(moved->path, "grade-5/maths/les-sommes.html");
  EXPECT_TRUE(SignedByNodeKey());
  EXPECT_EQ(Found("dizaines"), std::vector<std::string>{moved->path});
  EXPECT_EQ(Found("fleuve"), std::vector<std::string>{map->path});
  EXPECT_FALSE(node_.catalog->NodeByPath(Id(), "grade-4/maths").has_value());  // left empty
  EXPECT_TRUE(node_.catalog->NodeByPath(Id(), "grade-4").has_value());  // still has geography

  auto deleted = materials_.Delete(map->path);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().ToString();
  EXPECT_EQ(deleted->version, 6);
  EXPECT_TRUE(SignedByNodeKey());
  EXPECT_TRUE(Found("fleuve").empty());
  EXPECT_FALSE(node_.catalog->NodeByPath(Id(), "grade-4").has_value());
  EXPECT_EQ(Found("dizaines"), std::vector<std::string>{moved->path});
  EXPECT_EQ(Found("nuages"), std::vector<std::string>{rain->path});
  auto topics = materials_.Topics();
  ASSERT_EQ(topics->size(), 3u);  // grade-5, grade-5/science, grade-5/maths
}

TEST_F(SchoolMaterialsTest, AMoveToTheTopicItIsInChangesNothing) {
  auto rain = AddPage("Science", "La pluie", "Les nuages.");
  ASSERT_TRUE(rain.has_value());
  auto same = materials_.Move(rain->path, " science ");
  ASSERT_TRUE(same.has_value()) << same.error().ToString();
  EXPECT_EQ(same->version, 1);
  EXPECT_EQ(same->path, rain->path);
  EXPECT_EQ(Served(), 1);
}

TEST_F(SchoolMaterialsTest, NamesAreMadeSafeAndUniqueInTheirTopic) {
  auto first = AddPage("Science", "La pluie", "un", "pluie.html");
  auto second = AddPage("science", "La pluie", "deux", "pluie.html");
  auto arabic = AddPage("العلوم", "دورة الماء", "المطر", "ماء.html");
  auto tricky = AddPage("Science", "a/../b: *?", "trois", "x.html");
  ASSERT_TRUE(first && second && arabic && tricky);
  EXPECT_EQ(first->path, "science/la-pluie.html");
  EXPECT_EQ(second->path, "science/la-pluie-2.html");  // the same topic, by its folded title
  EXPECT_EQ(arabic->path, "العلوم/دوره-الماء.html");
  EXPECT_EQ(tricky->path, "science/a-b.html");
  // Moving into a topic that has the name already gives the next free one.
  auto other = AddPage("Archive", "La pluie", "quatre", "pluie.html");
  ASSERT_TRUE(other.has_value());
  auto moved = materials_.Move(other->path, "Science");
  ASSERT_TRUE(moved.has_value()) << moved.error().ToString();
  EXPECT_EQ(moved->path, "science/la-pluie-3.html");
}

TEST_F(SchoolMaterialsTest, BadInputIsRefusedClearlyAndChangesNothing) {
  struct Case {
    const char* what;
    std::string file_name, topic;
    MaterialFields fields;
  };
  MaterialFields bad_utf8, empty_title, long_title, bad_language, control;
  bad_utf8.title = "La pluie \xff\xfe";
  empty_title.title = "   ";
  long_title.title = std::string(kMaxMaterialTitle + 1, 'a');
  bad_language.language = "fr_FR!";
  control.subject = "science\x01";
  const Case cases[] = {
      {"UTF-8", "pluie.html", "", bad_utf8},
      {"may not be empty", "pluie.html", "", empty_title},
      {"longer than 200 bytes", "pluie.html", "", long_title},
      {"not a language tag", "pluie.html", "", bad_language},
      {"control characters", "pluie.html", "", control},
      {"may not hold", "../pluie.html", "", {}},
      {"UTF-8", "pl\xc3uie.html", "", {}},
      {"may not be empty", "", "", {}},
      {"may not hold \"..\"", "pluie.html", "Science/../..", {}},
      {"may not be empty", "pluie.html", "Science//Maths", {}},
      {"levels deep", "pluie.html", "a/b/c/d/e/f/g/h/i", {}},
      {"longer than 100 bytes", "pluie.html", std::string(kMaxTopicTitle + 1, 't'), {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    NewMaterial m;
    m.file = Upload("pluie.html", Page("La pluie", "nuages"));
    m.file_name = c.file_name;
    m.topic = c.topic;
    m.fields = c.fields;
    auto added = materials_.Add(m);
    ASSERT_FALSE(added.has_value());
    EXPECT_EQ(added.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(added.error().message().find(c.what), std::string::npos) << added.error().message();
    EXPECT_TRUE(fs::exists(m.file));  // the upload is left as it was
  }
  EXPECT_FALSE(node_.catalog->Channel(Id()).has_value());
  EXPECT_EQ(materials_.Delete("nothing.html").error().code(), StatusCode::kNotFound);

  auto rain = AddPage("Science", "La pluie", "nuages");
  ASSERT_TRUE(rain.has_value());
  EXPECT_EQ(materials_.Edit(rain->path, long_title).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(materials_.Edit("science", {}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(materials_.Edit("science/none.html", {}).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(materials_.Move(rain->path, "../x").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(materials_.Delete("\xff").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Served(), 1);
}

TEST_F(SchoolMaterialsTest, AnExerciseThatDoesNotParseIsRefusedBeforeTheUploadMoves) {
  NewMaterial m;
  m.file_name = "quiz.exercise.json";
  m.file = Upload(m.file_name, R"({"questions":[{"type":"choice","prompt":"?","answer":5}]})");
  auto added = materials_.Add(m);
  ASSERT_FALSE(added.has_value());
  EXPECT_EQ(added.error().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(fs::exists(m.file));
  EXPECT_FALSE(node_.catalog->Channel(Id()).has_value());
}

// A change committed meanwhile (another process's edit) is kept: the edit is made again on it.
TEST_F(SchoolMaterialsTest, AnEditMadeFromAnOlderVersionIsMadeAgainFromTheNewOne) {
  auto rain = AddPage("Science", "La pluie", "nuages");
  auto sums = AddPage("Maths", "Les sommes", "dizaines");
  ASSERT_TRUE(rain && sums);
  int calls = 0;
  auto edit = [&](VersionDraft* d) -> Status {
    if (++calls == 1) {  // another writer commits first
      auto other = node_.catalog->LoadVersion(Id(), Served(), true);
      other->meta.description = "changed by another";
      EXPECT_TRUE(node_.catalog->CommitVersion(*other).has_value());
    }
    d->meta.title = "Les fiches de l'école";
    return Status::Ok();
  };
  auto published = PublishEdit(node_.paths, node_.catalog.get(), Id(), edit);
  ASSERT_TRUE(published.has_value()) << published.error().ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(published->version, 4);
  auto info = node_.catalog->Channel(Id());
  EXPECT_EQ(info->meta.title, "Les fiches de l'école");
  EXPECT_EQ(info->meta.description, "changed by another");
  EXPECT_TRUE(SignedByNodeKey());
}

// Once the file is in the store, a version that cannot be made gives the upload its name back.
TEST_F(SchoolMaterialsTest, AnAddThatCannotBeServedGivesTheUploadBack) {
  VersionDraft taken;  // the school's id, signed by another key: not this site's to sign
  taken.channel_id = Id();
  taken.meta.title = "Taken";
  ASSERT_TRUE(node_.catalog->CommitVersion(taken).has_value());
  testing::PlantVersionSignedBy(&node_, Id(), 2, testing::NewIdentity());
  std::string bytes = Page("La pluie", "nuages");
  NewMaterial m;
  m.file_name = "pluie.html";
  m.file = Upload(m.file_name, bytes);
  auto added = materials_.Add(m);
  ASSERT_FALSE(added.has_value());
  EXPECT_EQ(added.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(testing::ReadFile(m.file), bytes);  // there to place again
  EXPECT_EQ(Served(), 2);
  // The bytes the store held already: the same.
  ASSERT_TRUE(node_.store->Put(Page("Le vent", "souffle")).has_value());
  m.file = Upload(m.file_name, Page("Le vent", "souffle"));
  ASSERT_FALSE(materials_.Add(m).has_value());
  EXPECT_EQ(testing::ReadFile(m.file), Page("Le vent", "souffle"));
}

TEST_F(SchoolMaterialsTest, AChannelFromTheHubCannotBeEditedOnASite) {
  VersionDraft water;
  water.channel_id = "water";
  water.meta.title = "Water";
  water.root.meta.title = "Water";
  ASSERT_TRUE(node_.catalog->CommitVersion(water).has_value());
  Identity hub_publisher = testing::NewIdentity();
  testing::PlantVersionSignedBy(&node_, "water", 2, hub_publisher);
  auto edit = PublishEdit(node_.paths, node_.catalog.get(), "water", [](VersionDraft* d) {
    d->meta.title = "Ours now";
    return Status::Ok();
  });
  ASSERT_FALSE(edit.has_value());
  EXPECT_EQ(edit.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(edit.error().message().find("comes from the hub"), std::string::npos)
      << edit.error().message();
  EXPECT_EQ(node_.catalog->Channel("water")->served_version, 2);
  EXPECT_EQ(node_.catalog->Channel("water")->meta.title, "Owned");
}

}  // namespace
}  // namespace outpost
