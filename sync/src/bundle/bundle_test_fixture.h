// Private to sync/'s bundle tests: a hub with a published channel "water" (five lesson pages
// and a clip) and a site "ecole-1" enrolled to it, and the helpers the export and import tests
// share: exporting to a folder or to a drive of a given size, continuing, importing, and what a
// folder or a catalog then holds.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "outpost/sync/bundle_export.h"
#include "outpost/sync/bundle_import.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/trust_store.h"
#include "test_node.h"
#include "testing/fault_env.h"
#include "testing/temp_dir.h"

namespace outpost::testing {

class BundleFixture : public ::testing::Test {
 protected:
  using Node = TestNode;

  // A lesson page of about 8 kB, `extra` at its end.
  static std::string Page(int n, const std::string& extra = "") {
    std::string body;
    for (int i = 0; i < 200; ++i) body += "<p>Lesson " + std::to_string(n) + ", line " + std::to_string(i) + ".</p>\n";
    return "<!DOCTYPE html><title>Lesson " + std::to_string(n) + "</title>" + body + extra;
  }

  void SetUp() override {
    ASSERT_TRUE(InitHub(hub_.paths).has_value());
    folder_.Write("outpost.toml", "[channel]\nid = \"water\"\ntitle = \"Water\"\nlanguage = \"en\"\n");
    for (int i = 0; i < 5; ++i) folder_.Write("lesson-" + std::to_string(i) + ".html", Page(i));
    folder_.Write("media/clip.mp4", std::string("\0\0\0\x18" "ftypisom", 12) + RandomBytes(400000, 3));
    Publish();
    Enrol(&site_, "ecole-1");
  }
  void Publish() {
    auto r = outpost::Publish(hub_.paths, hub_.store.get(), hub_.catalog.get(), folder_.path(), "");
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }
  // What a network enrolment leaves on both sides.
  void Enrol(Node* site, const std::string& name) {
    auto code = hub_.db->NewEnrolCode(name, 3600);
    ASSERT_TRUE(code.has_value());
    auto key = LoadOrCreateIdentity(site->paths.node_key);
    ASSERT_TRUE(key.has_value());
    ASSERT_TRUE(hub_.db->AdmitSite(*code, key->public_key()).has_value());
    auto hub_key = LoadIdentity(hub_.paths.node_key);
    HubPin pin;
    pin.node_key = hub_key->public_key();
    pin.root_key = *hub_.db->OwnRoot();
    pin.site_name = name;
    ASSERT_TRUE(site->db->SetHub(pin).ok());
    std::ifstream in(hub_.paths.trust_list, std::ios::binary);
    std::string doc{std::istreambuf_iterator<char>(in), {}};
    ASSERT_TRUE(StoreTrustList(site->paths, pin.root_key, doc).ok());
  }
  Result<BundleExportResult> Export(Node* from, const std::filesystem::path& to, std::vector<std::string> for_peers,
                                    uint64_t volume_bytes = kDefaultVolumeBytes) {
    BundleExportOptions options;
    options.to = to;
    options.for_peers = std::move(for_peers);
    options.volume_bytes = volume_bytes;
    return ExportBundle(from->paths, from->store.get(), from->catalog.get(), from->db.get(), options);
  }
  Result<BundleExportResult> Export(Node* from, const BundleExportOptions& options) {
    return ExportBundle(from->paths, from->store.get(), from->catalog.get(), from->db.get(), options);
  }
  // The hub's options for a bundle to ecole-1 in volumes of 700 kB, on a drive that holds
  // `capacity` bytes (0: the real free space of `to`).
  static BundleExportOptions ToSite(const std::filesystem::path& to, uint64_t capacity = 0) {
    BundleExportOptions options;
    options.to = to;
    options.for_peers = {"ecole-1"};
    options.volume_bytes = 700000;
    if (capacity) options.free_bytes = Drive(capacity);
    return options;
  }
  static BundleExportOptions Continue(const std::filesystem::path& to, std::string id = "") {
    BundleExportOptions options;
    options.to = to;
    options.volume_bytes = 700000;
    options.continue_export = true;
    options.continue_id = std::move(id);
    return options;
  }
  // A drive of `capacity` bytes whose only files are those in the folder written to.
  static std::function<uint64_t(const std::filesystem::path&)> Drive(uint64_t capacity) {
    return [capacity](const std::filesystem::path& dir) {
      uint64_t used = 0;
      for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) used += e.file_size();
      }
      return used < capacity ? capacity - used : 0;
    };
  }
  // A film of 6 MB that does not compress: the bundle outgrows a small stick.
  void AddFilm() {
    folder_.Write("media/film.mp4", std::string("\0\0\0\x18" "ftypisom", 12) + RandomBytes(6000000, 11));
    Publish();
  }
  // The film's bundle exported to stick_ as a drive of half its size: an unfinished export.
  Result<BundleExportResult> HalfOnTheStick() {
    AddFilm();
    TempDir big;
    auto plan = Export(&hub_, ToSite(big.path()));
    if (!plan) return plan.error();
    ForgetWhatWasSent();
    return Export(&hub_, ToSite(stick_.path(), plan->bytes / 2));
  }
  // The film's bundle, whole, in a folder of its own: its pieces, and how many file operations
  // writing it takes (where to make a drive fail).
  Result<BundleExportResult> FilmBundleCounting(long* operations) {
    AddFilm();
    TempDir big;
    FaultEnv counting;
    BundleExportOptions whole = ToSite(big.path());
    whole.env = &counting;
    auto plan = Export(&hub_, whole);
    *operations = counting.operations();
    ForgetWhatWasSent();
    return plan;
  }
  // A bundle written only to be measured went nowhere: the next is not packed against it.
  void ForgetWhatWasSent() {
    for (const PeerInfo& p : hub_.db->Peers()) ASSERT_TRUE(hub_.db->ForgetSentVersions(p.key, INT64_MAX).ok());
  }
  // What a folder holds, by name.
  static std::vector<std::string> Names(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  static uint64_t Used(const std::filesystem::path& dir) {
    uint64_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.file_size();
    return n;
  }
  static uint32_t VolumeNumber(const std::filesystem::path& volume) {  // outpost-XXXXXXXX-N.opb
    std::string stem = volume.stem().string();
    return static_cast<uint32_t>(std::stoul(stem.substr(stem.rfind('-') + 1)));
  }
  void ExpectServedAsAtTheHub() {
    EXPECT_EQ(Manifest(&site_, "water"), Manifest(&hub_, "water"));
    auto referenced = site_.catalog->ReferencedBlobs();
    ASSERT_TRUE(referenced.has_value());
    for (const Hash& blob : *referenced) EXPECT_TRUE(site_.store->Verify(blob).ok()) << blob.Hex();
  }
  Result<BundleImportResult> Import(Node* into, const std::filesystem::path& path) {
    return ImportBundle(into->paths, into->store.get(), into->catalog.get(), into->db.get(), path);
  }
  static std::optional<Hash> Manifest(Node* n, const std::string& id) {
    auto c = n->catalog->Channel(id);
    return c ? c->manifest_hash : std::nullopt;
  }

  TempDir hub_dir_, site_dir_, folder_, stick_;
  Node hub_{hub_dir_.path()}, site_{site_dir_.path()};
};

}  // namespace outpost::testing
