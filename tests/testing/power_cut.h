// PowerCut: a file layer that models what a power cut does to a data folder, for tests.
//
// kill -9 loses nothing the kernel holds; a power cut loses every write that was not made
// durable. This layer wraps the real file system (an Env for the code that writes through one,
// and an sqlite3_vfs over the default "unix" VFS, registered as the default while the PowerCut
// lives, for every SQLite database) and remembers, for files under `root`, what was written
// since each file's last fsync, and the names (creations, renames, removals, new folders) that
// no fsync of their folder has made durable. CutAt(N) makes the Nth operation under `root` and
// every later one fail (EIO, SQLITE_IOERR): the machine is off. DropUnsynced() then throws away
// everything not durable, the worst a power cut can do:
//
//   - each file's bytes go back to what they were at its last fsync (fdatasync, SyncFile,
//     SQLite's xSync) or at the start: overwritten bytes restored, the size reset;
//   - names go back, newest first: a rename is undone (and the file it replaced is back), a
//     removed file is back, a created file or folder is gone, unless an fsync of the folder
//     (SyncDir, or SQLite's directory sync) came after it. A rename is durable once the folder
//     it renamed into is synced; until the folder it left is synced too, the old name may
//     still be there as well (and is, here). syncfs (SyncFilesystem) makes everything durable.
//
// The model is strict where POSIX is and ext4 is kind: on ext4 an fsync of a new file usually
// commits its name too; here only an fsync of its folder does. Two allowances, both for what
// SQLite does: at the first xSync of a file SQLite created, its folder counts as synced (SQLite
// syncs the folder of a new journal or write-ahead log then; a new database file is created by Outpost's
// own code before SQLite opens it), and SQLite's -shm files are not modelled (SQLite rebuilds
// them after a crash). Writes that bypass both layers (raw POSIX, Env::Default()) are not
// modelled: they are kept as written. Operations outside `root` pass through uncounted.
//
// The layer does not fsync the real disk for tracked files (its model decides what survives),
// so that a test can cut the power at hundreds of steps in seconds.
//
// Thread-safety: every method and every operation through env() is thread-safe. Call
// DropUnsynced() once every user of the files has finished and closed them.
#pragma once

#include <sqlite3.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/env.h"
#include "outpost/content/catalog.h"

namespace outpost::testing {

class PowerCut {
 public:
  // At most one PowerCut at a time (its VFS is the process's default while it lives;
  // connections opened through it may outlive it, and then only pass their calls on).
  explicit PowerCut(std::filesystem::path root, Env* base = Env::Default());
  ~PowerCut();
  PowerCut(const PowerCut&) = delete;
  PowerCut& operator=(const PowerCut&) = delete;

  // The Env to hand to the code under test (a BlobStore, an export).
  Env* env() { return env_.get(); }

  // The power fails at operation `step` (0: the first), counted from the last Reset(); -1
  // (the default): never.
  void CutAt(long step);
  // Operations under `root` so far (a run with no cut tells how many steps an operation has).
  long steps() const { return steps_; }
  bool cut() const { return cut_; }

  // Throws away what was not durable (see above), then forgets everything it tracked: the
  // folder is as it would be found on boot, and the layer is ready for the next run. With
  // `seed` 0, every write and name not made durable is lost (the worst case for durability).
  // With another seed, the disk got some of them down before the power went, as disks and
  // flash controllers do, in any order: each write not synced is kept or lost at random, and
  // the names not synced are kept up to a random point of their order (a journalling file
  // system commits names in order). This is what catches a rename whose file was not synced
  // first, or a database that does not sync before it moves on.
  Status DropUnsynced(uint64_t seed = 0);
  // Forgets what was tracked, as after a clean shutdown (everything becomes durable).
  void Reset();

  // ---- for the Env and the VFS of power_cut.cc (not for tests) ----
  bool Tracked(const std::filesystem::path& path) const;
  // Counts one operation under `root`; kIoError once the power is off.
  Status Step(const std::string& what);
  // A file's content is about to change: `data` written at `offset` (-1: at its end), or the
  // file cut to `size`. Keeps the old bytes and the new. `fd` reads the file.
  void BeforeWrite(int fd, int64_t offset, std::string_view data);
  void BeforeTruncate(int fd, uint64_t size);
  void Synced(int fd);  // the file's data and size are durable
  void SyncedPath(const std::filesystem::path& path);
  // `path` was just created (a file, or a folder): not durable until its folder is synced.
  void Created(const std::filesystem::path& path, bool is_dir, bool sqlite = false);
  // Renames and removes, keeping what is replaced or removed under a hard link, so that it can
  // come back.
  Status Rename(Env* base, const std::filesystem::path& from, const std::filesystem::path& to);
  Status Remove(Env* base, const std::filesystem::path& path, bool durable = false);
  void DirSynced(const std::filesystem::path& dir);
  void EverythingSynced();
  // SQLite synced a file: if SQLite created it, its name is durable now.
  void SqliteSynced(const std::filesystem::path& path);

 private:
  struct Undo {
    uint64_t offset;
    bool truncation;        // to `offset`
    std::string old_bytes;  // what was there (shorter than new_bytes past the old end)
    std::string new_bytes;  // what was written
  };
  struct FileState {  // by inode: renames move the data
    std::filesystem::path path;
    uint64_t durable_size = 0;
    std::vector<Undo> undo;
  };
  enum class NameOp { kCreate, kMkdir, kRename, kRemove };
  struct Name {
    NameOp op;
    std::filesystem::path path;    // created, removed, or renamed to
    std::filesystem::path from;    // kRename: the old name
    std::filesystem::path backup;  // what was replaced or removed, kept under this name
    bool durable = false;
    bool from_synced = false;  // kRename across folders: both must be synced
    bool to_synced = false;
    bool sqlite = false;  // a kCreate by SQLite: durable at the file's first sync
  };
  void DirSyncedLocked(const std::filesystem::path& dir);
  FileState* StateOf(int fd);  // under mu_; nullptr if fd is not a file
  void MoveTracked(const std::filesystem::path& from, const std::filesystem::path& to);
  std::filesystem::path NextBackup();  // under mu_
  Status RestoreData(uint64_t seed);
  static Status RestoreFile(const FileState& f, uint64_t* rng);
  static Status UndoName(const Name& n);
  void RegisterVfs();

  std::filesystem::path root_;
  std::filesystem::path backups_dir_;
  std::unique_ptr<Env> env_;
  std::atomic<long> steps_{0};
  std::atomic<long> cut_at_{-1};
  std::atomic<bool> cut_{false};
  std::mutex mu_;
  std::map<std::pair<dev_t, ino_t>, FileState> files_;
  std::vector<Name> names_;
  long backups_ = 0;
};

// The steps to cut the power at, for an operation of `total` steps: every one, and `total`
// itself (the power goes just after the operation returned), if they are at most `at_most`;
// else a stride over them plus random ones drawn from `seed`, the first and the last included.
std::vector<long> PowerCutSteps(long total, size_t at_most, uint64_t seed);

// What a box finds when it boots on `data`: the store and the catalog opened as `outpost
// serve` opens them, `channel_id`'s served version, and what `outpost verify` finds wrong (every
// blob re-hashed, every reference present, the catalog's integrity), one line per problem.
struct BootFinding {
  std::optional<ChannelInfo> channel;
  std::vector<std::string> problems;
};
BootFinding Boot(const std::filesystem::path& data, const std::string& channel_id);

}  // namespace outpost::testing
