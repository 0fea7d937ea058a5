#include "outpost/sync/drives.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

// Where sysfs puts a Raspberry Pi 4's devices: the SD card, and a disk behind its USB hub.
constexpr const char* kSdCardPath = "platform/emmc2bus/fe340000.mmc/mmc_host/mmc0/mmc0:0001";
constexpr const char* kUsbPath =
    "platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/usb2/2-2/2-2:1.0/host0/"
    "target0:0:0/0:0:0:0";
constexpr const char* kSataPath = "pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0";

// A fake /proc/self/mounts, /sys/block and /dev/disk/by-label in a temp folder. Mount points of
// drives that should be listed are real folders in it, so that statvfs works on them.
class FakeSystem {
 public:
  FakeSystem() {
    sources_.mounts = dir_.path() / "proc/self/mounts";
    sources_.sys_block = dir_.path() / "sys/block";
    sources_.by_label = dir_.path() / "dev/disk/by-label";
    fs::create_directories(sources_.sys_block);
    fs::create_directories(sources_.by_label);
  }

  // sys/block/<name> -> ../devices/<device_path>/block/<name>, as the kernel links it.
  void AddDisk(const std::string& name, const std::string& removable,
               const std::string& device_path) {
    std::string target = "devices/" + device_path + "/block/" + name;
    dir_.Write("sys/" + target + "/removable", removable + "\n");
    fs::create_directory_symlink("../" + target, sources_.sys_block / name);
  }
  // by-label/<link_name> -> ../../<device>, as udev links it.
  void AddLabel(const std::string& link_name, const std::string& device) {
    fs::create_symlink("../../" + device, sources_.by_label / link_name);
  }
  // A real folder to mount on.
  fs::path Folder(const std::string& name) {
    fs::path p = dir_.path() / "media" / name;
    fs::create_directories(p);
    return p;
  }
  // Appends a mount-table line, escaping the mount point as the kernel does.
  void Mount(const std::string& source, const fs::path& mount_point, const std::string& fstype,
             const std::string& options = "rw,nosuid,nodev,relatime") {
    std::string escaped;
    for (char c : mount_point.string())
      escaped += c == ' ' ? std::string("\\040") : std::string(1, c);
    mounts_ += source + " " + escaped + " " + fstype + " " + options + " 0 0\n";
    dir_.Write("proc/self/mounts", mounts_);
  }
  // The lines a Raspberry Pi OS box always has: the SD card at / and /boot/firmware, and the
  // pseudo file systems.
  void AddPiSystem(const std::string& removable = "0") {
    AddDisk("mmcblk0", removable, kSdCardPath);
    Mount("/dev/mmcblk0p2", "/", "ext4", "rw,noatime");
    Mount("proc", "/proc", "proc", "rw,nosuid,nodev,noexec,relatime");
    Mount("tmpfs", "/run", "tmpfs", "rw,nosuid,nodev,size=380000k");
    Mount("/dev/mmcblk0p1", "/boot/firmware", "vfat", "rw,relatime,fmask=0022");
  }

  std::vector<RemovableDrive> List() const {
    auto drives = ListRemovableDrives(sources_);
    EXPECT_TRUE(drives.has_value()) << drives.error().ToString();
    return drives.has_value() ? *drives : std::vector<RemovableDrive>{};
  }
  const DriveSources& sources() const { return sources_; }

 private:
  testing::TempDir dir_;
  DriveSources sources_;
  std::string mounts_;
};

TEST(DrivesTest, RemovableVfatStickIsListedWithItsLabel) {
  FakeSystem sys;
  sys.AddPiSystem();
  sys.AddDisk("sda", "1", kUsbPath);
  sys.AddLabel("KINGSTON", "sda1");
  sys.AddLabel("bootfs", "mmcblk0p1");
  fs::path usb0 = sys.Folder("usb0");
  sys.Mount("/dev/sda1", usb0, "vfat", "rw,nosuid,nodev,relatime,uid=1000,shortname=mixed");
  auto drives = sys.List();
  ASSERT_EQ(drives.size(), 1u);
  EXPECT_EQ(drives[0].device, "/dev/sda1");
  EXPECT_EQ(drives[0].mount_point, usb0);
  EXPECT_EQ(drives[0].filesystem, "vfat");
  EXPECT_EQ(drives[0].label, "KINGSTON");
  EXPECT_TRUE(drives[0].fat32);
  EXPECT_FALSE(drives[0].read_only);
  EXPECT_GT(drives[0].total_bytes, 0u);
  EXPECT_LE(drives[0].free_bytes, drives[0].total_bytes);
}

