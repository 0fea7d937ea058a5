#include "outpost/sync/manifest_diff.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

DraftNode FileNode(std::string path, std::string contents, uint64_t size) {
  DraftNode n;
  n.path = std::move(path);
  n.kind = NodeKind::kDocument;
  n.meta.title = n.path;
  n.blob = Hash::Of(contents);
  n.size = size;
  n.mime = "application/pdf";
  return n;
}

// A channel "maths" at `version` whose root holds `files` and a topic "t" holding `in_topic`.
Manifest Version(uint64_t version, std::vector<DraftNode> files, std::vector<DraftNode> in_topic) {
  VersionDraft d;
  d.channel_id = "maths";
  d.meta.title = "Maths";
  d.root.meta.title = "Maths";
  d.root.children = std::move(files);
  DraftNode topic;
  topic.path = "t";
  topic.meta.title = "T";
  topic.children = std::move(in_topic);
  d.root.children.push_back(std::move(topic));
  EXPECT_TRUE(CheckManifestDraft(d, version).ok());
  auto m = DecodeManifest(EncodeManifest(d, version));
  EXPECT_TRUE(m.has_value());
  return m ? *m : Manifest{};
}

TEST(ManifestDiffTest, FilesAddedRemovedAndChangedAreListedByPathWithTheirSizes) {
  Manifest v1 = Version(1, {FileNode("a.pdf", "a", 100), FileNode("b.pdf", "b", 200)},
                        {FileNode("t/c.pdf", "c", 300), FileNode("t/d.pdf", "d", 400)});
  Manifest v2 = Version(2, {FileNode("a.pdf", "a", 100), FileNode("e.pdf", "e", 50)},
                        {FileNode("t/c.pdf", "c2", 350), FileNode("t/d.pdf", "d", 400)});
  ManifestDiff diff = DiffManifests(v1, v2);
  EXPECT_EQ(diff.from_version, 1u);
  EXPECT_EQ(diff.to_version, 2u);
  ASSERT_EQ(diff.added.size(), 1u);
  EXPECT_EQ(diff.added[0].path, "e.pdf");
  EXPECT_EQ(diff.added[0].new_size, 50u);
  ASSERT_EQ(diff.removed.size(), 1u);
  EXPECT_EQ(diff.removed[0].path, "b.pdf");
  EXPECT_EQ(diff.removed[0].old_size, 200u);
  ASSERT_EQ(diff.changed.size(), 1u);
  EXPECT_EQ(diff.changed[0].path, "t/c.pdf");
  EXPECT_EQ(diff.changed[0].old_size, 300u);
  EXPECT_EQ(diff.changed[0].new_size, 350u);
  EXPECT_EQ(diff.added_bytes, 50u);
  EXPECT_EQ(diff.removed_bytes, 200u);
  EXPECT_EQ(diff.size_change, (100 + 50 + 350 + 400) - (100 + 200 + 300 + 400));
  EXPECT_FALSE(diff.empty());
}

TEST(ManifestDiffTest, AVersionAgainstItselfOrARetitledFileHasNoChanges) {
  Manifest v1 = Version(1, {FileNode("a.pdf", "a", 100)}, {});
  EXPECT_TRUE(DiffManifests(v1, v1).empty());
  DraftNode renamed = FileNode("a.pdf", "a", 100);
  renamed.meta.title = "A new title";
  Manifest v2 = Version(2, {renamed}, {});
  ManifestDiff diff = DiffManifests(v1, v2);
  EXPECT_TRUE(diff.empty());
  EXPECT_EQ(diff.size_change, 0);
}

TEST(ManifestDiffTest, FromAnEmptyChannelEveryFileIsAdded) {
  Manifest empty = Version(1, {}, {});
  Manifest full = Version(2, {FileNode("a.pdf", "a", 7)}, {FileNode("t/b.pdf", "b", 9)});
  ManifestDiff diff = DiffManifests(empty, full);
  ASSERT_EQ(diff.added.size(), 2u);
  EXPECT_EQ(diff.added[0].path, "a.pdf");
  EXPECT_EQ(diff.added[1].path, "t/b.pdf");
  EXPECT_EQ(diff.added_bytes, 16u);
  ManifestDiff back = DiffManifests(full, empty);
  EXPECT_EQ(back.removed.size(), 2u);
  EXPECT_EQ(back.size_change, -16);
}

}  // namespace
}  // namespace outpost
