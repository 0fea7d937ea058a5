// The console's job runner (jobs.h): one thread per job, one job at a time, and the three kinds
// of work the console starts (a sync, a stick written for the hub, a stick read).

#include "jobs.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>

#include "outpost/sync/bundle_export.h"
#include "outpost/sync/bundle_import.h"
#include "outpost/sync/link_scheduler.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

std::string Mb(uint64_t bytes) { return BytesForPeople(bytes); }

int64_t UnixNow() { return static_cast<int64_t>(std::time(nullptr)); }

std::string Count(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

JobResult Failed(const Status& why) {
  return {"failed", why.message(), {{"error", why.message()}}};
}

const char* PeriodName(BudgetPeriod period) {
  switch (period) {
    case BudgetPeriod::kDay: return "day";
    case BudgetPeriod::kMonth: return "month";
    case BudgetPeriod::kNone: break;
  }
  return "";
}

// A sync the policy's budget did not let start: nothing moved, the next continues.
JobResult SpentResult(const PolicySync& p) {
  JobResult r;
  r.state = "incomplete";
  r.sentence = "Not started: " + p.message;
  r.fields = {{"channels_updated", 0}, {"bytes_received", 0}, {"bytes_sent", 0},
              {"files_received", 0}, {"refused", 0}, {"complete", false},
              {"budget_reached", true}, {"budget", PeriodName(p.plan.period)}, {"seconds", 0},
              {"started", false}};
  return r;
}

JobResult SyncResult(const PolicySync& p) {
  if (!p.summary) return SpentResult(p);
  const SyncSummary& s = *p.summary;
  JobResult r;
  // "budget": the policy's period whose budget stopped it ("day", "month"), "" otherwise.
  r.fields = {{"channels_updated", s.updated.size()}, {"bytes_received", s.bytes_received},
              {"bytes_sent", s.bytes_sent}, {"files_received", s.files_received},
              {"refused", s.refused}, {"complete", s.complete},
              {"budget_reached", s.budget_reached},
              {"budget", s.budget_reached ? PeriodName(p.plan.period) : ""},
              {"seconds", s.seconds}};
  std::string moved = Mb(s.bytes_received) + " received";
  if (s.cancelled) {
    r.state = "cancelled";
    r.sentence = "Cancelled: " + moved + " kept; the next sync continues from there";
  } else if (!s.complete) {
    r.state = "incomplete";
    // With a budget, the policy's own sentence ("the day's data budget is spent; ...").
    r.sentence = s.budget_reached ? "Stopped at the data budget: " + moved + " kept; " + p.message
                                  : "Not finished: " + moved +
                                        " kept; the next sync continues from there";
  } else {
    r.state = "done";
    r.sentence = s.updated.empty() ? "Up to date; " + moved
                                   : Count(s.updated.size(), "channel", "channels") +
                                         " updated, " + moved;
  }
  return r;
}

JobResult ExportResult(const BundleExportResult& e) {
  JobResult r;
  r.fields = {{"bundle", e.bundle_id}, {"volumes", e.volumes.size()}, {"bytes", e.bytes},
              {"channels", e.channels}, {"complete", e.complete}, {"cancelled", e.cancelled},
              {"remaining_bytes", e.remaining_bytes}};
  std::string wrote = Count(e.channels.size(), "channel", "channels") + ", " + Mb(e.bytes);
  if (e.cancelled) {
    r.state = "cancelled";
    r.sentence = e.volumes.empty()
                     ? std::string("Cancelled before a volume was whole: nothing new on the stick")
                     : "Cancelled: " + Mb(e.bytes) + " written in whole volumes; continue, on this "
                       "stick or another, to write the rest";
  } else if (e.complete) {
    r.state = "done";
    r.sentence = wrote + " written; the stick can be removed";
  } else {
    r.state = "incomplete";
    r.sentence = "The stick is full: " + wrote + " written, about " + Mb(e.remaining_bytes) +
                 " remain; remove it and continue on another";
  }
  return r;
}

JobResult ImportResult(const BundleImportResult& i, uint64_t bytes) {
  JobResult r;
  const SyncSummary& s = i.summary;
  r.fields = {{"channels_updated", s.updated.size()}, {"bytes", bytes},
              {"volumes", i.volumes.size()}, {"damaged", i.damaged}, {"skipped", i.skipped},
              {"refused", s.refused}, {"complete", s.complete}, {"cancelled", i.cancelled}};
  if (i.cancelled) {
    r.state = "cancelled";
    r.sentence = "Cancelled: " + Count(s.updated.size(), "channel", "channels") + " updated, " +
                 Mb(bytes) + " read; what was read is kept, reading the stick again takes the rest";
    return r;
  }
  r.state = i.damaged.empty() && i.volumes.size() > 0 ? "done" : "incomplete";
  if (i.volumes.empty()) {
    r.sentence = "No volume for this box was found on the stick";
    return r;
  }
  r.sentence = Count(s.updated.size(), "channel", "channels") + " updated, " + Mb(bytes) +
               "; the stick can be removed";
  return r;
}

}  // namespace

