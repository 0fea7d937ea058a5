#include "outpost/sync/drives.h"

#include <sys/statvfs.h>

#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "outpost/base/file.h"

namespace outpost {

namespace {

namespace fs = std::filesystem;

// One line of /proc/mounts: "/dev/sdb1 /media/usb0 vfat rw,nosuid,... 0 0".
struct MountEntry {
  std::string source;
  std::string mount_point;
  std::string fstype;
  std::string options;
};

std::vector<MountEntry> ParseMounts(const std::string& text) {
  std::vector<MountEntry> mounts;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string source, mount_point, fstype, options;
    if (!(fields >> source >> mount_point >> fstype >> options)) continue;  // malformed
    mounts.push_back({DecodeMountField(source), DecodeMountField(mount_point), fstype, options});
  }
  return mounts;
}

// The mount table: a line per mount, about 100 bytes each, so 100 000 mounts (a host full of
// containers) at this bound; more is not a mount table.
constexpr size_t kMaxMountTableBytes = size_t{16} << 20;
// A sysfs attribute is at most a page.
constexpr size_t kMaxAttributeBytes = 4096;

// A small sysfs attribute, trailing whitespace removed; "" if it cannot be read.
std::string ReadAttribute(const fs::path& path) {
  auto text = ReadWholeFile(path, kMaxAttributeBytes);
  if (!text) return "";
  std::string s = std::move(*text);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool HasOption(const std::string& options, std::string_view wanted) {
  std::istringstream in(options);
  std::string option;
  while (std::getline(in, option, ',')) {
    if (option == wanted) return true;
  }
  return false;
}

// "/dev/sdb1" -> "sdb1". Sources that are not a device node directly under /dev (tmpfs,
// server:/share, /dev/mapper/x, /dev/disk/by-uuid/...) have none.
std::optional<std::string> KernelName(const std::string& source) {
  constexpr std::string_view kDev = "/dev/";
  if (!source.starts_with(kDev)) return std::nullopt;
  std::string name = source.substr(kDev.size());
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return std::nullopt;
  }
  return name;
}

// The disk under `sys_block` that holds the block device `source`, if there is one.
std::optional<std::string> DiskOf(const fs::path& sys_block, const std::string& source) {
  auto name = KernelName(source);
  if (!name) return std::nullopt;
  std::error_code ec;
  if (fs::exists(sys_block / *name, ec)) return name;  // a whole disk, e.g. a superfloppy stick
  std::string disk = DiskOfBlockDevice(*name);
  if (!fs::exists(sys_block / disk, ec)) return std::nullopt;
  return disk;
}

// Mount points that belong to the running system. The disk behind any of them is never listed,
// whatever its `removable` flag says (a Pi may boot from a USB SSD).
bool IsSystemMountPoint(const std::string& mount_point) {
  for (std::string_view exact : {"/", "/usr", "/var", "/home"}) {
    if (mount_point == exact) return true;
  }
  return mount_point == "/boot" || mount_point.starts_with("/boot/");
}

std::set<std::string> SystemDisks(const DriveSources& sources,
                                  const std::vector<MountEntry>& mounts) {
  std::set<std::string> disks;
  for (const MountEntry& m : mounts) {
    if (!IsSystemMountPoint(m.mount_point)) continue;
    if (auto disk = DiskOf(sources.sys_block, m.source)) disks.insert(*disk);
  }
  return disks;
}

// Removable by the kernel's flag, or attached over USB: many sticks and card readers say
// removable=0, but their /sys/block link goes through ".../usb2/2-1/...".
bool IsRemovableDisk(const fs::path& sys_block, const std::string& disk) {
  if (ReadAttribute(sys_block / disk / "removable") == "1") return true;
  std::error_code ec;
  fs::path target = fs::read_symlink(sys_block / disk, ec);
  return !ec && target.string().find("/usb") != std::string::npos;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// udev writes unsafe bytes of a label as \xNN: "MY\x20STICK" -> "MY STICK".
std::string DecodeUdevName(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name.substr(i, 2) == "\\x" && i + 3 < name.size() && HexDigit(name[i + 2]) >= 0 &&
        HexDigit(name[i + 3]) >= 0) {
      out += static_cast<char>(HexDigit(name[i + 2]) * 16 + HexDigit(name[i + 3]));
      i += 3;
    } else {
      out += name[i];
    }
  }
  return out;
}

