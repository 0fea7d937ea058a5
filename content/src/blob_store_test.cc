#include "outpost/content/blob_store.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "testing/fault_env.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::FaultEnv;
using testing::TempDir;

size_t CountFiles(const fs::path& dir) {
  size_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(BlobStoreTest, StoresWholeFilesNamedByTheirHash) {
  TempDir dir;
  auto store = BlobStore::Open(dir.path());
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  std::string data = testing::RandomBytes(300000, 1);
  auto info = (*store)->Put(data);
  ASSERT_TRUE(info.has_value()) << info.error().ToString();
  EXPECT_EQ(info->hash, Hash::Of(data));
  EXPECT_EQ(info->size, data.size());
  EXPECT_FALSE(info->existed);
  EXPECT_TRUE((*store)->Contains(info->hash));
  std::string hex = info->hash.Hex();
  fs::path expected = dir.path() / "blobs" / hex.substr(0, 2) / hex.substr(2, 2) / hex;
  EXPECT_EQ((*store)->PathOf(info->hash), expected);
  EXPECT_EQ(testing::ReadFile(expected), data);
  EXPECT_TRUE((*store)->SyncDirs().ok());
  EXPECT_EQ(CountFiles(dir.path() / "tmp"), 0u);
}

TEST(BlobStoreTest, ChunksCoverTheBlob) {
  TempDir dir;
  auto store = BlobStore::Open(dir.path());
  std::string data = testing::RandomBytes(1000000, 2);
  auto info = (*store)->Put(data);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->chunks, ChunkBuffer({reinterpret_cast<const uint8_t*>(data.data()), data.size()}));
}

TEST(BlobStoreTest, StoringTheSameBytesTwiceKeepsOneCopy) {
  TempDir dir;
  auto store = BlobStore::Open(dir.path());
  auto a = (*store)->Put("same bytes");
  auto b = (*store)->Put("same bytes");
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->hash, b->hash);
  EXPECT_TRUE(b->existed);
  EXPECT_EQ(CountFiles(dir.path() / "blobs"), 1u);
  EXPECT_EQ(CountFiles(dir.path() / "tmp"), 0u);
}

TEST(BlobStoreTest, VerifyFindsAFlippedByte) {
  TempDir dir;
  auto store = BlobStore::Open(dir.path());
  auto info = (*store)->Put(testing::RandomBytes(5000, 3));
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE((*store)->Verify(info->hash).ok());
  fs::path p = (*store)->PathOf(info->hash);
  testing::FlipByte(p, 1234);
  Status st = (*store)->Verify(info->hash);
  EXPECT_EQ(st.code(), StatusCode::kCorrupt);
  EXPECT_NE(st.message().find(p.string()), std::string::npos);
}

TEST(BlobStoreTest, AFullDiskLeavesNoBlobAndNoTempFile) {
  // Fail at every step of a write in turn; each failure must leave the store as it was.
  std::string data = testing::RandomBytes(200000, 4);
  for (long step = 0;; ++step) {
    TempDir dir;
    FaultEnv env;
    auto store = BlobStore::Open(dir.path(), &env);
    ASSERT_TRUE(store.has_value());
    env.FailAfter(step, FaultEnv::Fault::kNoSpace);
    Result<BlobInfo> info = Status();
    {
      auto writer = (*store)->NewWriter();
      Status st = writer.has_value() ? Status::Ok() : writer.error();
      if (st.ok()) {
        for (size_t off = 0; off < data.size() && st.ok(); off += 65536) {
          size_t n = std::min<size_t>(65536, data.size() - off);
          st = (*writer)->Append({reinterpret_cast<const uint8_t*>(data.data()) + off, n});
        }
      }
      if (st.ok()) info = (*writer)->Commit(); else info = st;
    }
    if (!env.fired()) {
      ASSERT_TRUE(info.has_value()) << info.error().ToString();
      EXPECT_GT(step, 3);  // the countdown did reach every operation
      break;
    }
    ASSERT_FALSE(info.has_value()) << "step " << step;
    EXPECT_EQ(info.error().code(), StatusCode::kNoSpace) << info.error().ToString();
    EXPECT_EQ(CountFiles(dir.path() / "blobs"), 0u) << "step " << step;
    EXPECT_EQ(CountFiles(dir.path() / "tmp"), 0u) << "step " << step;
  }
}

