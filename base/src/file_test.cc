#include "outpost/base/file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::RandomBytes;
using testing::TempDir;

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

int OpenNull() {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  return fd;
}

bool Mentions(const Status& st, const std::string& text) {
  return st.message().find(text) != std::string::npos;
}

// ---- UniqueFd ----

TEST(UniqueFdTest, ClosesItsDescriptorWhenDestroyed) {
  int raw = OpenNull();
  {
    UniqueFd fd(raw);
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(fd.get(), raw);
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(UniqueFdTest, ReleaseGivesTheDescriptorUpWithoutClosingIt) {
  int raw = OpenNull();
  {
    UniqueFd fd(raw);
    EXPECT_EQ(fd.release(), raw);
    EXPECT_FALSE(fd.valid());
    EXPECT_EQ(fd.get(), -1);
  }
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

TEST(UniqueFdTest, MovingHandsTheDescriptorOnAndAssigningClosesTheOneHeld) {
  int first = OpenNull(), second = OpenNull();
  UniqueFd a(first);
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is defined
  EXPECT_EQ(b.get(), first);
  b = UniqueFd(second);
  EXPECT_FALSE(IsOpen(first));
  EXPECT_EQ(b.get(), second);
  b.reset();
  EXPECT_FALSE(IsOpen(second));
  EXPECT_FALSE(b.valid());
}

TEST(UniqueFdTest, ADefaultOneHoldsNothing) {
  UniqueFd fd;
  EXPECT_FALSE(fd.valid());
  fd.reset();  // closes nothing
  EXPECT_EQ(fd.release(), -1);
}

// ---- ReadWholeFile ----

// A read must not write the card: on a file system mounted relatime (the default), reading a
// file whose access time is older than its change time writes a new one, unless O_NOATIME.
TEST(ReadWholeFileTest, ReadingAFileOfOursLeavesItsAccessTimeAlone) {
  testing::TempDir dir;
  fs::path file = dir.Write("page.html", "<p>lesson</p>");
  struct timespec times[2] = {{1000000, 0}, {UTIME_OMIT, UTIME_OMIT}};  // atime long before mtime
  ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  ASSERT_TRUE(ReadWholeFile(file, 100).has_value());
  int fd = OpenForReadingNoAtime(file.c_str());
  ASSERT_GE(fd, 0);
  char byte;
  ASSERT_EQ(::read(fd, &byte, 1), 1);
  ::close(fd);
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1000000);
}

TEST(ReadWholeFileTest, ReadsAFileOfUpToTheLimit) {
  TempDir dir;
  const std::string bytes = RandomBytes(70'000, 1);
  fs::path file = dir.Write("data.bin", bytes);
  EXPECT_EQ(ReadWholeFile(file, bytes.size()).value(), bytes);
  EXPECT_EQ(ReadWholeFile(file, 1 << 20).value(), bytes);
  EXPECT_EQ(ReadWholeFile(dir.Write("empty", ""), 0).value(), "");
}

TEST(ReadWholeFileTest, AMissingFileIsNotFoundAndNamed) {
  TempDir dir;
  auto r = ReadWholeFile(dir.path() / "nope", 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Mentions(r.error(), (dir.path() / "nope").string())) << r.error().message();
}

TEST(ReadWholeFileTest, AFileOverTheLimitIsRefusedNamingTheFileItsSizeAndTheLimit) {
  TempDir dir;
  fs::path file = dir.Write("big", std::string(101, 'x'));
  auto r = ReadWholeFile(file, 100);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), file.string() + " is too large (101 bytes; at most 100)");
}

// /proc's files say they are empty (st_size 0) and have lines: read to the end, not to the size.
TEST(ReadWholeFileTest, AFileInProcIsReadToItsEndThoughItSaysItIsEmpty) {
  ASSERT_EQ(fs::file_size("/proc/self/mounts"), 0u);
  auto r = ReadWholeFile("/proc/self/mounts", 1 << 20);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_NE(r->find(" / "), std::string::npos) << *r;  // the root's mount line
}

TEST(ReadWholeFileTest, AFileInProcOverTheLimitIsRefused) {
  auto r = ReadWholeFile("/proc/self/mounts", 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "/proc/self/mounts is too large (more than 10 bytes)");
}

TEST(ReadWholeFileTest, AFolderOrAFifoIsRefusedAsNotARegularFile) {
  TempDir dir;
  fs::create_directory(dir.path() / "folder");
  fs::path fifo = dir.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const fs::path& path : {dir.path() / "folder", fifo}) {
    auto r = ReadWholeFile(path, 100);  // a FIFO must not wait for a writer
    ASSERT_FALSE(r.has_value()) << path;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.error().message(), path.string() + " is not a regular file");
  }
}

// ---- ReadFileRange ----

TEST(ReadFileRangeTest, ReadsExactlyTheRangeAsked) {
  TempDir dir;
  const std::string bytes = RandomBytes(1000, 2);
  fs::path file = dir.Write("blob", bytes);
  EXPECT_EQ(ReadFileRange(file, 0, 1000).value(), bytes);
  EXPECT_EQ(ReadFileRange(file, 10, 20).value(), bytes.substr(10, 20));
  EXPECT_EQ(ReadFileRange(file, 990, 10).value(), bytes.substr(990));
  EXPECT_EQ(ReadFileRange(file, 1000, 0).value(), "");
}

TEST(ReadFileRangeTest, ARangePastTheEndIsCorruptAndNamesTheFile) {
  TempDir dir;
  fs::path file = dir.Write("blob", std::string(100, 'x'));
  for (auto [offset, length] : {std::pair<uint64_t, size_t>{90, 11}, {101, 0}, {0, 101},
                                {UINT64_MAX, 2}, {2, SIZE_MAX}}) {
    auto r = ReadFileRange(file, offset, length);
    ASSERT_FALSE(r.has_value()) << offset << "+" << length;
    EXPECT_EQ(r.error().code(), StatusCode::kCorrupt);
    EXPECT_EQ(r.error().message(), file.string() + " is shorter than expected");
  }
}

TEST(ReadFileRangeTest, AMissingFileIsNotFound) {
  TempDir dir;
  EXPECT_EQ(ReadFileRange(dir.path() / "nope", 0, 1).error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace outpost
