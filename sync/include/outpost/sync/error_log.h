// The recent-errors log: every warning and error any `outpost` command logs (spdlog) on a data
// folder is also appended to DATA/errors.log, so that the box's health page (another process:
// `outpost serve`) and the site's report to its hub (site_report.h) can show what went wrong in
// `outpost sync`, a stick import or the server itself.
//
// A line is "<unix seconds> <level> <message>\n", level "warn" or "error" (critical is logged
// as "error"); a message's newlines become spaces and it is cut at kMaxLoggedMessage bytes (at a
// UTF-8 boundary). Messages only: the logger's callers already keep secrets out of them.
// When errors.log reaches kErrorLogBytes, it is renamed errors.log.1 (replacing the older one)
// and a new one starts: the two hold at most about 2 × 64 KiB. Lines are appended with
// O_APPEND and not fsynced (a log; a line torn by a crash is skipped by the reader).
//
// Thread-safety: the sink is an spdlog base_sink with a mutex; several processes may append to
// the same file (O_APPEND keeps their lines whole; a rotation racing another process's append
// may lose that line). RecentErrors is a pure read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/sync/node.h"

namespace outpost {

inline constexpr uint64_t kErrorLogBytes = 64 * 1024;
inline constexpr size_t kMaxLoggedMessage = 1000;

struct LoggedError {
  int64_t time = 0;   // unix seconds
  std::string level;  // "warn" or "error"
  std::string message;
};

// DATA/errors.log and DATA/errors.log.1.
std::filesystem::path ErrorLogPath(const NodePaths& paths);
std::filesystem::path OlderErrorLogPath(const NodePaths& paths);

// The line written for one message (with its newline), as described above.
std::string ErrorLogLine(int64_t time, std::string_view level, std::string_view message);

// One line (without its newline) back into a LoggedError; nullopt for a torn or foreign line.
std::optional<LoggedError> ParseErrorLogLine(std::string_view line);

// Adds a sink to the default logger (spdlog::default_logger()) that appends its warnings and
// errors to `paths`' errors.log as above; nothing is written while the data folder does not
// exist (a command that fails before making it leaves nothing behind). The sink is removed when
// the returned handle is destroyed: the CLI keeps it for the whole command.
[[nodiscard]] std::shared_ptr<void> InstallErrorLog(const NodePaths& paths);

// The newest `max` lines of errors.log.1 then errors.log, oldest first; lines that do not parse
// (torn, or not this format) are skipped. Empty if neither file exists.
std::vector<LoggedError> RecentErrors(const NodePaths& paths, size_t max);

}  // namespace outpost
