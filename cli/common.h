// What every command group of the `outpost` command line shares: the data folder and the flags
// every command takes, the table that runs the parsed command, opening the library, and the
// output helpers (error messages, JSON, sizes, a progress line on a terminal).
//
// A group (serve.h, library.h, hub.h, sync.h, peer.h, bundle.h) registers each of its commands
// with CommandTable::Add, which gives the command --data and -v and records what to run once
// the command line is parsed; cli.cc parses and runs it.
//
// Thread-safety: for the main thread only (ProgressLine may be fed from a library's progress
// callback, which the libraries call one at a time).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli.h"
#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"

namespace outpost::cli {

// The commands of the app and what each does once parsed.
class CommandTable {
 public:
  using Run = std::function<int(const std::filesystem::path& data)>;

  // Makes `name` a subcommand of `parent` taking --data and -v (before any option the caller
  // adds), run by `run` if it is the command parsed.
  CLI::App* Add(CLI::App* parent, const std::string& name, const std::string& description,
                Run run);
  // A command that sets up the machine, not a data folder (`box wifi`): it takes -v but not
  // --data, and runs as whoever started it (root, for files under /etc), never as the data
  // folder's owner.
  CLI::App* AddMachineCommand(CLI::App* parent, const std::string& name,
                              const std::string& description, std::function<int()> run);
  // Runs the command that was parsed, on the data folder; kExitUsage if none was.
  int RunParsed() const;
  bool verbose() const { return verbose_; }

 private:
  std::string data_flag_;
  bool verbose_ = false;
  struct Command {
    CLI::App* app;
    Run run;
    bool on_data_folder;
  };
  std::vector<Command> commands_;
};

// --data DIR, else $OUTPOST_DATA, else /var/lib/outpost for root and
// ~/.local/share/outpost for anyone else.
std::filesystem::path DefaultDataDir();

struct Library {
  std::unique_ptr<BlobStore> store;
  std::unique_ptr<Catalog> catalog;
};

// Opens (creating if needed) the blob store and catalog of the data folder.
Result<Library> OpenLibrary(const std::filesystem::path& data);
// Opens (creating if needed) DATA/sync/sync.db.
Result<std::unique_ptr<SyncDb>> OpenSyncDb(const std::filesystem::path& data);

// Prints "outpost: MESSAGE" to stderr; returns kExitBusy for kBusy, else kExitFailure.
int Fail(const Status& st);

// What to do when the catalog is damaged: the same words as docs/cli.md ("What to do if verify
// reports damage"), tested there.
inline constexpr char kCatalogAdvice[] =
    "the catalog is damaged: stop the server and run outpost repair (with --source "
    "CHANNEL=FOLDER for each channel imported from a folder), then start the server again";
// Prints `j` indented by 2, invalid UTF-8 replaced, and a newline.
void PrintJson(const nlohmann::json& j);
// "12.3 MB" (decimal megabytes).
std::string Megabytes(uint64_t bytes);

// A progress line on a terminal, redrawn at most 5 times a second; nothing when stderr is not a
// terminal (a script or a log).
class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine() { Done(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void Show(const std::string& text);
  // Clears the line (before printing anything else to the terminal).
  void Done();

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace outpost::cli
