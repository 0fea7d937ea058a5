// Answering a GetPatch: what the holder spends on it.
#include "session/answer.h"

#include <gtest/gtest.h>

#include <array>

#include "protocol.h"
#include "session/memory_link.h"
#include "testing/temp_dir.h"
#include "zstd_codec.h"

namespace outpost::sync {
namespace {

using testing::TempDir;

// Text that compresses, and compresses better at level 19 than at level 3.
std::string Words(size_t n, uint32_t seed) {
  static constexpr std::array<const char*, 8> kWords = {"water ", "soleil ", "river ", "pluie ",
                                                        "cloud ", "terre ", "lesson ", "mer "};
  std::string out;
  while (out.size() < n) {
    seed = seed * 1103515245 + 12345;
    out += kWords[(seed >> 16) % kWords.size()];
    if ((seed >> 8) % 13 == 0) out += std::to_string(seed % 1000) + "\n";
  }
  out.resize(n);
  return out;
}

class AnswerPatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*BlobStore::Open(dir_.path()));
    auto links = MemoryLink::Pair({}, {});
    hub_link_ = std::move(links.first);
    site_link_ = std::move(links.second);
    std::array<uint8_t, noise::kKeySize> k1{}, k2{};
    k1.fill(1);
    k2.fill(2);
    hub_.emplace(hub_link_.get(), noise::CipherState(k1), noise::CipherState(k2), 2, 16u << 20);
    site_.emplace(site_link_.get(), noise::CipherState(k2), noise::CipherState(k1), 2, 16u << 20);
  }

  // The hub's answer to a GetPatch for `fresh` against `base`, as the site reads it.
  PatchData Answer(const std::string& fresh, const std::string& base, int session_level) {
    Hash blob = store_->Put(fresh)->hash, previous = store_->Put(base)->hash;
    SessionLimits limits;
    limits.zstd_level = session_level;
    OfferedVersion offered;  // the file was offered with that base
    offered.files.push_back({blob, fresh.size(), {}, previous});
    Answerable may({offered});
    EXPECT_TRUE(AnswerPatch(store_.get(), &*hub_, EncodeGetPatch(blob, previous), may, limits).ok());
    auto record = site_->Receive();
    EXPECT_TRUE(record.has_value() && record->type == kPatch);
    auto patch = DecodePatch(record ? record->body : "");
    EXPECT_TRUE(patch.has_value());
    return patch ? *patch : PatchData{};
  }

  TempDir dir_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<MemoryLink> hub_link_, site_link_;
  std::optional<SecureChannel> hub_, site_;
};

// Anyone a hub answers may ask for a patch of any file up to 64 MiB; at level 19 that costs the
// hub minutes of CPU per request. Only the small files a site asks patches for (kMaxPatchedFile)
// are worth level 19; a larger file costs what a chunk costs, at the session's level.
TEST_F(AnswerPatchTest, APatchOfALargeFileIsMadeAtTheSessionsLevelNotLevel19) {
  std::string fresh = Words(kMaxPatchedFile + 300000, 1), base = Words(5000, 2);
  ASSERT_NE(ZstdCompress(fresh, 19, {}), ZstdCompress(fresh, 3, {}));  // else this proves nothing
  PatchData patch = Answer(fresh, base, 3);
  EXPECT_EQ(patch.size, fresh.size());
  std::string at_level_3 =
      patch.kind == 1 ? ZstdCompress(fresh, 3, base) : ZstdCompress(fresh, 3, {});
  EXPECT_TRUE(patch.compressed == at_level_3)
      << patch.compressed.size() << " bytes, not the " << at_level_3.size() << " of level 3";
}

TEST_F(AnswerPatchTest, APatchOfASmallFileIsStillMadeAtLevel19) {
  std::string base = Words(200000, 3), fresh = base;
  fresh.replace(1000, 20, "an edit in the middle");
  PatchData patch = Answer(fresh, base, 3);
  EXPECT_EQ(patch.kind, 1);
  std::string at_level_19 = ZstdCompress(fresh, 19, base);
  EXPECT_TRUE(patch.compressed == at_level_19)
      << patch.compressed.size() << " bytes, not the " << at_level_19.size() << " of level 19";
}

}  // namespace
}  // namespace outpost::sync