TEST(BlobStoreTest, AFailedFsyncDoesNotInstallTheBlob) {
  TempDir dir;
  FaultEnv env;
  auto store = BlobStore::Open(dir.path(), &env);
  env.FailAfter(0, FaultEnv::Fault::kSyncFails);
  auto info = (*store)->Put("some bytes");
  ASSERT_FALSE(info.has_value());
  EXPECT_FALSE((*store)->Contains(Hash::Of(std::string_view("some bytes"))));
  EXPECT_EQ(CountFiles(dir.path() / "tmp"), 0u);
}

// ---- Adopt: an upload taken into the store without a second copy.

uint64_t InodeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_ino;
}

TEST(BlobStoreTest, AnAdoptedFileBecomesItsBlobWithoutACopy) {
  TempDir dir;
  auto store = BlobStore::Open(dir.path());
  ASSERT_TRUE(store.has_value());
  std::string data = testing::RandomBytes(700000, 11);
  fs::path upload = dir.Write("uploads/lesson.bin", data);
  ::chmod(upload.c_str(), 0600);
  uint64_t inode = InodeOf(upload);
  auto info = (*store)->Adopt(upload);
  ASSERT_TRUE(info.has_value()) << info.error().ToString();
  EXPECT_EQ(info->hash, Hash::Of(data));
  EXPECT_EQ(info->size, data.size());
  EXPECT_FALSE(info->existed);
  // The same chunks an import of the same bytes records.
  EXPECT_EQ(info->chunks, ChunkBuffer({reinterpret_cast<const uint8_t*>(data.data()), data.size()}));
  EXPECT_FALSE(fs::exists(upload));
  fs::path blob = (*store)->PathOf(info->hash);
  EXPECT_EQ(InodeOf(blob), inode);  // moved, not copied
  EXPECT_EQ(fs::status(blob).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                fs::perms::others_read);
  EXPECT_TRUE((*store)->Verify(info->hash).ok());
  EXPECT_TRUE((*store)->SyncDirs().ok());
}

TEST(BlobStoreTest, AdoptingBytesTheStoreHoldsRemovesTheFile) {
  TempDir dir;
  auto store = BlobStore::Open(dir.path());
  auto held = (*store)->Put("the same worksheet");
  ASSERT_TRUE(held.has_value());
  fs::path upload = dir.Write("uploads/again.txt", "the same worksheet");
  auto info = (*store)->Adopt(upload);
  ASSERT_TRUE(info.has_value()) << info.error().ToString();
  EXPECT_TRUE(info->existed);
  EXPECT_EQ(info->hash, held->hash);
  EXPECT_FALSE(fs::exists(upload));
  EXPECT_EQ(CountFiles(dir.path() / "blobs"), 1u);
}

TEST(BlobStoreTest, AdoptRefusesWhatIsNotARegularFile) {
  TempDir dir;
  auto store = BlobStore::Open(dir.path());
  fs::create_directories(dir.path() / "uploads" / "folder");
  auto folder = (*store)->Adopt(dir.path() / "uploads" / "folder");
  ASSERT_FALSE(folder.has_value());
  EXPECT_EQ(folder.error().code(), StatusCode::kInvalidArgument);
  fs::path target = dir.Write("uploads/real.txt", "real");
  fs::create_symlink(target, dir.path() / "uploads" / "link.txt");
  auto link = (*store)->Adopt(dir.path() / "uploads" / "link.txt");
  ASSERT_FALSE(link.has_value());  // O_NOFOLLOW: a link is not taken for what it points at
  EXPECT_FALSE((*store)->Contains(Hash::Of(std::string_view("real"))));
  auto missing = (*store)->Adopt(dir.path() / "uploads" / "none.txt");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(CountFiles(dir.path() / "blobs"), 0u);
}

