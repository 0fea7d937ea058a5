// CatalogHealth: whether the catalog the server reads is sound, as SQLite's quick_check finds it
// at start and every `interval` after, and as the requests find it (a read that fails). It says
// what is wrong in the log, plainly, when a check's finding changes and on every failed read;
// App asks damaged() so that, on a damaged catalog, "not found" and "no results" (which a
// damaged page can make up) are answered by the "something is wrong with this box" page.
//
// The check runs on a connection of its own (Catalog::OpenReadOnly), so it does not hold the
// server's connection, whose lock every request takes: WAL readers do not wait for each other.
// quick_check reads every page once (docs/cli.md gives its measured cost).
//
// Thread-safety: every method may be called from any thread; the periodic check runs on a
// thread of its own, stopped and joined by the destructor.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "outpost/base/status.h"

namespace outpost {

class CatalogHealth {
 public:
  // Checks `db_path` now, on a thread of its own, then every `interval` (zero: never again)
  // until destroyed. The server answers meanwhile: quick_check reads every page of the catalog
  // (a second for a library of 10,000 pages, several on an SD card), and a box must answer
  // within a second of starting (bench/box_budgets.sh); a read that fails in that time is
  // reported and answered as damage all the same (ReadFailed).
  CatalogHealth(std::filesystem::path db_path, std::chrono::seconds interval);
  ~CatalogHealth();
  CatalogHealth(const CatalogHealth&) = delete;
  CatalogHealth& operator=(const CatalogHealth&) = delete;

  // Runs one check now and logs its finding; returns the problems (empty: sound).
  std::vector<std::string> CheckNow();
  // A read of a request failed: logs it with what was asked (`target`); the catalog counts as
  // damaged until a check finds it sound.
  void ReadFailed(const std::string& target, const Status& error);
  // The last check found problems, or a read failed since.
  bool damaged() const { return damaged_.load(std::memory_order_relaxed); }

 private:
  void Loop();

  std::filesystem::path db_path_;
  std::chrono::seconds interval_;
  std::atomic<bool> damaged_{false};
  std::mutex mu_;  // guards stop_
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace outpost
