// Files read whole or by range, and the descriptor type that closes them.
//
// Every module reads small files it did not write (a trust list, an enrolment file) and ranges
// of files it did (a blob's chunk). A read here always has a stated maximum: the caller's limit
// for a whole file, the length asked for a range, so a wrong path to a huge file is a clear
// error, not an allocation that takes the machine down.
//
// Reads go to POSIX directly, not through Env (env.h): Env exists so that tests can inject
// failures into writes; a failed read is a real file a test makes (missing, too long, a folder).
//
// Thread-safety: the functions are thread-safe. A UniqueFd is a value used by one thread at a
// time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"

namespace outpost {

// Owns a file descriptor and closes it when destroyed. Move-only; -1 means it holds none.
//
//   UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
//   if (!fd.valid()) return ErrnoStatus("opening " + path, errno);
//   ::fstat(fd.get(), &st);
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives the descriptor up without closing it (to close it yourself and check the result, or
  // to hand it on); holds none afterwards.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  // Closes the descriptor held, if any, and holds `fd` instead. close(2)'s result is ignored:
  // release() and close it yourself where it matters (a file written).
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// open(2) for reading (O_RDONLY | O_CLOEXEC | `flags`) without updating the file's access time
// (O_NOATIME) when this process owns the file, else as usual (O_NOATIME is refused with EPERM
// for another's file). On a card mounted relatime, the first read of each file after a change,
// and one a day after that, would otherwise write its inode: a learner's first view of a page
// cost the card a 4 KiB block (docs/storage.md, "What a running box writes").
int OpenForReadingNoAtime(const char* path, int flags = 0);

// The whole of the regular file `path`, if it has at most `max_bytes` bytes. kNotFound if there
// is no such file; kInvalidArgument, naming the file, its size and the limit, if it is longer
// ("/d/sync/trust.optl is too large (2000000 bytes; at most 1048576)"), and, naming the file, if
// it is not a regular file (a folder; a FIFO is refused without waiting for a writer). Errors
// of the system are ErrnoStatus("opening PATH" or "reading PATH", errno). The file is read to
// its end, not to the size it had when opened: a file that shrinks while it is read gives what
// was there, and one that grows past the limit, or a file in /proc (which says it is empty),
// is refused as too large ("PATH is too large (more than 1048576 bytes)").
Result<std::string> ReadWholeFile(const std::filesystem::path& path, size_t max_bytes);

// The BLAKE2b-256 of a whole file, read in 1 MiB pieces (any size: nothing is held whole).
Result<Hash> HashFile(const std::filesystem::path& path);

// Exactly `length` bytes of `path` from byte `offset` (pread). kNotFound if there is no such
// file; kCorrupt ("PATH is shorter than expected") if it ends before offset + length: the
// callers read ranges they recorded (a chunk of a blob), so a short file is a damaged one.
// kInvalidArgument if it is not a regular file. Otherwise ErrnoStatus("opening PATH" or
// "reading PATH", errno).
Result<std::string> ReadFileRange(const std::filesystem::path& path, uint64_t offset,
                                  size_t length);

}  // namespace outpost
