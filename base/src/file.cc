#include "outpost/base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace outpost {

namespace fs = std::filesystem;

namespace {

// O_NONBLOCK: a FIFO in a file's place is refused (not a regular file), not waited on.
Result<UniqueFd> OpenForReading(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return ErrnoStatus("opening " + path.string(), errno);
  return fd;
}

Result<uint64_t> RegularFileSize(const UniqueFd& fd, const fs::path& path) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("reading " + path.string(), errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path.string() + " is not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

// Fills `out` from `offset` on (pread, retried after signals); shrinks it to what was read if
// the file ends first. 0, or the errno of a failed read.
int ReadAt(const UniqueFd& fd, uint64_t offset, std::string* out) {
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = ::pread(fd.get(), out->data() + done, out->size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
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
  std::string out(static_cast<size_t>(*size), '\0');
  if (int err = ReadAt(*fd, 0, &out)) return ErrnoStatus("reading " + path.string(), err);
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

}  // namespace outpost
