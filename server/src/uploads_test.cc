#include "uploads.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>

#include "testing/fault_env.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::RandomBytes;
using testing::ReadFile;
using testing::TempDir;

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class UploadStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen(UploadLimits limits = {}) {
    store_.reset();
    auto store = UploadStore::Open(dir_.path() / "uploads", limits);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
  }
  UploadInfo Create(uint64_t length, const std::string& name = "lesson.pdf",
                    const std::string& owner = "amal") {
    auto info = store_->Create(owner, length, name);
    EXPECT_TRUE(info.has_value()) << info.error().ToString();
    return info ? *info : UploadInfo{};
  }
  // Sends `data` at `offset` in one transfer and commits it.
  Result<UploadInfo> Send(const UploadInfo& info, uint64_t offset, std::string_view data) {
    auto transfer = store_->Begin(info.id, info.owner, offset);
    if (!transfer) return transfer.error();
    OUTPOST_RETURN_IF_ERROR((*transfer)->Write(Bytes(data)));
    return (*transfer)->Commit();
  }
  size_t FilesIn() {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(store_->dir())) ++n;
    return n;
  }

  TempDir dir_;
  std::unique_ptr<UploadStore> store_;
};

const std::string kPdf = "%PDF-1.4\n" + std::string(3000, 'x');

TEST_F(UploadStoreTest, AFileSentInTwoRequestsIsWholeAndItsKindComesFromItsBytes) {
  // Named .txt, but its bytes are a PDF: the content decides.
  UploadInfo info = Create(kPdf.size(), "worksheet.txt");
  EXPECT_EQ(info.offset, 0u);
  EXPECT_FALSE(info.finished);
  auto half = Send(info, 0, kPdf.substr(0, 1000));
  ASSERT_TRUE(half.has_value()) << half.error().ToString();
  EXPECT_EQ(half->offset, 1000u);
  EXPECT_FALSE(half->finished);
  auto whole = Send(info, 1000, kPdf.substr(1000));
  ASSERT_TRUE(whole.has_value()) << whole.error().ToString();
  EXPECT_TRUE(whole->finished);
  EXPECT_EQ(whole->kind, "document");
  EXPECT_EQ(whole->mime, "application/pdf");
  EXPECT_EQ(ReadFile(whole->file), kPdf);
  struct stat st;
  ASSERT_EQ(::stat(whole->file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Survives a restart as it was.
  Reopen();
  auto again = store_->Get(info.id, "amal");
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->finished);
  EXPECT_EQ(again->kind, "document");
}

TEST_F(UploadStoreTest, AWrongOffsetABusyUploadAndTooManyBytesAreRefused) {
  UploadInfo info = Create(10);
  auto wrong = store_->Begin(info.id, "amal", 5);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), StatusCode::kChanged);
  auto first = store_->Begin(info.id, "amal", 0);
  ASSERT_TRUE(first.has_value());
  auto second = store_->Begin(info.id, "amal", 0);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kBusy);
  Status too_many = (*first)->Write(Bytes("0123456789AB"));
  EXPECT_EQ(too_many.code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((*first)->Write(Bytes("0123456789")).ok());
  auto done = (*first)->Commit();
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->finished);
  // A finished upload takes no more bytes.
  auto after = store_->Begin(info.id, "amal", 10);
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code(), StatusCode::kChanged);
}

TEST_F(UploadStoreTest, AnotherAccountCannotSeeSendToOrRemoveAnUpload) {
  UploadInfo info = Create(10);
  EXPECT_EQ(store_->Get(info.id, "bilal").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Begin(info.id, "bilal", 0).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Remove(info.id, "bilal").code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->List("bilal").empty());
  EXPECT_EQ(store_->List("amal").size(), 1u);
  EXPECT_EQ(store_->Get("../../accounts", "amal").error().code(), StatusCode::kNotFound);
}

