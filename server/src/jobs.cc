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

JobResult SyncResult(const SyncSummary& s) {
  JobResult r;
  r.fields = {{"channels_updated", s.updated.size()}, {"bytes_received", s.bytes_received},
              {"bytes_sent", s.bytes_sent}, {"files_received", s.files_received},
              {"refused", s.refused}, {"complete", s.complete},
              {"budget_reached", s.budget_reached}, {"seconds", s.seconds}};
  std::string moved = Mb(s.bytes_received) + " received";
  if (s.cancelled) {
    r.state = "cancelled";
    r.sentence = "Cancelled: " + moved + " kept; the next sync continues from there";
  } else if (!s.complete) {
    r.state = "incomplete";
    r.sentence = (s.budget_reached ? "Stopped at the data budget: " : "Not finished: ") + moved +
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
              {"channels", e.channels}, {"complete", e.complete},
              {"remaining_bytes", e.remaining_bytes}};
  std::string wrote = Count(e.channels.size(), "channel", "channels") + ", " + Mb(e.bytes);
  if (e.complete) {
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
              {"refused", s.refused}, {"complete", s.complete}};
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
                      {"cancel_requested", cancel_requested}, {"phase", progress.phase},
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

Jobs::Jobs(const fs::path& data, BlobStore* store, Catalog* catalog, DriveSources drives)
    : paths_(data), store_(store), catalog_(catalog), drives_(std::move(drives)) {}

Jobs::~Jobs() { Stop(); }

Result<JobId> Jobs::Start(JobKind kind, JobWork work) {
  std::lock_guard lock(mu_);
  if (stopped_) return Status(StatusCode::kBusy, "the server is stopping");
  if (current_) {
    return Status(StatusCode::kBusy, std::string("a ") + JobKindName(current_->kind) +
                                         " is running; wait for it or cancel it");
  }
  if (thread_.joinable()) thread_.join();  // the last job's: it has ended (current_ is empty)
  JobSnapshot job;
  job.id = next_id_++;
  job.kind = kind;
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
  (done.kind == JobKind::kSync ? last_sync_ : last_stick_) = std::move(done);
  current_.reset();
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

// ---- The work.

Result<JobId> Jobs::StartSync(const SyncRequestOptions& request) {
  return Start(JobKind::kSync, [this, request](JobContext& job) {
    job.Report({"connecting"});
    auto db = SyncDb::Open(paths_.sync_db);
    if (!db) return Failed(db.error());
    SyncOptions options;
    options.hub = request.hub;
    options.rate_limit_kbps = request.rate_limit_kbps;
    options.budget_bytes = request.budget_bytes;
    options.dial = request.dial;
    options.cancelled = [&job] { return job.cancelled(); };
    options.progress = [&job](const SyncProgress& p) {
      if (p.uploading) {
        job.Report({"sending", p.bytes_sent, p.bytes_offered, 0, 0});
      } else {
        job.Report({"fetching", p.bytes_done, p.bytes_wanted, p.files_done, p.files_wanted});
      }
    };
    auto summary = SyncWithHub(paths_, store_, catalog_, db->get(), options);
    if (!summary) return Failed(summary.error());
    return SyncResult(*summary);
  });
}

Result<JobId> Jobs::StartStickExport(const std::string& mount_point, bool continue_export) {
  auto folder = ListedDrive(mount_point);
  if (!folder) return folder.error();
  return Start(JobKind::kStickExport, [this, to = *folder, continue_export](JobContext& job) {
    job.Report({"writing"});
    auto db = SyncDb::Open(paths_.sync_db);
    if (!db) return Failed(db.error());
    BundleExportOptions options;
    options.to = to;
    options.continue_export = continue_export;
    options.progress = [&job](uint64_t written, uint64_t at_most) {
      job.Report({"writing", written, at_most, 0, 0});
    };
    auto result = ExportBundle(paths_, store_, catalog_, db->get(), options);
    if (!result) return Failed(result.error());
    return ExportResult(*result);
  });
}

Result<JobId> Jobs::StartStickImport(const std::string& mount_point) {
  auto folder = ListedDrive(mount_point);
  if (!folder) return folder.error();
  return Start(JobKind::kStickImport, [this, from = *folder](JobContext& job) {
    job.Report({"reading"});
    auto db = SyncDb::Open(paths_.sync_db);
    if (!db) return Failed(db.error());
    uint64_t bytes = 0;
    auto progress = [&job, &bytes](uint64_t read, uint64_t total) {
      bytes = read;
      job.Report({"reading", read, total, 0, 0});
    };
    auto result = ImportBundle(paths_, store_, catalog_, db->get(), from, progress);
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