// Each failure in turn (the fsync, the folder, the rename) leaves the upload where it was,
// whole, and no blob of it in the store: never a file under its hash's name that is not durable.
TEST(BlobStoreTest, AFailureAtEachStepOfAnAdoptionLeavesTheFileAndNoBlob) {
  std::string data = testing::RandomBytes(300000, 12);
  for (auto fault : {FaultEnv::Fault::kSyncFails, FaultEnv::Fault::kNoSpace,
                     FaultEnv::Fault::kRenameFails}) {
    for (long step = 0;; ++step) {
      TempDir dir;
      FaultEnv env;
      auto store = BlobStore::Open(dir.path(), &env);
      ASSERT_TRUE(store.has_value());
      fs::path upload = dir.Write("uploads/lesson.bin", data);
      env.FailAfter(step, fault);
      auto info = (*store)->Adopt(upload);
      if (!env.fired()) {
        ASSERT_TRUE(info.has_value()) << info.error().ToString();
        EXPECT_GT(step, 0);
        EXPECT_TRUE((*store)->Contains(Hash::Of(data)));
        EXPECT_FALSE(fs::exists(upload));
        break;
      }
      std::string where = "fault " + std::to_string(static_cast<int>(fault)) + " at step " +
                          std::to_string(step);
      ASSERT_FALSE(info.has_value()) << where;
      EXPECT_FALSE((*store)->Contains(Hash::Of(data))) << where;
      EXPECT_EQ(CountFiles(dir.path() / "blobs"), 0u) << where;
      EXPECT_EQ(testing::ReadFile(upload), data) << where;
    }
  }
}

// A sync builds many small files and makes them durable together (BlobWriter::Finish, then
// InstallBatch): nothing is under its hash's name before the batch is synced and installed.
TEST(BlobStoreTest, ABatchIsInstalledOnlyOnceSynced) {
  TempDir dir;
  FaultEnv env;
  auto store = BlobStore::Open(dir.path(), &env);
  ASSERT_TRUE(store.has_value());
  auto already = (*store)->Put("held already");
  ASSERT_TRUE(already.has_value());
  std::vector<PendingBlob> batch;
  for (std::string data : {std::string("first file"), testing::RandomBytes(200000, 5),
                           std::string("held already")}) {
    auto writer = (*store)->NewWriter();
    ASSERT_TRUE(writer.has_value());
    ASSERT_TRUE((*writer)->Append({reinterpret_cast<const uint8_t*>(data.data()), data.size()}).ok());
    auto pending = (*writer)->Finish();
    ASSERT_TRUE(pending.has_value()) << pending.error().ToString();
    EXPECT_EQ(pending->info.hash, Hash::Of(data));
    EXPECT_EQ(pending->temp.empty(), data == "held already");
    EXPECT_FALSE((*store)->Contains(pending->info.hash) && !pending->temp.empty());
    batch.push_back(std::move(*pending));
  }
  EXPECT_EQ(CountFiles(dir.path() / "tmp"), 2u);

  // The sync fails: nothing is installed, the temp files are gone.
  std::vector<PendingBlob> copy = batch;
  env.FailAfter(0, FaultEnv::Fault::kSyncFails);
  EXPECT_FALSE((*store)->InstallBatch(std::move(copy)).has_value());
  EXPECT_FALSE((*store)->Contains(batch[0].info.hash));
  EXPECT_FALSE((*store)->Contains(batch[1].info.hash));
  EXPECT_EQ(CountFiles(dir.path() / "tmp"), 0u);
}

