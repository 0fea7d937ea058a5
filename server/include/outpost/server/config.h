// ServerConfig: how `outpost serve` listens and serves. Defaults here; a TOML file
// (docs/cli.md, "Server settings") overrides them; command-line flags override the file.
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "outpost/content/status.h"

namespace outpost {

struct ServerConfig {
  std::string host = "0.0.0.0";   // every interface
  int port = 8080;
  // Worker threads. cpp-httplib gives each open connection a thread while it is served and
  // while it idles in keep-alive, so this bounds the phones served at once: 200 phones with
  // keep-alive connections need 200+ threads (they cost little memory: stacks are touched
  // lightly). Idle connections give their thread back after keep_alive_seconds.
  int threads = 256;
  int keep_alive_seconds = 5;     // idle keep-alive connections close after this
  int keep_alive_max_requests = 100;
  int read_timeout_seconds = 10;  // a stalled client is dropped after this
  int write_timeout_seconds = 30;
  uint64_t max_request_body = 1 << 20;
  int max_searches = 2;           // searches running at once; more wait briefly, then "busy"
  int search_wait_ms = 300;       // how long a search waits for its turn
  std::string web_root;           // serve web-ui files from this folder (development)

  // Parses "ADDR:PORT", ":PORT", "PORT" or "[v6]:PORT" into host and port.
  Status SetListen(const std::string& listen);
  std::string Listen() const { return host + ":" + std::to_string(port); }
};

// Reads a TOML file into `config` (keys it does not set keep their values). An unknown key or a
// value of the wrong type is an error naming the file and line.
Status LoadServerConfig(const std::filesystem::path& file, ServerConfig* config);

}  // namespace outpost
