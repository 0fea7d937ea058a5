#include "outpost/base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>
#include <cstdint>

namespace outpost {

namespace fs = std::filesystem;

int OpenForReadingNoAtime(const char* path, int flags) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NOATIME | flags);
  if (fd < 0 && errno == EPERM) fd = ::open(path, O_RDONLY | O_CLOEXEC | flags);
  return fd;
}

namespace {

// O_NONBLOCK: a FIFO in a file's place is refused (not a regular file), not waited on.
Result<UniqueFd> OpenForReading(const fs::path& path) {
  UniqueFd fd(OpenForReadingNoAtime(path.c_str(), O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return ErrnoStatus("opening " + path.string(), errno);
  return fd;
}

Result<uint64_t> RegularFileSize(const UniqueFd& fd, const fs::path& path) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("reading " + path.string(), errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path.string() + " is not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

// pread(2) retried after signals: the bytes read (0 at the end of the file), or -1 with errno.
ssize_t PreadRetrying(const UniqueFd& fd, char* buf, size_t len, uint64_t offset) {
  ssize_t n;
  do {
    n = ::pread(fd.get(), buf, len, static_cast<off_t>(offset));
  } while (n < 0 && errno == EINTR);
  return n;
}

// Fills `out` from `offset` on; shrinks it to what was read if the file ends first. 0, or the
// errno of a failed read.
int ReadAt(const UniqueFd& fd, uint64_t offset, std::string* out) {
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = PreadRetrying(fd, out->data() + done, out->size() - done, offset + done);
    if (n < 0) return errno;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out->resize(done);
  return 0;
}

// The file from its start to its end, or its first `limit` bytes (at least 1) if it has more.
// `size_hint` (fstat's) is where reading expects the end, not where it stops: a file in /proc
// says 0 bytes and has lines. 0, or the errno of a failed read.
int ReadToEnd(const UniqueFd& fd, uint64_t size_hint, size_t limit, std::string* out) {
  // size_hint + 1: a file of the size fstat gave fills one buffer and the byte past it finds
  // the end.
  out->assign(std::min<uint64_t>(limit, std::max<uint64_t>(size_hint + 1, 4096)), '\0');
  size_t done = 0;
  while (done < limit) {
    if (done == out->size()) out->resize(std::min<uint64_t>(limit, uint64_t{2} * done));
    ssize_t n = PreadRetrying(fd, out->data() + done, out->size() - done, done);
    if (n < 0) return errno;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out->resize(done);
  return 0;
}

}  // namespace

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<std::string> ReadWholeFile(const fs::path& path, size_t max_bytes) {
  auto fd = OpenForReading(path);
  if (!fd) return fd.error();
  auto size = RegularFileSize(*fd, path);
  if (!size) return size.error();
  if (*size > max_bytes) {
    return InvalidArgument(path.string() + " is too large (" + std::to_string(*size) +
                           " bytes; at most " + std::to_string(max_bytes) + ")");
  }
  // One byte past the limit tells a file that grew, or that /proc said was empty, too long.
  size_t limit = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  std::string out;
  if (int err = ReadToEnd(*fd, *size, limit, &out)) return ErrnoStatus("reading " + path.string(), err);
  if (out.size() > max_bytes) {
    return InvalidArgument(path.string() + " is too large (more than " + std::to_string(max_bytes) +
                           " bytes)");
  }
  return out;
}

Result<std::string> ReadFileRange(const fs::path& path, uint64_t offset, size_t length) {
  auto fd = OpenForReading(path);
  if (!fd) return fd.error();
  auto size = RegularFileSize(*fd, path);
  if (!size) return size.error();
  // Checked before allocating: a damaged record must not ask for gigabytes.
  if (offset > *size || length > *size - offset) {
    return Corrupt(path.string() + " is shorter than expected");
  }
  std::string out(length, '\0');
  if (int err = ReadAt(*fd, offset, &out)) return ErrnoStatus("reading " + path.string(), err);
  if (out.size() < length) return Corrupt(path.string() + " is shorter than expected");
  return out;
}

Result<Hash> HashFile(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening " + path.string(), errno);
  std::vector<uint8_t> buf(1 << 20);
  Hasher hasher;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus("reading " + path.string(), err);
    }
    if (n == 0) break;
    hasher.Update({buf.data(), static_cast<size_t>(n)});
  }
  ::close(fd);
  return hasher.Final();
}

}  // namespace outpost