// A sync rebuilding a file from chunks it verified records them as they are: the same chunks
// the chunker finds for the same bytes, without hashing every byte twice.
TEST(BlobStoreTest, KnownChunksAreRecordedAsGiven) {
  TempDir dir;
  auto store = BlobStore::Open(dir.path());
  ASSERT_TRUE(store.has_value());
  std::string data = testing::RandomBytes(500000, 7);
  auto chunked = (*store)->Put(data);
  ASSERT_TRUE(chunked.has_value());
  ASSERT_GT(chunked->chunks.size(), 1u);
  ASSERT_TRUE((*store)->Remove(chunked->hash).ok());

  auto writer = (*store)->NewWriter();
  ASSERT_TRUE(writer.has_value());
  for (const Chunk& c : chunked->chunks) {
    ASSERT_TRUE((*writer)->AppendChunk({reinterpret_cast<const uint8_t*>(data.data()) + c.offset, c.length},
                                       c.hash).ok());
  }
  // One writer does not mix the two ways.
  EXPECT_EQ((*writer)->Append({reinterpret_cast<const uint8_t*>(data.data()), 1}).code(),
            StatusCode::kInternal);
  auto built = (*writer)->Commit();
  ASSERT_TRUE(built.has_value()) << built.error().ToString();
  EXPECT_EQ(built->hash, chunked->hash);
  EXPECT_EQ(built->chunks, chunked->chunks);
  EXPECT_TRUE((*store)->Verify(built->hash).ok());
}

TEST(BlobStoreTest, ABatchInstallsEveryFileOnce) {
  TempDir dir;
  auto store = BlobStore::Open(dir.path());
  ASSERT_TRUE(store.has_value());
  std::vector<PendingBlob> batch;
  std::vector<std::string> datas = {"a page", testing::RandomBytes(300000, 6), "a page"};
  for (const auto& data : datas) {
    auto writer = (*store)->NewWriter();
    ASSERT_TRUE((*writer)->Append({reinterpret_cast<const uint8_t*>(data.data()), data.size()}).ok());
    auto pending = (*writer)->Finish();
    ASSERT_TRUE(pending.has_value());
    batch.push_back(std::move(*pending));
  }
  auto installed = (*store)->InstallBatch(std::move(batch));
  ASSERT_TRUE(installed.has_value()) << installed.error().ToString();
  ASSERT_EQ(installed->size(), 3u);
  EXPECT_FALSE((*installed)[0].existed);
  EXPECT_TRUE((*installed)[2].existed);  // the same bytes twice in one batch: one file
  for (size_t i = 0; i < datas.size(); ++i) {
    EXPECT_EQ(testing::ReadFile((*store)->PathOf(Hash::Of(datas[i]))), datas[i]);
    EXPECT_TRUE((*store)->Verify(Hash::Of(datas[i])).ok());
  }
  EXPECT_EQ(CountFiles(dir.path() / "blobs"), 2u);
  EXPECT_EQ(CountFiles(dir.path() / "tmp"), 0u);
  EXPECT_TRUE((*store)->SyncDirs().ok());
}

TEST(BlobStoreTest, ForEachListsBlobsAndReportsStrayFiles) {
  TempDir dir;
  auto store = BlobStore::Open(dir.path());
  auto a = (*store)->Put("a");
  auto b = (*store)->Put("b");
  dir.Write("blobs/zz/stray.txt", "not a blob");
  std::set<Hash> seen;
  std::vector<fs::path> strays;
  ASSERT_TRUE((*store)
                  ->ForEach([&](const Hash& h, uint64_t) { seen.insert(h); },
                            [&](const fs::path& p) { strays.push_back(p); })
                  .ok());
  EXPECT_EQ(seen, (std::set<Hash>{a->hash, b->hash}));
  EXPECT_EQ(strays.size(), 1u);
}

TEST(BlobStoreTest, GcLockIsRefusedWhileAWriterHoldsTheSharedLock) {
  TempDir dir;
  auto store = BlobStore::Open(dir.path());
  {
    auto shared = (*store)->LockShared();
    ASSERT_TRUE(shared.has_value());
    auto exclusive = (*store)->TryLockExclusive();
    ASSERT_FALSE(exclusive.has_value());
    EXPECT_EQ(exclusive.error().code(), StatusCode::kBusy);
  }
  auto exclusive = (*store)->TryLockExclusive();
  EXPECT_TRUE(exclusive.has_value());
}

}  // namespace
}  // namespace outpost
