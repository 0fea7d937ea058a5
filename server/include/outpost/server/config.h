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
  int threads = 32;               // worker threads; each keep-alive connection holds one
  int keep_alive_seconds = 5;     // idle keep-alive connections close after this
  int keep_alive_max_requests = 100;
  int read_timeout_seconds = 10;  // a stalled client is dropped after this
  int write_timeout_seconds = 30;
  uint64_t max_request_body = 1 << 20;

  // Parses "ADDR:PORT", ":PORT", "PORT" or "[v6]:PORT" into host and port.
  Status SetListen(const std::string& listen);
  std::string Listen() const { return host + ":" + std::to_string(port); }
};

// Reads a TOML file into `config` (keys it does not set keep their values). An unknown key or a
// value of the wrong type is an error naming the file and line.
Status LoadServerConfig(const std::filesystem::path& file, ServerConfig* config);

}  // namespace outpost
