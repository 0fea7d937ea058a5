// An export's volumes on one drive (see volume_series.h).
#include "bundle/volume_series.h"

#include <sys/statvfs.h>

#include <algorithm>

#include "bundle/bundle_records.h"

namespace outpost::sync {

namespace fs = std::filesystem;

namespace {

// Inside an export, kNoSpace means the drive is full: the export stops there, incomplete.
Status DriveFull() { return Status(StatusCode::kNoSpace, "the drive is full"); }

}  // namespace

uint64_t StatvfsFreeBytes(const fs::path& folder) {
  struct statvfs info {};
  if (::statvfs(folder.c_str(), &info) != 0) return UINT64_MAX;  // unknown: the writes will tell
  return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
}

void Carried::Take(Carried* other) {
  chunks.insert(chunks.end(), other->chunks.begin(), other->chunks.end());
  patches.insert(patches.end(), other->patches.begin(), other->patches.end());
  *other = {};
}

VolumeSeries::VolumeSeries(fs::path dir, VolumeHeader header, const Identity& sender, uint64_t limit, Env* env,
                           FreeBytes free_bytes)
    : dir_(std::move(dir)), header_(std::move(header)), sender_(sender), limit_(limit), env_(env),
      free_bytes_(std::move(free_bytes)) {}

Status VolumeSeries::Add(uint8_t type, std::string_view body, Carried carried) {
  uint64_t need = body.size() + VolumeWriter::kFrameOverhead + kEndReserve;
  if (writer_ && records_in_volume_ > 0 && (writer_->bytes_written() + need > budget_ || Room() < need)) {
    OUTPOST_RETURN_IF_ERROR(Close());
  }
  if (!writer_) OUTPOST_RETURN_IF_ERROR(Open(need));
  ++records_in_volume_;
  OUTPOST_RETURN_IF_ERROR(writer_->Add(type, body));
  in_volume_.Take(&carried);
  return Status::Ok();
}

Status VolumeSeries::Close() {
  if (!writer_) return Status::Ok();
  OUTPOST_RETURN_IF_ERROR(writer_->Finish());
  uint64_t size = writer_->bytes_written();
  OUTPOST_RETURN_IF_ERROR(file_->Sync());
  OUTPOST_RETURN_IF_ERROR(file_->Close());
  fs::path final_path = dir_ / VolumeFileName(header_.bundle_id, header_.volume);
  OUTPOST_RETURN_IF_ERROR(env_->Rename(temp_, final_path));
  writer_.reset();
  file_.reset();
  temp_.clear();
  OUTPOST_RETURN_IF_ERROR(env_->SyncDir(dir_));
  // Only now is what it carries on the drive for good.
  volumes_.push_back(final_path);
  bytes_ += size;
  written_.Take(&in_volume_);
  ++header_.volume;
  return closed_ ? closed_() : Status::Ok();
}

Status VolumeSeries::Finish() {
  if (!writer_ && volumes_.empty()) OUTPOST_RETURN_IF_ERROR(Open(kEndReserve));
  return Close();
}

void VolumeSeries::Abandon() {
  writer_.reset();
  if (file_) (void)file_->Close();
  file_.reset();
  if (!temp_.empty()) (void)env_->Remove(temp_);
  temp_.clear();
  in_volume_ = {};
}

uint64_t VolumeSeries::Room() const {
  uint64_t free = free_bytes_(dir_);
  return free > kDriveMargin ? free - kDriveMargin : 0;
}

Status VolumeSeries::Open(uint64_t need) {
  uint64_t room = Room();
  if (room < HeaderBytes(header_.recipients.size()) + need) return DriveFull();
  budget_ = std::min(limit_, room);
  temp_ = dir_ / ("." + VolumeFileName(header_.bundle_id, header_.volume) + ".tmp");
  auto file = env_->NewWritableFile(temp_);
  if (!file) return file.error();
  file_ = std::move(*file);
  auto writer = VolumeWriter::Start(header_, sender_, file_.get());
  if (!writer) return writer.error();
  writer_ = std::move(*writer);
  records_in_volume_ = 0;
  return Status::Ok();
}

}  // namespace outpost::sync
