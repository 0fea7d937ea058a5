// `outpost serve`: the learner web app over HTTP (HttpServer) and, with --sync-listen, the
// sync listener (SyncServer) for enrolled peers, until SIGINT or SIGTERM. `hub serve` (hub.h)
// runs the same with the listener required and the data folder required to be a hub.
#pragma once

#include <filesystem>
#include <string>

#include "common.h"

namespace outpost::cli {

struct ServeArgs {
  std::string listen;
  std::string config;
  std::string web_root;
  std::string portal_name;  // the captive portal's name (ServerConfig::portal_name)
  int threads = 0;
  std::string sync_listen;  // also answer syncs (a hub; a site relaying to its peers)
  bool hub = false;         // `hub serve`: this must be a hub
  int sync_max_sessions = 0;  // sync sessions at once (0: SessionLimits' default)
};

// Serves until stopped by a signal; the exit code.
int Serve(const std::filesystem::path& data, const ServeArgs& args);

void AddServeCommand(CLI::App& app, CommandTable& table);
// --sync-max-sessions, shared by `serve` and `hub serve`.
void AddSyncMaxSessionsOption(CLI::App* serve, ServeArgs* args);

}  // namespace outpost::cli