TEST(DrivesTest, UsbDiskThatSaysItIsNotRemovableIsListed) {
  FakeSystem sys;
  sys.AddPiSystem();
  sys.AddDisk("sda", "0", kUsbPath);
  sys.AddLabel("MY\\x20FILES", "sda1");  // udev escapes the space in "MY FILES"
  fs::path disk = sys.Folder("disk");
  sys.Mount("/dev/sda1", disk, "ext4", "ro,relatime");
  auto drives = sys.List();
  ASSERT_EQ(drives.size(), 1u);
  EXPECT_EQ(drives[0].mount_point, disk);
  EXPECT_EQ(drives[0].label, "MY FILES");
  EXPECT_FALSE(drives[0].fat32);
  EXPECT_TRUE(drives[0].read_only);
}

TEST(DrivesTest, InternalDiskThatSaysItIsNotRemovableIsNotListed) {
  FakeSystem sys;
  sys.AddDisk("sda", "0", kSataPath);
  sys.Mount("/dev/sda1", sys.Folder("data"), "ext4");
  EXPECT_TRUE(sys.List().empty());
}

TEST(DrivesTest, PiSystemCardIsNeverListed) {
  for (const char* removable : {"0", "1"}) {
    SCOPED_TRACE(removable);
    FakeSystem sys;
    sys.AddPiSystem(removable);
    // Even a third partition of the system card, mounted where sticks go, is not offered.
    sys.Mount("/dev/mmcblk0p3", sys.Folder("spare"), "ext4");
    EXPECT_TRUE(sys.List().empty());
  }
}

TEST(DrivesTest, UsbDiskTheSystemBootsFromIsNeverListed) {
  FakeSystem sys;
  sys.AddDisk("sda", "0", kUsbPath);  // a Pi 4 booting from a USB SSD
  sys.Mount("/dev/sda2", "/", "ext4", "rw,noatime");
  sys.Mount("/dev/sda1", "/boot/firmware", "vfat");
  sys.Mount("/dev/sda3", sys.Folder("ssd-data"), "ext4");
  sys.AddDisk("sdb", "1", kUsbPath);
  fs::path stick = sys.Folder("stick");
  sys.Mount("/dev/sdb1", stick, "exfat");
  auto drives = sys.List();
  ASSERT_EQ(drives.size(), 1u);
  EXPECT_EQ(drives[0].device, "/dev/sdb1");
  EXPECT_EQ(drives[0].mount_point, stick);
  EXPECT_FALSE(drives[0].fat32);
}

TEST(DrivesTest, BindMountIsListedOnceAtItsFirstMountPoint) {
  FakeSystem sys;
  sys.AddPiSystem();
  sys.AddDisk("sda", "1", kUsbPath);
  fs::path first = sys.Folder("usb0");
  sys.Mount("/dev/sda1", first, "vfat");
  sys.Mount("/dev/sda1", sys.Folder("bound"), "vfat");
  auto drives = sys.List();
  ASSERT_EQ(drives.size(), 1u);
  EXPECT_EQ(drives[0].mount_point, first);
}

TEST(DrivesTest, EscapedMountPointIsDecoded) {
  FakeSystem sys;
  sys.AddDisk("sdb", "1", kUsbPath);
  fs::path spaced = sys.Folder("MY STICK");
  sys.Mount("/dev/sdb1", spaced, "vfat");
  auto drives = sys.List();
  ASSERT_EQ(drives.size(), 1u);
  EXPECT_EQ(drives[0].mount_point, spaced);

  EXPECT_EQ(DecodeMountField("/media/MY\\040STICK"), "/media/MY STICK");
  EXPECT_EQ(DecodeMountField("a\\011b\\012c\\134d"), "a\tb\nc\\d");
  EXPECT_EQ(DecodeMountField("trailing\\04"), "trailing\\04");  // not three octal digits
  EXPECT_EQ(DecodeMountField("\\089"), "\\089");
}

TEST(DrivesTest, WholeDiskMountIsListed) {
  FakeSystem sys;
  sys.AddDisk("sdc", "1", kUsbPath);  // a "superfloppy" stick with no partition table
  sys.AddLabel("CAMERA", "sdc");
  sys.Mount("/dev/sdc", sys.Folder("camera"), "vfat");
  auto drives = sys.List();
  ASSERT_EQ(drives.size(), 1u);
  EXPECT_EQ(drives[0].device, "/dev/sdc");
  EXPECT_EQ(drives[0].label, "CAMERA");
}

