#include "common.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "outpost/sync/error_log.h"

namespace outpost::cli {

namespace fs = std::filesystem;

CLI::App* CommandTable::Add(CLI::App* parent, const std::string& name,
                            const std::string& description, Run run) {
  CLI::App* cmd = parent->add_subcommand(name, description);
  cmd->add_option("--data", data_flag_,
                  "data folder (default: $OUTPOST_DATA, else /var/lib/outpost as root, "
                  "else ~/.local/share/outpost)");
  cmd->add_flag("-v,--verbose", verbose_, "more logging (serve: every request)");
  commands_.push_back({cmd, std::move(run), true});
  return cmd;
}

CLI::App* CommandTable::AddMachineCommand(CLI::App* parent, const std::string& name,
                                          const std::string& description,
                                          std::function<int()> run) {
  CLI::App* cmd = parent->add_subcommand(name, description);
  cmd->add_flag("-v,--verbose", verbose_, "more logging");
  commands_.push_back({cmd, [run = std::move(run)](const fs::path&) { return run(); }, false});
  return cmd;
}

namespace {

// Run as root on a data folder that belongs to another user (the package's /var/lib/outpost,
// owned by `outpost`): the command becomes that user before it opens anything, so that what it
// writes (a database page, a blob, a key) stays readable by the service. Root's own folders, and
// every other user, are left alone.
Status BecomeOwnerOf(const fs::path& data) {
  struct stat info;
  if (::geteuid() != 0 || ::stat(data.c_str(), &info) != 0 || info.st_uid == 0) {
    return Status::Ok();
  }
  const passwd* owner = ::getpwuid(info.st_uid);
  if (!owner) return Denied(data.string() + " belongs to user " +
                                      std::to_string(info.st_uid) + ", who has no account here");
  if (::initgroups(owner->pw_name, owner->pw_gid) != 0 || ::setgid(owner->pw_gid) != 0 ||
      ::setuid(info.st_uid) != 0) {
    return ErrnoStatus(std::string("becoming ") + owner->pw_name + ", the owner of " +
                           data.string(), errno);
  }
  return Status::Ok();
}

}  // namespace

int CommandTable::RunParsed() const {
  fs::path data = data_flag_.empty() ? DefaultDataDir() : fs::path(data_flag_);
  for (const Command& command : commands_) {
    if (!command.app->parsed()) continue;
    if (!command.on_data_folder) return command.run(data);
    if (Status st = BecomeOwnerOf(data); !st.ok()) return Fail(st);
    // Its warnings and errors also go to DATA/errors.log, for the health page and the report.
    auto error_log = InstallErrorLog(NodePaths(data));
    return command.run(data);
  }
  return kExitUsage;
}

fs::path DefaultDataDir() {
  if (const char* env = std::getenv("OUTPOST_DATA"); env && *env) return env;
  if (geteuid() == 0) return "/var/lib/outpost";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".local/share/outpost";
}

Result<Library> OpenLibrary(const fs::path& data) {
  Library lib;
  auto store = BlobStore::Open(data);
  if (!store) return store.error().WithContext("opening the data folder " + data.string());
  lib.store = std::move(*store);
  auto catalog = Catalog::Open(data / "catalog.db");
  if (!catalog) return catalog.error();
  lib.catalog = std::move(*catalog);
  return lib;
}

Result<std::unique_ptr<SyncDb>> OpenSyncDb(const fs::path& data) {
  std::error_code ec;
  fs::create_directories(NodePaths(data).sync_dir, ec);
  return SyncDb::Open(NodePaths(data).sync_db);
}

int Fail(const Status& st) {
  std::fprintf(stderr, "outpost: %s\n", st.message().c_str());
  return st.code() == StatusCode::kBusy ? kExitBusy : kExitFailure;
}

void PrintJson(const nlohmann::json& j) {
  std::string s = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::printf("%s\n", s.c_str());
}

std::string Megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

ProgressLine::ProgressLine() : enabled_(::isatty(STDERR_FILENO) == 1) {}

void ProgressLine::Show(const std::string& text) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  std::string line = text.size() > 100 ? text.substr(0, 97) + "..." : text;
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  shown_ = true;
}

void ProgressLine::Done() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
  shown_ = false;
}

}  // namespace outpost::cli
