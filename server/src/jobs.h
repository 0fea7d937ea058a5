// Jobs: the console's actions that take minutes (a sync with the hub, writing a stick for the
// hub, reading a stick) run here, on a thread of their own, so that no HTTP event loop or worker
// waits for them; the pages and /api/v1/admin/jobs read their progress while they run and their
// result after (docs/console-actions.md).
//
// At most one job runs at a time: a sync, a stick export and a stick import all use the box's
// staging and data folder (the engines' own locks would refuse a second one anyway, with
// kBusy). Starting one while another runs answers kBusy at once. Cancel() sets a flag the
// engine asks between records (SyncOptions::cancelled, BundleExportOptions::cancelled,
// ImportBundle's `cancelled`); what a cancelled sync or stick read staged stays staged, so the
// next one fetches only the rest, and a cancelled stick export keeps its whole volumes and the
// state to continue after them. The last job of each slot (a sync; a stick
// written or read) is kept, with its result, until the next of that slot ends: in memory and in
// sync.db (SyncDb::NoteConsoleJob), so a restarted server still shows how it ended.
//
// A sync follows the link policy (SyncUnderPolicy: its budget and speed limit, not its
// windows), whoever starts it: the console ("trigger": "console") or the policy's schedule
// (RunScheduledSync, "schedule"), so the console shows an automatic sync too and can cancel it,
// and the two can never run at once.
//
// The job's work never throws out of its thread: an exception becomes a "failed" result.
// Stop() (and the destructor) cancels the job that runs and joins its thread.
//
// Thread-safety: every public call may be made from any thread at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/drives.h"
#include "outpost/sync/node.h"
#include "outpost/sync/site_sync.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

using JobId = uint64_t;

enum class JobKind { kSync, kStickExport, kStickImport };

// "12 kB", "212 MB", "1.5 MB", "84.1 GB": decimal units, as sticks are sold, for the sentences
// and pages of jobs.
std::string BytesForPeople(uint64_t bytes);
const char* JobKindName(JobKind kind);  // "sync", "stick_export", "stick_import"

// Where a job stands, as its work reports it (bytes and files) and as Jobs works out (rate,
// time left). A total of 0 is "not known yet".
struct JobProgress {
  std::string phase;  // "connecting", "fetching", "sending", "writing", "reading", "finishing"
  uint64_t bytes_done = 0, bytes_total = 0;
  uint64_t files_done = 0, files_total = 0;
};

// How a job ended. `state`: "done" (all of it), "incomplete" (stopped by a budget or a full
// stick: what was done is kept and the next job continues), "cancelled", "failed".
struct JobResult {
  std::string state;
  std::string sentence;  // one plain English line: "2 channels updated, 212 MB received"
  nlohmann::json fields = nlohmann::json::object();  // the numbers behind it (docs/web-api.md)
};

// A copy of one job, for a page or the JSON.
struct JobSnapshot {
  JobId id = 0;
  JobKind kind = JobKind::kSync;
  std::string trigger = "console";  // or "schedule": the link policy's automatic sync
  bool running = false;
  bool cancel_requested = false;
  JobProgress progress;
  double rate_bytes_per_second = 0;      // since the job started
  std::optional<int64_t> seconds_left;   // from the rate, once there is one and a total
  int64_t started_at = 0, ended_at = 0;  // unix seconds; ended_at 0 while it runs
  std::optional<JobResult> result;       // once it ended

  nlohmann::json ToJson() const;  // docs/web-api.md, "Console jobs"
};

// What the work of a job sees: whether it should stop, and a way to report its progress.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual bool cancelled() const = 0;
  virtual void Report(const JobProgress& progress) = 0;
};

using JobWork = std::function<JobResult(JobContext& context)>;

// A sync started from the console or by the link policy's schedule.
struct SyncRequestOptions {
  uint64_t rate_limit_kbps = 0;  // 0: the policy's
  uint64_t budget_bytes = 0;     // 0: the policy's
  std::string trigger = "console";  // "schedule": the link policy's automatic sync
  std::string hub;               // "HOST:PORT"; empty: the pinned hub's
  SyncDialer dial;               // empty: TCP (tests give an in-memory link)
};

