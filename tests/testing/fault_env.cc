#include "testing/fault_env.h"

#include <cerrno>

namespace outpost::testing {

namespace {

class FaultFile : public WritableFile {
 public:
  FaultFile(FaultEnv* env, std::unique_ptr<WritableFile> base, std::string name)
      : env_(env), base_(std::move(base)), name_(std::move(name)) {}
  Status Append(std::span<const uint8_t> data) override {
    OUTPOST_RETURN_IF_ERROR(env_->Check(FaultEnv::Fault::kNoSpace, "writing " + name_));
    return base_->Append(data);
  }
  Status Sync() override {
    OUTPOST_RETURN_IF_ERROR(env_->Check(FaultEnv::Fault::kSyncFails, "syncing " + name_));
    return base_->Sync();
  }
  Status Close() override { return base_->Close(); }

 private:
  FaultEnv* env_;
  std::unique_ptr<WritableFile> base_;
  std::string name_;
};

}  // namespace

Status FaultEnv::Check(Fault kind, const std::string& what) {
  ++operations_;
  if (fault_ == Fault::kNone || countdown_ < 0) return Status::Ok();
  if (countdown_ > 0) {
    --countdown_;
    return Status::Ok();
  }
  if (kind != fault_ && !(fault_ == Fault::kNoSpace && kind == Fault::kRenameFails)) {
    return Status::Ok();
  }
  fired_ = true;
  return ErrnoStatus(what, fault_ == Fault::kNoSpace ? ENOSPC : EIO);
}

Result<std::unique_ptr<WritableFile>> FaultEnv::NewWritableFile(const std::filesystem::path& path,
                                                                bool private_file) {
  OUTPOST_RETURN_IF_ERROR(Check(Fault::kNoSpace, "creating " + path.string()));
  auto base = base_->NewWritableFile(path, private_file);
  if (!base) return base.error();
  return std::unique_ptr<WritableFile>(new FaultFile(this, std::move(*base), path.string()));
}

Status FaultEnv::Rename(const std::filesystem::path& from, const std::filesystem::path& to) {
  OUTPOST_RETURN_IF_ERROR(Check(Fault::kRenameFails, "renaming " + from.string()));
  return base_->Rename(from, to);
}

Status FaultEnv::SyncDir(const std::filesystem::path& dir) {
  OUTPOST_RETURN_IF_ERROR(Check(Fault::kSyncFails, "syncing folder " + dir.string()));
  return base_->SyncDir(dir);
}

Status FaultEnv::SyncFile(const std::filesystem::path& path) {
  OUTPOST_RETURN_IF_ERROR(Check(Fault::kSyncFails, "syncing " + path.string()));
  return base_->SyncFile(path);
}

Status FaultEnv::SyncFilesystem(const std::filesystem::path& path) {
  OUTPOST_RETURN_IF_ERROR(Check(Fault::kSyncFails, "syncing the file system of " + path.string()));
  return base_->SyncFilesystem(path);
}

Status FaultEnv::CreateDirs(const std::filesystem::path& dir) {
  OUTPOST_RETURN_IF_ERROR(Check(Fault::kNoSpace, "creating folder " + dir.string()));
  return base_->CreateDirs(dir);
}

}  // namespace outpost::testing
