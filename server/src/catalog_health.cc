#include "catalog_health.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "outpost/content/catalog.h"

namespace outpost {

namespace {

// quick_check lists at most this many problems in the log (it finds at most 100).
constexpr size_t kLoggedProblems = 20;

std::vector<std::string> QuickCheck(const std::filesystem::path& db_path) {
  auto catalog = Catalog::OpenReadOnly(db_path);
  if (!catalog) return {"cannot open it: " + catalog.error().message()};
  return (*catalog)->QuickCheck();
}

}  // namespace

CatalogHealth::CatalogHealth(std::filesystem::path db_path, std::chrono::seconds interval)
    : db_path_(std::move(db_path)), interval_(interval) {
  thread_ = std::thread([this] {
    CheckNow();
    if (interval_.count() > 0) Loop();
  });
}

CatalogHealth::~CatalogHealth() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> CatalogHealth::CheckNow() {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> problems = QuickCheck(db_path_);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start).count();
  bool was_damaged = damaged_.exchange(!problems.empty());
  if (problems.empty()) {
    if (was_damaged) spdlog::info("catalog {}: the check finds it sound again", db_path_.string());
    else spdlog::info("catalog {}: checked in {} ms, sound", db_path_.string(), ms);
    return problems;
  }
  spdlog::error("catalog {} is DAMAGED: {} problem(s) found by SQLite's quick_check in {} ms; "
                "learners get an error page where it cannot be read. Run `outpost verify`.",
                db_path_.string(), problems.size(), ms);
  for (size_t i = 0; i < problems.size() && i < kLoggedProblems; ++i) {
    spdlog::error("catalog: {}", problems[i]);
  }
  return problems;
}

void CatalogHealth::ReadFailed(const std::string& target, const Status& error) {
  damaged_.store(true, std::memory_order_relaxed);
  spdlog::error("catalog {}: reading it for {} failed: {}", db_path_.string(), target,
                error.message());
}

void CatalogHealth::Loop() {
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    CheckNow();
    lock.lock();
  }
}

}  // namespace outpost
