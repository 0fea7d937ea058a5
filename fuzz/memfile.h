// Files in memory for the targets whose parser reads a path: a memfd, named by
// /proc/self/fd/N, so no run touches the disk or leaves anything behind.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "outpost/base/env.h"

namespace outpost::fuzz {

class MemFile {
 public:
  explicit MemFile(std::string_view bytes) : fd_(::memfd_create("fuzz", MFD_CLOEXEC)) {
    FUZZ_CHECK(fd_ >= 0);
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      FUZZ_CHECK(n > 0);
      done += static_cast<size_t>(n);
    }
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

// A WritableFile that keeps what is appended.
class StringFile : public WritableFile {
 public:
  Status Append(std::span<const uint8_t> data) override {
    bytes.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::Ok();
  }
  Status Sync() override { return Status::Ok(); }
  Status Close() override { return Status::Ok(); }
  std::string bytes;
};

}  // namespace outpost::fuzz
