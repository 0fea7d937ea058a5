// ServerConfig: how `outpost serve` listens and serves. Defaults here; a TOML file
// (docs/cli.md, "Server settings") overrides them; command-line flags override the file.
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "outpost/base/status.h"

namespace outpost {

struct ServerConfig {
  std::string host = "0.0.0.0";   // every interface
  int port = 8080;
  // Connections are held by event loops, `io_threads` of them (0: one per core), whatever
  // their number; files and web-ui assets are answered there. Pages, searches and exercises
  // run on `threads` workers, so a slow search never holds up a video's next range.
  int io_threads = 0;
  int threads = 16;
  int max_connections = 2048;     // open at once; more are answered 503 and closed
  int max_connections_per_address = 64;  // open at once from one client address; more: 503
  int keep_alive_seconds = 5;     // idle keep-alive connections close after this
  int keep_alive_max_requests = 1000;  // nginx's keepalive_requests
  int read_timeout_seconds = 10;  // a stalled client is dropped after this
  int write_timeout_seconds = 30;
  uint64_t max_request_body = 1 << 20;
  uint64_t max_body_bytes_per_address = 16 << 20;  // bodies held at once from one address
  int max_target_bytes = 8192;    // request line's URL (else 414)
  int max_header_bytes = 32 * 1024;  // the whole request head (else 431)
  int max_headers = 100;          // header lines (else 431)
  int max_searches = 2;           // searches running at once; more wait briefly, then "busy"
  int search_wait_ms = 300;       // how long a search waits for its turn
  int max_upload_mb = 4096;       // the largest file a teacher may upload (tus's Tus-Max-Size)
  int upload_reserve_mb = 512;    // uploads never take the data disk below this much free
  std::string web_root;           // serve web-ui files from this folder (development)
  // Count resource pages opened, per resource per day, in DATA/usage.db (docs/usage.md).
  bool count_views = true;
  // Where the console looks for removable drives (drives.h): "" for the system's own
  // /proc/self/mounts, /sys/block and /dev/disk/by-label; else those paths under this folder,
  // so tests can stand a folder in for a stick.
  std::string drives_root;
  // On a hub: the folder whose subfolders the hub console may publish ("": DATA/publish). The
  // console names a subfolder; it never takes a path (docs/hub-console.md).
  std::string publish_root;
  // The box's name on its own Wi-Fi ("outpost.lan", `outpost box wifi`): a request for any
  // other name is redirected to http://NAME/ (the captive portal: docs/wifi.md). "": none.
  std::string portal_name;

  // Parses "ADDR:PORT", ":PORT", "PORT" or "[v6]:PORT" into host and port.
  Status SetListen(const std::string& listen);
  std::string Listen() const { return host + ":" + std::to_string(port); }
};

// Reads a TOML file into `config` (keys it does not set keep their values). An unknown key or a
// value of the wrong type is an error naming the file and line.
Status LoadServerConfig(const std::filesystem::path& file, ServerConfig* config);

}  // namespace outpost