std::string BytesForPeople(uint64_t bytes) {
  char out[32];
  double mb = static_cast<double>(bytes) / 1e6;
  if (bytes < 100000) {
    std::snprintf(out, sizeof out, "%.0f kB", std::ceil(static_cast<double>(bytes) / 1e3));
  } else if (mb >= 10000) {
    std::snprintf(out, sizeof out, "%.1f GB", mb / 1000);
  } else {
    std::snprintf(out, sizeof out, mb >= 10 ? "%.0f MB" : "%.1f MB", mb);
  }
  return out;
}

const char* JobKindName(JobKind kind) {
  switch (kind) {
    case JobKind::kSync: return "sync";
    case JobKind::kStickExport: return "stick_export";
    case JobKind::kStickImport: return "stick_import";
  }
  return "";
}

nlohmann::json JobSnapshot::ToJson() const {
  nlohmann::json j = {{"id", id}, {"kind", JobKindName(kind)}, {"running", running},
                      {"trigger", trigger}, {"cancel_requested", cancel_requested},
                      {"phase", progress.phase},
                      {"bytes_done", progress.bytes_done}, {"bytes_total", progress.bytes_total},
                      {"files_done", progress.files_done}, {"files_total", progress.files_total},
                      {"rate_bytes_per_second", rate_bytes_per_second},
                      {"seconds_left", nullptr}, {"started_at", started_at},
                      {"ended_at", ended_at}, {"state", running ? "running" : ""},
                      {"sentence", ""}, {"result", nullptr}};
  if (seconds_left) j["seconds_left"] = *seconds_left;
  if (result) {
    j["state"] = result->state;
    j["sentence"] = result->sentence;
    j["result"] = result->fields;
  }
  return j;
}

// What a job's work sees; it reports into the Jobs that runs it.
class Jobs::Context : public JobContext {
 public:
  Context(Jobs* jobs, JobId id) : jobs_(jobs), id_(id) {}
  bool cancelled() const override { return jobs_->cancel_.load(); }
  void Report(const JobProgress& progress) override { jobs_->Update(id_, progress); }

 private:
  Jobs* jobs_;
  JobId id_;
};

Jobs::Jobs(const fs::path& data, BlobStore* store, Catalog* catalog, DriveSources drives,
           SyncDb* db)
    : paths_(data), store_(store), catalog_(catalog), drives_(std::move(drives)), db_(db) {
  if (!db_) {
    auto own = SyncDb::Open(paths_.sync_db);
    if (own) {
      own_db_ = std::move(*own);
      db_ = own_db_.get();
    } else {
      db_error_ = own.error().message();
      spdlog::error("console jobs cannot run: {}", db_error_);
    }
  }
  LoadKept();
}

Jobs::~Jobs() { Stop(); }

Result<JobId> Jobs::Start(JobKind kind, JobWork work, const std::string& trigger) {
  std::lock_guard lock(mu_);
  if (stopped_) return Status(StatusCode::kBusy, "the server is stopping");
  if (current_) {
    return Status(StatusCode::kBusy, std::string("a ") + JobKindName(current_->kind) +
                                         " is running; wait for it or cancel it");
  }
  if (thread_.joinable()) thread_.join();  // the last job's: it has ended (current_ is empty)
  if (!db_) return Status(StatusCode::kInternal, "sync.db cannot be opened: " + db_error_);
  JobSnapshot job;
  job.id = next_id_++;
  job.kind = kind;
  job.trigger = trigger;
  job.running = true;
  job.started_at = UnixNow();
  job.progress.phase = "starting";
  current_ = job;
  cancel_ = false;
  started_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this, id = job.id, work = std::move(work)] { Run(id, work); });
  return job.id;
}

void Jobs::Run(JobId id, JobWork work) {
  JobResult result;
  try {
    Context context(this, id);
    result = work(context);
  } catch (const std::exception& e) {
    result = Failed(Status(StatusCode::kInternal, std::string("the job stopped: ") + e.what()));
  } catch (...) {
    result = Failed(Status(StatusCode::kInternal, "the job stopped on an unknown error"));
  }
  spdlog::info("console job {}: {}: {}", id, result.state, result.sentence);
  Finish(id, std::move(result));
}

