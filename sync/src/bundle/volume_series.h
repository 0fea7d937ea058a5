// Private to sync/: the volumes of one export on one drive. Records go into volumes of at most
// a size limit, and no larger than the drive's room when each is opened; each volume is written
// to a temp name, fsynced and renamed, so that a drive pulled out at any moment holds whole
// volumes and at most one temp file, and a drive found full ends the series with whole volumes.
//
// Room on the drive is asked for before each volume and each record, less a margin the file
// system spends on its own: FAT32 rounds a file up to a cluster of up to 64 KiB, and folder
// entries and a journal take a little more.
//
// Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "bundle/bundle_volume.h"
#include "outpost/base/env.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/sync/identity.h"

namespace outpost::sync {

inline constexpr uint64_t kDriveMargin = 1 << 20;

// Bytes free on the drive that holds a folder.
using FreeBytes = std::function<uint64_t(const std::filesystem::path& folder)>;
// statvfs's f_bavail * f_frsize; UINT64_MAX if statvfs fails (unknown: the writes will tell).
uint64_t StatvfsFreeBytes(const std::filesystem::path& folder);

// What records carry of the bundle's pieces, so that the export knows what closed volumes hold.
struct Carried {
  std::vector<Hash> chunks;
  std::vector<std::pair<Hash, Hash>> patches;  // (file, previous)
  void Take(Carried* other);                   // appends other's, and empties it
};

class VolumeSeries {
 public:
  // `header` is the first volume's; each next volume takes the next number.
  VolumeSeries(std::filesystem::path dir, VolumeHeader header, const Identity& sender, uint64_t limit,
               Env* env, FreeBytes free_bytes);
  ~VolumeSeries() { Abandon(); }

  // Adds a record to the open volume, or to a new one. kNoSpace when the drive has no room for
  // it (the open volume is closed first, whole) or a write found the drive full.
  Status Add(uint8_t type, std::string_view body, Carried carried = {});
  // Ends the open volume (if any): its final frame, fsync, rename, fsync the folder; then calls
  // the OnClose callback.
  Status Close();
  // Called after each volume is closed and renamed.
  void OnClose(std::function<Status()> closed) { closed_ = std::move(closed); }
  // Every volume is closed; at least one is written.
  Status Finish();
  // Removes the volume being written, if any: cut short, it would import as damaged.
  void Abandon();

  const std::vector<std::filesystem::path>& volumes() const { return volumes_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t bytes_so_far() const { return bytes_ + (writer_ ? writer_->bytes_written() : 0); }
  uint32_t next_volume() const { return header_.volume; }
  const Carried& written() const { return written_; }  // in closed volumes

  // A volume's header, for `recipients` (docs/bundle.md, "Costs"); and room for its end.
  static uint64_t HeaderBytes(size_t recipients) { return 68 + 112 * recipients + 24 + 64; }
  static constexpr uint64_t kEndReserve = 256;

 private:
  uint64_t Room() const;
  Status Open(uint64_t need);

  std::filesystem::path dir_;
  VolumeHeader header_;
  const Identity& sender_;
  uint64_t limit_;
  Env* env_;
  FreeBytes free_bytes_;
  uint64_t budget_ = 0;  // the open volume's size limit
  std::filesystem::path temp_;
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<VolumeWriter> writer_;
  uint64_t records_in_volume_ = 0;
  uint64_t bytes_ = 0;
  std::vector<std::filesystem::path> volumes_;
  Carried in_volume_, written_;
  std::function<Status()> closed_;
};

}  // namespace outpost::sync