class Jobs {
 public:
  // `store` and `catalog` must outlive the Jobs; `drives` is where ListRemovableDrives looks.
  // `db`, if given, is the process's connection to sync.db and must outlive the Jobs; without
  // one the Jobs opens its own (jobs fail with the reason if it cannot). The last jobs kept in
  // sync.db are read back here.
  Jobs(const std::filesystem::path& data, BlobStore* store, Catalog* catalog,
       DriveSources drives = {}, SyncDb* db = nullptr);
  ~Jobs();
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;

  // Starts `work` on a thread of its own: its id, or kBusy while a job runs, or
  // kBusy after Stop().
  Result<JobId> Start(JobKind kind, JobWork work, const std::string& trigger = "console");
  // A sync with the pinned hub under the link policy (SyncUnderPolicy): as `outpost sync`,
  // resumable.
  Result<JobId> StartSync(const SyncRequestOptions& options);
  // The link policy's automatic sync (LinkScheduler's hook): starts a sync job marked
  // "schedule" and waits for its end. Ok when it ended done, incomplete or cancelled; kBusy
  // (at once) while another job runs or after Stop(); the reason when it failed.
  Status RunScheduledSync(SyncDialer dial = {});
  // A stick for the hub (ExportBundle) on the removable drive mounted at `mount_point`, which
  // must be one ListRemovableDrives lists now (kNotFound otherwise: never a typed path); with
  // `continue_export`, the export that stopped on a full stick goes on.
  Result<JobId> StartStickExport(const std::string& mount_point, bool continue_export);
  // Reads every volume on that drive (ImportBundle).
  Result<JobId> StartStickImport(const std::string& mount_point);

  // Asks the running job to stop; false if none runs.
  bool Cancel();
  // The job that runs, if one does.
  std::optional<JobSnapshot> Current() const;
  // The latest job of `kind` (running or ended), if any since start; for the stick kinds, the
  // latest of either.
  std::optional<JobSnapshot> Latest(JobKind kind) const;
  // The removable drives mounted now (an empty list if the mount table cannot be read).
  std::vector<RemovableDrive> Drives() const;
  const NodePaths& paths() const { return paths_; }
  // How many bytes a drive has free, asked while a stick is written (tests stand a small drive
  // in with it); by default statvfs's. Call before the first job starts.
  void set_free_bytes(std::function<uint64_t(const std::filesystem::path&)> free_bytes) {
    free_bytes_ = std::move(free_bytes);
  }

  // Waits until job `id` has ended: its snapshot then (none if `id` never ran here).
  std::optional<JobSnapshot> Wait(JobId id);
  // Waits until the job that runs (if any) has ended and its result is kept.
  void Join();
  // Cancels the job that runs and waits for its thread; later Starts are refused.
  void Stop();

 private:
  class Context;
  void Run(JobId id, JobWork work);
  void Update(JobId id, const JobProgress& progress);
  void Finish(JobId id, JobResult result);
  Result<std::filesystem::path> ListedDrive(const std::string& mount_point) const;
  void Keep(const JobSnapshot& job);  // into sync.db
  void LoadKept();                    // from sync.db, at construction

  const NodePaths paths_;
  BlobStore* store_;
  Catalog* catalog_;
  const DriveSources drives_;
  std::function<uint64_t(const std::filesystem::path&)> free_bytes_;
  std::unique_ptr<SyncDb> own_db_;  // when none was given
  SyncDb* db_ = nullptr;            // null: sync.db could not be opened
  std::string db_error_;

  mutable std::mutex mu_;
  bool stopped_ = false;
  JobId next_id_ = 1;
  std::optional<JobSnapshot> current_;             // the running job, or none
  std::optional<JobSnapshot> last_sync_, last_stick_;  // ended ones, by slot
  std::condition_variable ended_;                      // a job ended
  std::chrono::steady_clock::time_point started_;  // the running job's, for its rate
  std::atomic<bool> cancel_{false};
  std::thread thread_;  // the running job's, or the last one's until joined
};

}  // namespace outpost
