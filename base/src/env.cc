#include "outpost/base/env.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string_view>

namespace outpost {

namespace {

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override { (void)Close(); }

  Status Append(std::span<const uint8_t> data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("writing " + path_.string(), errno);
      }
      data = data.subspan(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoStatus("syncing " + path_.string(), errno);
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return ErrnoStatus("closing " + path_.string(), errno);
    return Status::Ok();
  }

 private:
  int fd_;
  std::filesystem::path path_;
};

class PosixEnv : public Env {
 public:
  PosixEnv() {
    if (const char* v = std::getenv("OUTPOST_CRASH_AT")) crash_at_ = std::atol(v);
  }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::filesystem::path& path,
                                                        bool private_file) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                    private_file ? 0600 : 0644);
    if (fd < 0) return ErrnoStatus("creating " + path.string(), errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
  }

  Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("renaming " + from.string() + " to " + to.string(), errno);
    }
    return Status::Ok();
  }

  Status SyncDir(const std::filesystem::path& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("opening folder " + dir.string(), errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("syncing folder " + dir.string(), err);
    return Status::Ok();
  }

  Status SyncFile(const std::filesystem::path& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("opening " + path.string(), errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("syncing " + path.string(), err);
    return Status::Ok();
  }

  Status SyncFilesystem(const std::filesystem::path& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("opening " + path.string(), errno);
    int rc = ::syncfs(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("syncing the file system of " + path.string(), err);
    return Status::Ok();
  }

  Status CreateDirs(const std::filesystem::path& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return ErrnoStatus("creating folder " + dir.string(), ec.value());
    return Status::Ok();
  }

  Status Remove(const std::filesystem::path& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus("removing " + path.string(), errno);
    }
    return Status::Ok();
  }

  void CrashPoint(const char*) override {
    if (crash_at_ <= 0) return;
    if (++crash_count_ == crash_at_) ::kill(::getpid(), SIGKILL);
  }

 private:
  long crash_at_ = 0;
  std::atomic<long> crash_count_{0};
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

Status WriteFileAtomically(Env* env, const std::filesystem::path& path, std::string_view data,
                           bool private_file) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  auto file = env->NewWritableFile(tmp, private_file);
  if (!file) return file.error();
  Status st = (*file)->Append({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  if (st.ok()) st = (*file)->Sync();
  if (st.ok()) st = (*file)->Close();
  if (st.ok()) st = env->Rename(tmp, path);
  if (!st.ok()) {
    (void)env->Remove(tmp);
    return st;
  }
  return env->SyncDir(path.parent_path().empty() ? "." : path.parent_path());
}

}  // namespace outpost