TEST(DrivesTest, PartitionNamesMapToTheirDisk) {
  const std::pair<const char*, const char*> cases[] = {
      {"sdb1", "sdb"},           {"sdb", "sdb"},           {"sdaa12", "sdaa"},
      {"vda2", "vda"},           {"mmcblk0p1", "mmcblk0"}, {"mmcblk0", "mmcblk0"},
      {"mmcblk1p12", "mmcblk1"}, {"nvme0n1p2", "nvme0n1"}, {"nvme0n1", "nvme0n1"},
      {"loop0p1", "loop0"},      {"md127", "md127"},       {"dm-0", "dm-0"},
  };
  for (const auto& [partition, disk] : cases) {
    EXPECT_EQ(DiskOfBlockDevice(partition), disk) << partition;
  }
}

TEST(DrivesTest, MountPointThatCannotBeStatIsSkipped) {
  FakeSystem sys;
  sys.AddDisk("sda", "1", kUsbPath);
  sys.AddDisk("sdb", "1", kUsbPath);
  sys.Mount("/dev/sda1", sys.Folder("gone") / "nonexistent", "vfat");  // pulled out, say
  fs::path ok = sys.Folder("ok");
  sys.Mount("/dev/sdb1", ok, "vfat");
  auto drives = sys.List();
  ASSERT_EQ(drives.size(), 1u);
  EXPECT_EQ(drives[0].mount_point, ok);
}

TEST(DrivesTest, SourcesThatAreNotBlockDevicesAreIgnored) {
  FakeSystem sys;
  sys.AddDisk("sda", "1", kUsbPath);
  sys.Mount("tmpfs", sys.Folder("tmp"), "tmpfs");
  sys.Mount("server:/share", sys.Folder("nfs"), "nfs4");
  sys.Mount("/dev/mapper/sda1_crypt", sys.Folder("crypt"), "ext4");
  sys.Mount("/dev/root", sys.Folder("root"), "ext4");
  sys.Mount("/dev/sdz1", sys.Folder("unknown"), "vfat");  // no such disk in /sys/block
  EXPECT_TRUE(sys.List().empty());
}

TEST(DrivesTest, UnreadableMountTableIsAnError) {
  DriveSources sources;
  testing::TempDir dir;
  sources.mounts = dir.path() / "no-such-mounts";
  auto drives = ListRemovableDrives(sources);
  ASSERT_FALSE(drives.has_value());
  EXPECT_EQ(drives.error().code(), StatusCode::kNotFound);
}

TEST(DrivesTest, MissingSysfsAndLabelsListNothing) {
  FakeSystem sys;
  sys.Mount("/dev/sda1", sys.Folder("usb0"), "vfat");
  DriveSources sources = sys.sources();
  sources.sys_block = "/nonexistent/sys/block";
  sources.by_label = "/nonexistent/by-label";
  auto drives = ListRemovableDrives(sources);
  ASSERT_TRUE(drives.has_value());
  EXPECT_TRUE(drives->empty());
}

TEST(DrivesTest, ThisMachineCanBeListed) {
  auto drives = ListRemovableDrives();
  ASSERT_TRUE(drives.has_value()) << drives.error().ToString();
  for (const RemovableDrive& d : *drives) {
    EXPECT_NE(d.mount_point, "/");
    EXPECT_LE(d.free_bytes, d.total_bytes);
  }
}

TEST(DrivesTest, DescriptionsReadAsOneLine) {
  RemovableDrive d;
  d.device = "/dev/sda1";
  d.mount_point = "/media/usb0";
  d.filesystem = "vfat";
  d.label = "KINGSTON";
  d.total_bytes = 7'500'000'000;
  d.free_bytes = 7'200'000'000;
  EXPECT_EQ(DescribeDrive(d), "/media/usb0 (vfat, KINGSTON, 7.2 GB free of 7.5 GB)");
  d.label.clear();
  d.read_only = true;
  d.free_bytes = 512'000'000;
  EXPECT_EQ(DescribeDrive(d), "/media/usb0 (vfat, 512.0 MB free of 7.5 GB, read-only)");
  d.free_bytes = 0;
  d.total_bytes = 1'440'000;
  EXPECT_EQ(DescribeDrive(d), "/media/usb0 (vfat, 0 bytes free of 1.4 MB, read-only)");
}

}  // namespace
}  // namespace outpost
