// The recent-errors log (error_log.h): an spdlog sink appending warnings and errors to
// DATA/errors.log, rotated at kErrorLogBytes, and the reader of its newest lines.
#include "outpost/sync/error_log.h"

#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <mutex>
#include <system_error>

#include "outpost/base/file.h"
#include "outpost/base/text.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view CutUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<uint8_t>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

class ErrorLogSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ErrorLogSink(const NodePaths& paths)
      : data_(paths.data), log_(ErrorLogPath(paths)), older_(OlderErrorLogPath(paths)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level < spdlog::level::warn || msg.level == spdlog::level::off) return;
    std::error_code ec;
    if (!fs::is_directory(data_, ec)) return;
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(msg.time.time_since_epoch());
    std::string line = ErrorLogLine(seconds.count(), msg.level == spdlog::level::warn ? "warn" : "error",
                                    std::string_view(msg.payload.data(), msg.payload.size()));
    Append(line);
  }
  void flush_() override {}

 private:
  void Append(const std::string& line) {
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return;  // a log must never stop what it logs
    ssize_t n = ::write(fd, line.data(), line.size());
    off_t size = ::lseek(fd, 0, SEEK_END);
    ::close(fd);
    if (n > 0 && size >= static_cast<off_t>(kErrorLogBytes)) {
      std::error_code ec;
      fs::rename(log_, older_, ec);
    }
  }

  fs::path data_, log_, older_;
};

}  // namespace

std::optional<LoggedError> ParseErrorLogLine(std::string_view line) {
  size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0 || space > 19) return std::nullopt;
  LoggedError e;
  for (char c : line.substr(0, space)) {
    if (c < '0' || c > '9') return std::nullopt;
    e.time = e.time * 10 + (c - '0');
  }
  std::string_view rest = line.substr(space + 1);
  for (std::string_view level : {"warn", "error"}) {
    if (rest.size() > level.size() && rest.substr(0, level.size()) == level && rest[level.size()] == ' ') {
      e.level = level;
      e.message = rest.substr(level.size() + 1);
      if (!IsValidUtf8(e.message)) e.message = EscapeInvalidUtf8(e.message);
      return e;
    }
  }
  return std::nullopt;
}

namespace {

void ReadLines(const fs::path& file, std::deque<LoggedError>* out, size_t max) {
  // A log is bounded by its rotation; allow one line beyond, and a little more.
  auto text = ReadWholeFile(file, kErrorLogBytes + 2 * kMaxLoggedMessage + 64);
  if (!text) return;
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) break;  // the last line is torn (or being written)
    if (auto e = ParseErrorLogLine(rest.substr(0, nl))) {
      out->push_back(std::move(*e));
      if (out->size() > max) out->pop_front();
    }
    rest.remove_prefix(nl + 1);
  }
}

}  // namespace

fs::path ErrorLogPath(const NodePaths& paths) { return paths.data / "errors.log"; }
fs::path OlderErrorLogPath(const NodePaths& paths) { return paths.data / "errors.log.1"; }

std::string ErrorLogLine(int64_t time, std::string_view level, std::string_view message) {
  std::string text(CutUtf8(message, kMaxLoggedMessage));
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return std::to_string(time) + " " + std::string(level) + " " + text + "\n";
}

std::shared_ptr<void> InstallErrorLog(const NodePaths& paths) {
  auto logger = spdlog::default_logger();
  auto sink = std::make_shared<ErrorLogSink>(paths);
  logger->sinks().push_back(sink);
  return std::shared_ptr<void>(nullptr, [logger, sink](void*) {
    auto& sinks = logger->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  });
}

std::vector<LoggedError> RecentErrors(const NodePaths& paths, size_t max) {
  std::deque<LoggedError> lines;
  if (max == 0) return {};
  ReadLines(OlderErrorLogPath(paths), &lines, max);
  ReadLines(ErrorLogPath(paths), &lines, max);
  return {std::make_move_iterator(lines.begin()), std::make_move_iterator(lines.end())};
}

}  // namespace outpost