TEST_F(UploadStoreTest, ACutConnectionKeepsWhatArrivedAndAChecksumMismatchDropsTheRequest) {
  std::string data = RandomBytes(5000, 1);
  UploadInfo info = Create(data.size());
  {
    auto transfer = store_->Begin(info.id, "amal", 0);
    ASSERT_TRUE(transfer.has_value());
    ASSERT_TRUE((*transfer)->Write(Bytes(std::string_view(data).substr(0, 1500))).ok());
    ASSERT_TRUE((*transfer)->Abort(/*keep=*/true).ok());  // the Wi-Fi dropped
  }
  EXPECT_EQ(store_->Get(info.id, "amal")->offset, 1500u);
  {
    auto transfer = store_->Begin(info.id, "amal", 1500);
    ASSERT_TRUE(transfer.has_value());
    ASSERT_TRUE((*transfer)->Write(Bytes(std::string_view(data).substr(1500, 2000))).ok());
    ASSERT_TRUE((*transfer)->Abort(/*keep=*/false).ok());  // its checksum did not match
  }
  auto info2 = store_->Get(info.id, "amal");
  EXPECT_EQ(info2->offset, 1500u);
  EXPECT_EQ(std::filesystem::file_size(info2->file), 1500u);
  auto whole = Send(info, 1500, std::string_view(data).substr(1500));
  ASSERT_TRUE(whole.has_value());
  EXPECT_TRUE(whole->finished);
  EXPECT_EQ(ReadFile(whole->file), data);
}

TEST_F(UploadStoreTest, ARefusedRequestGoesBackToItsStartEvenPastADurablePoint) {
  UploadLimits limits;
  limits.durable_every = 1000;
  Reopen(limits);
  std::string data = RandomBytes(4000, 2);
  UploadInfo info = Create(data.size());
  auto transfer = store_->Begin(info.id, "amal", 0);
  ASSERT_TRUE(transfer.has_value());
  ASSERT_TRUE((*transfer)->Write(Bytes(std::string_view(data).substr(0, 1200))).ok());
  EXPECT_EQ(store_->Get(info.id, "amal")->offset, 1200u);  // past durable_every: recorded
  ASSERT_TRUE((*transfer)->Write(Bytes(std::string_view(data).substr(1200, 300))).ok());
  EXPECT_EQ(store_->Get(info.id, "amal")->offset, 1200u);  // not yet
  // The process dies here (a kill runs no destructor): 1,500 bytes are in the file, 1,200
  // recorded durable. What a restart sees is the same as this reopening without the transfer.
  std::string part = ReadFile(info.file);
  ASSERT_TRUE((*transfer)->Abort(/*keep=*/false).ok());
  {
    FILE* f = std::fopen(info.file.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(part.data(), 1, part.size(), f);
    std::fclose(f);
  }
  ASSERT_EQ(std::filesystem::file_size(info.file), 1500u);
  Reopen(limits);
  auto after = store_->Get(info.id, "amal");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->offset, 0u);  // the abort above put the record back to the transfer's start
  EXPECT_EQ(std::filesystem::file_size(after->file), 0u);
}

TEST_F(UploadStoreTest, APartLongerThanItsRecordIsCutBackToItOnOpen) {
  std::string data = RandomBytes(4000, 4);
  UploadInfo info = Create(data.size());
  ASSERT_TRUE(Send(info, 0, std::string_view(data).substr(0, 1200)).has_value());
  {
    FILE* f = std::fopen(info.file.c_str(), "ab");  // written, never recorded: a crash
    ASSERT_NE(f, nullptr);
    std::fwrite(data.data() + 1200, 1, 300, f);
    std::fclose(f);
  }
  Reopen();
  auto after = store_->Get(info.id, "amal");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->offset, 1200u);
  EXPECT_EQ(std::filesystem::file_size(after->file), 1200u);
  ASSERT_TRUE(Send(info, 1200, std::string_view(data).substr(1200)).has_value());
  EXPECT_EQ(ReadFile(info.file), data);
}

TEST_F(UploadStoreTest, CrashDebrisIsRemovedOnOpen) {
  UploadInfo info = Create(10);
  std::string orphan = std::string(32, 'a');
  dir_.Write("uploads/" + orphan + ".part", "bytes of an upload with no record");
  dir_.Write("uploads/" + std::string(32, 'b') + ".json", "{not json");
  dir_.Write("uploads/.tmp-123", "a temp file");
  Reopen();
  EXPECT_EQ(FilesIn(), 2u);  // the one real upload's record and bytes
  EXPECT_TRUE(store_->Get(info.id, "amal").has_value());
}

TEST_F(UploadStoreTest, AnExpectedHashThatDoesNotMatchRemovesTheUpload) {
  std::string data = RandomBytes(3000, 3);
  auto info = store_->Create("amal", data.size(), "video.mp4", "video/mp4",
                             Hash::Of(std::string_view("something else")));
  ASSERT_TRUE(info.has_value());
  auto done = Send(*info, 0, data);
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code(), StatusCode::kCorrupt);
  EXPECT_EQ(store_->Get(info->id, "amal").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(FilesIn(), 0u);
  auto right = store_->Create("amal", data.size(), "video.mp4", "video/mp4", Hash::Of(data));
  ASSERT_TRUE(right.has_value());
  auto ok = Send(*right, 0, data);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_TRUE(ok->finished);
}