// Kernel device name -> label, from links like by-label/KINGSTON -> ../../sdb1.
std::map<std::string, std::string> LabelsByDevice(const fs::path& by_label) {
  std::map<std::string, std::string> labels;
  std::error_code ec;
  for (fs::directory_iterator it(by_label, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code link_ec;
    fs::path target = fs::read_symlink(it->path(), link_ec);
    if (link_ec) continue;
    labels.emplace(target.filename().string(), DecodeUdevName(it->path().filename().string()));
  }
  return labels;
}

bool FillSizes(RemovableDrive& drive) {
  struct statvfs st;
  if (::statvfs(drive.mount_point.c_str(), &st) != 0) return false;
  drive.total_bytes = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  drive.free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  return true;
}

std::optional<RemovableDrive> DriveFor(const MountEntry& m, const std::string& name,
                                       const std::map<std::string, std::string>& labels) {
  RemovableDrive drive;
  drive.device = m.source;
  drive.mount_point = m.mount_point;
  drive.filesystem = m.fstype;
  drive.read_only = HasOption(m.options, "ro");
  drive.fat32 = m.fstype == "vfat" || m.fstype == "msdos";
  if (auto it = labels.find(name); it != labels.end()) drive.label = it->second;
  if (!FillSizes(drive)) return std::nullopt;
  return drive;
}

std::string FormatSize(uint64_t bytes) {
  char buf[32];
  double b = static_cast<double>(bytes);
  if (bytes >= 1000000000) {
    std::snprintf(buf, sizeof buf, "%.1f GB", b / 1e9);
  } else if (bytes >= 1000000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  } else if (bytes >= 1000) {
    std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

}  // namespace

std::string DecodeMountField(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && IsOctal(field[i + 1]) &&
        IsOctal(field[i + 2]) && IsOctal(field[i + 3])) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::string DiskOfBlockDevice(std::string_view name) {
  size_t last_letter = name.find_last_not_of("0123456789");
  if (last_letter == std::string_view::npos || last_letter + 1 == name.size()) {
    return std::string(name);  // no partition number: sdb
  }
  std::string_view stem = name.substr(0, last_letter + 1);  // "sdb", "mmcblk0p", "mmcblk"
  // Disks whose names end in a digit number their partitions with a "p": mmcblk0p1 -> mmcblk0.
  bool digit_p = stem.size() >= 2 && stem.back() == 'p' &&
                 std::isdigit(static_cast<unsigned char>(stem[stem.size() - 2]));
  if (digit_p) return std::string(stem.substr(0, stem.size() - 1));
  // Otherwise their own name ends in a digit: mmcblk0 and nvme0n1 are whole disks.
  for (std::string_view family :
       {"mmcblk", "nvme", "loop", "md", "nbd", "zram", "mtdblock", "dm-", "sr"}) {
    if (name.starts_with(family)) return std::string(name);
  }
  return std::string(stem);  // sdb1 -> sdb, vda2 -> vda
}

Result<std::vector<RemovableDrive>> ListRemovableDrives(const DriveSources& sources) {
  auto text = ReadWholeFile(sources.mounts, kMaxMountTableBytes);
  if (!text) return text.error().WithContext("listing removable drives");
  std::vector<MountEntry> mounts = ParseMounts(*text);
  std::set<std::string> system_disks = SystemDisks(sources, mounts);
  std::map<std::string, std::string> labels = LabelsByDevice(sources.by_label);
  std::set<std::string> listed;  // kernel names; a bind mount repeats its source
  std::vector<RemovableDrive> drives;
  for (const MountEntry& m : mounts) {
    auto disk = DiskOf(sources.sys_block, m.source);
    if (!disk || system_disks.count(*disk)) continue;
    std::string name = *KernelName(m.source);
    if (listed.count(name) || !IsRemovableDisk(sources.sys_block, *disk)) continue;
    if (auto drive = DriveFor(m, name, labels)) {
      drives.push_back(std::move(*drive));
      listed.insert(name);
    }
  }
  return drives;
}

std::string DescribeDrive(const RemovableDrive& drive) {
  std::string out = drive.mount_point.string() + " (" + drive.filesystem;
  if (!drive.label.empty()) out += ", " + drive.label;
  out += ", " + FormatSize(drive.free_bytes) + " free of " + FormatSize(drive.total_bytes);
  if (drive.read_only) out += ", read-only";
  return out + ")";
}

}  // namespace outpost