void Jobs::Update(JobId id, const JobProgress& progress) {
  std::lock_guard lock(mu_);
  if (!current_ || current_->id != id) return;
  current_->progress = progress;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (seconds <= 0 || progress.bytes_done == 0) return;
  current_->rate_bytes_per_second = progress.bytes_done / seconds;
  if (progress.bytes_total > progress.bytes_done) {
    current_->seconds_left = static_cast<int64_t>(
        (progress.bytes_total - progress.bytes_done) / current_->rate_bytes_per_second + 0.5);
  } else {
    current_->seconds_left.reset();
  }
}

void Jobs::Finish(JobId id, JobResult result) {
  std::lock_guard lock(mu_);
  if (!current_ || current_->id != id) return;
  JobSnapshot done = *current_;
  done.running = false;
  done.seconds_left.reset();
  done.ended_at = UnixNow();
  done.result = std::move(result);
  (done.kind == JobKind::kSync ? last_sync_ : last_stick_) = done;
  current_.reset();
  ended_.notify_all();
  Keep(done);  // under mu_: a later job of the slot cannot be kept before this one
}

std::optional<JobSnapshot> Jobs::Wait(JobId id) {
  std::unique_lock lock(mu_);
  if (id == 0 || id >= next_id_) return std::nullopt;
  ended_.wait(lock, [&] { return !current_ || current_->id != id; });
  for (const auto* kept : {&last_sync_, &last_stick_}) {
    if (*kept && (*kept)->id == id) return *kept;
  }
  return std::nullopt;  // a later job of its slot has ended since
}

bool Jobs::Cancel() {
  std::lock_guard lock(mu_);
  if (!current_) return false;
  cancel_ = true;
  current_->cancel_requested = true;
  return true;
}

std::optional<JobSnapshot> Jobs::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::optional<JobSnapshot> Jobs::Latest(JobKind kind) const {
  std::lock_guard lock(mu_);
  bool stick = kind != JobKind::kSync;
  if (current_ && (current_->kind != JobKind::kSync) == stick) return current_;
  return stick ? last_stick_ : last_sync_;
}