TEST_F(UploadStoreTest, BadNamesAreRefusedAndLeaveNothing) {
  for (std::string name : {std::string(""), std::string("../etc/passwd"), std::string("a/b.pdf"),
                           std::string("a\\b.pdf"), std::string("bad\xff\xfe.pdf"),
                           std::string("line\nbreak.pdf"), std::string(".."),
                           std::string(300, 'n')}) {
    auto info = store_->Create("amal", 10, name);
    ASSERT_FALSE(info.has_value()) << name;
    EXPECT_EQ(info.error().code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(FilesIn(), 0u);
  // Names in any script are fine.
  EXPECT_TRUE(store_->Create("amal", 10, "درس الرياضيات.pdf").has_value());
}

TEST_F(UploadStoreTest, TooLargeTooManyAndTooLittleDiskAreSaidClearly) {
  UploadLimits limits;
  limits.max_upload_bytes = 1000;
  limits.max_unfinished_per_account = 2;
  limits.reserve_bytes = 100;
  Reopen(limits);
  store_->free_bytes = [] { return uint64_t{2500}; };
  auto big = store_->Create("amal", 1001, "a.pdf");
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.error().message().find("larger"), std::string::npos);
  ASSERT_TRUE(store_->Create("amal", 1000, "a.pdf").has_value());
  // 2,500 free, 1,000 owed to the first upload, 100 kept: 1,000 more fit, 1,401 would not.
  auto full = store_->Create("bilal", 1000 + 401, "b.pdf");
  EXPECT_FALSE(full.has_value());
  ASSERT_TRUE(store_->Create("amal", 1000, "b.pdf").has_value());
  store_->free_bytes = [] { return uint64_t{1} << 40; };
  auto many = store_->Create("amal", 10, "c.pdf");
  ASSERT_FALSE(many.has_value());
  EXPECT_EQ(many.error().code(), StatusCode::kDenied);
  EXPECT_TRUE(store_->Create("bilal", 10, "c.pdf").has_value());  // a limit per account
  store_->free_bytes = [] { return uint64_t{0}; };
  auto disk = store_->Create("bilal", 10, "d.pdf");
  ASSERT_FALSE(disk.has_value());
  EXPECT_EQ(disk.error().code(), StatusCode::kNoSpace);
  EXPECT_NE(disk.error().message().find("free space"), std::string::npos);
}

TEST_F(UploadStoreTest, RemoveAndPlacedForgetTheUploadAndExpiryClearsIdleOnes) {
  UploadInfo a = Create(10), b = Create(3), c = Create(10);
  ASSERT_TRUE(store_->Remove(a.id, "amal").ok());
  EXPECT_EQ(store_->Placed(c.id, "amal").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(Send(b, 0, "abc").has_value());
  ASSERT_TRUE(store_->Placed(b.id, "amal").ok());
  EXPECT_EQ(FilesIn(), 2u);  // c only
  int64_t now = std::time(nullptr);
  EXPECT_EQ(store_->RemoveExpired(now), 0);
  EXPECT_EQ(store_->RemoveExpired(now + store_->limits().unfinished_ttl.count() + 1), 1);
  EXPECT_EQ(FilesIn(), 0u);
}

TEST_F(UploadStoreTest, AFullDiskWhileCreatingLeavesNothing) {
  testing::FaultEnv env;
  for (long step = 0;; ++step) {
    env.FailAfter(step, testing::FaultEnv::Fault::kNoSpace);
    auto store = UploadStore::Open(dir_.path() / "faulty", {}, &env);
    if (!store) continue;
    auto info = (*store)->Create("amal", 10, "a.pdf");
    if (info) break;
    EXPECT_EQ(info.error().code(), StatusCode::kNoSpace) << info.error().ToString();
    env.Heal();
    auto reopened = UploadStore::Open(dir_.path() / "faulty", {}, &env);
    ASSERT_TRUE(reopened.has_value());
    EXPECT_TRUE((*reopened)->List("amal").empty()) << "step " << step;
    size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_.path() / "faulty")) ++files;
    EXPECT_EQ(files, 0u) << "step " << step;
    ASSERT_LT(step, 50);
  }
}

}  // namespace
}  // namespace outpost
