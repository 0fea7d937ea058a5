// Drives: which removable drives (USB sticks, SD cards in a USB reader, USB disks) are mounted
// on this box, so that a coordinator's stick can be offered for a bundle without typing a path.
// Used by `outpost bundle drives` and the admin console.
//
// The workload: a coordinator plugs a stick (usually FAT32, sometimes exFAT or ext4) into the
// box and something (udisks, usbmount, systemd-automount, or the coordinator with `mount`)
// mounts it. ListRemovableDrives() reads the mount table, keeps the mounts of block devices
// whose disk is removable or attached over USB, and never the disk the system runs from
// (docs/drives.md says why and how). It reads only the files named in DriveSources, plus
// statvfs(2) on each candidate mount point, so tests point it at a fake tree in a temp folder.
//
// Thread-safety: pure functions of the files they read; safe to call from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/status.h"

namespace outpost {

struct RemovableDrive {
  std::string device;                 // "/dev/sdb1", as the mount table names it
  std::filesystem::path mount_point;  // "/media/usb0", escapes decoded
  std::string filesystem;             // "vfat", "exfat", "ext4", "fuseblk" (NTFS), ...
  bool read_only = false;             // mounted with the "ro" option
  uint64_t total_bytes = 0;           // statvfs: f_blocks * f_frsize
  uint64_t free_bytes = 0;            // statvfs: f_bavail * f_frsize (what a non-root writer gets)
  std::string label;                  // from /dev/disk/by-label, "" if none
  bool fat32 = false;                 // vfat or msdos: no file may reach 4 GiB
};

// Where ListRemovableDrives() looks. The defaults are the real system's; tests change them.
struct DriveSources {
  std::filesystem::path mounts = "/proc/self/mounts";  // this process's mount namespace
  std::filesystem::path sys_block = "/sys/block";      // one entry per whole disk
  std::filesystem::path by_label = "/dev/disk/by-label";
};

// Lists the removable drives that are mounted, in mount-table order, one entry per device (a
// device mounted twice, e.g. by a bind mount, is listed at its first mount point). A mount is
// listed when its source is /dev/<name>, the disk of <name> is in `sys_block`, that disk's
// `removable` file says 1 or its sysfs link goes through a USB device, and the disk holds none
// of the system's mounts (/, /boot and below, /usr, /var, /home). A drive whose statvfs fails
// (unplugged without unmounting, say) is left out. Fails only if the mount table cannot be read.
Result<std::vector<RemovableDrive>> ListRemovableDrives(const DriveSources& sources = {});

// One line for people: "/media/usb0 (vfat, KINGSTON, 7.2 GB free of 7.5 GB)", with
// ", read-only" before the ")" when it is. Sizes in decimal units, as sticks are sold.
std::string DescribeDrive(const RemovableDrive& drive);

// Building blocks, public so tests can check them one by one.

// The whole disk a kernel block device name belongs to: "sdb1" -> "sdb", "mmcblk0p1" ->
// "mmcblk0", "nvme0n1p2" -> "nvme0n1". A whole-disk name maps to itself ("sdb", "mmcblk0",
// "nvme0n1"). From the name alone; ListRemovableDrives() asks sysfs first.
std::string DiskOfBlockDevice(std::string_view name);

// Decodes a field of /proc/mounts, where the kernel writes space, tab, newline and backslash
// as \040, \011, \012 and \134. A backslash not followed by three octal digits is kept as is.
std::string DecodeMountField(std::string_view field);

}  // namespace outpost