void Jobs::Join() {
  std::thread thread;
  {
    std::lock_guard lock(mu_);
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

void Jobs::Stop() {
  std::thread thread;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    if (current_) {
      cancel_ = true;
      current_->cancel_requested = true;
    }
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

std::vector<RemovableDrive> Jobs::Drives() const {
  auto drives = ListRemovableDrives(drives_);
  if (!drives) {
    spdlog::warn("cannot list removable drives: {}", drives.error().message());
    return {};
  }
  return std::move(*drives);
}

Result<fs::path> Jobs::ListedDrive(const std::string& mount_point) const {
  for (const auto& d : Drives()) {
    if (d.mount_point.string() == mount_point) return d.mount_point;
  }
  return NotFound("no removable drive is mounted at " + mount_point);
}

// ---- What is kept in sync.db.

namespace {

std::optional<JobKind> KindNamed(const std::string& name) {
  for (JobKind kind : {JobKind::kSync, JobKind::kStickExport, JobKind::kStickImport}) {
    if (name == JobKindName(kind)) return kind;
  }
  return std::nullopt;
}

constexpr size_t kMaxKeptText = 64 * 1024;  // a kept row longer than this is not ours

// A row of console_jobs as a snapshot; none if it is not one this server could have written.
std::optional<JobSnapshot> SnapshotOf(const ConsoleJobRecord& row) {
  auto kind = KindNamed(row.kind);
  if (!kind || row.slot != (*kind == JobKind::kSync ? "sync" : "stick")) return std::nullopt;
  if (row.fields.size() > kMaxKeptText || row.sentence.size() > kMaxKeptText) return std::nullopt;
  auto fields = nlohmann::json::parse(row.fields, nullptr, /*allow_exceptions=*/false);
  if (!fields.is_object()) return std::nullopt;
  static const char* const kStates[] = {"done", "incomplete", "cancelled", "failed"};
  if (std::find(std::begin(kStates), std::end(kStates), row.state) == std::end(kStates)) {
    return std::nullopt;
  }
  JobSnapshot job;
  job.id = row.id;
  job.kind = *kind;
  job.trigger = row.trigger == "schedule" ? "schedule" : "console";
  job.started_at = row.started_at;
  job.ended_at = row.ended_at;
  job.progress.phase = "finishing";
  job.result = JobResult{row.state, row.sentence, std::move(fields)};
  return job;
}

}  // namespace

void Jobs::Keep(const JobSnapshot& job) {
  if (!db_ || !job.result) return;
  ConsoleJobRecord row{job.kind == JobKind::kSync ? "sync" : "stick", job.id,
                       JobKindName(job.kind), job.trigger, job.started_at, job.ended_at,
                       job.result->state, job.result->sentence, job.result->fields.dump()};
  Status st = db_->NoteConsoleJob(row);
  if (!st.ok()) spdlog::warn("the console's last {} is not kept: {}", row.slot, st.message());
}

void Jobs::LoadKept() {
  if (!db_) return;
  std::lock_guard lock(mu_);
  for (const auto& row : db_->ConsoleJobs()) {
    auto job = SnapshotOf(row);
    if (!job) {
      spdlog::warn("sync.db keeps a console job this server does not read ({})", row.kind);
      continue;
    }
    // Ids go on from the kept ones, so a page's "job" never names two jobs.
    next_id_ = std::max(next_id_, job->id + 1);
    (job->kind == JobKind::kSync ? last_sync_ : last_stick_) = std::move(*job);
  }
}

// ---- The work.

Status Jobs::RunScheduledSync(SyncDialer dial) {
  SyncRequestOptions request;
  request.trigger = "schedule";
  request.dial = std::move(dial);
  auto started = StartSync(request);
  if (!started) return started.error();
  auto ended = Wait(*started);
  if (!ended || !ended->result) return Status::Ok();  // a later one has ended: this one did
  const JobResult& r = *ended->result;
  if (r.state == "failed") return Status(StatusCode::kIoError, r.sentence);
  return Status::Ok();
}

Result<JobId> Jobs::StartSync(const SyncRequestOptions& request) {
  return Start(JobKind::kSync, [this, request](JobContext& job) {
    job.Report({"connecting"});
    SyncOptions options;
    options.hub = request.hub;
    options.dial = request.dial;
    options.cancelled = [&job] { return job.cancelled(); };
    options.progress = [&job](const SyncProgress& p) {
      if (p.uploading) {
        job.Report({"sending", p.bytes_sent, p.bytes_offered, 0, 0});
      } else {
        job.Report({"fetching", p.bytes_done, p.bytes_wanted, p.files_done, p.files_wanted});
      }
    };
    SyncOverrides overrides;
    if (request.rate_limit_kbps) overrides.rate_limit_kbps = request.rate_limit_kbps;
    if (request.budget_bytes) overrides.budget_bytes = request.budget_bytes;
    auto synced = SyncUnderPolicy(paths_, store_, catalog_, db_, std::move(options), overrides,
                                  LocalTime::Now());
    if (!synced) return Failed(synced.error());
    return SyncResult(*synced);
  }, request.trigger);
}

Result<JobId> Jobs::StartStickExport(const std::string& mount_point, bool continue_export) {
  auto folder = ListedDrive(mount_point);
  if (!folder) return folder.error();
  return Start(JobKind::kStickExport, [this, to = *folder, continue_export](JobContext& job) {
    job.Report({"writing"});
    BundleExportOptions options;
    options.to = to;
    options.continue_export = continue_export;
    options.cancelled = [&job] { return job.cancelled(); };
    options.free_bytes = free_bytes_;
    options.progress = [&job](uint64_t written, uint64_t at_most) {
      job.Report({"writing", written, at_most, 0, 0});
    };
    auto result = ExportBundle(paths_, store_, catalog_, db_, options);
    if (!result) return Failed(result.error());
    return ExportResult(*result);
  });
}

Result<JobId> Jobs::StartStickImport(const std::string& mount_point) {
  auto folder = ListedDrive(mount_point);
  if (!folder) return folder.error();
  return Start(JobKind::kStickImport, [this, from = *folder](JobContext& job) {
    job.Report({"reading"});
    uint64_t bytes = 0;
    auto progress = [&job, &bytes](uint64_t read, uint64_t total) {
      bytes = read;
      job.Report({"reading", read, total, 0, 0});
    };
    auto result = ImportBundle(paths_, store_, catalog_, db_, from, progress,
                               [&job] { return job.cancelled(); });
    if (!result) return Failed(result.error());
    uint64_t whole = 0;  // the volumes read to their end: what the stick brought
    for (const auto& v : result->volumes) {
      std::error_code ec;
      uint64_t size = fs::file_size(v, ec);
      if (!ec) whole += size;
    }
    return ImportResult(*result, std::max(bytes, whole));
  });
}

}  // namespace outpost
