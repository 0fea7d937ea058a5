#include "outpost/server/config.h"

#include "outpost/server/box_wifi.h"

#include <sstream>
#include <toml++/toml.h>

namespace outpost {

Status ServerConfig::SetListen(const std::string& listen) {
  std::string h = host, p = listen;
  size_t colon = listen.rfind(':');
  if (colon != std::string::npos) {
    h = listen.substr(0, colon);
    p = listen.substr(colon + 1);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (h.empty()) h = "0.0.0.0";
  }
  char* end = nullptr;
  long v = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end != '\0' || v < 0 || v > 65535) {
    return InvalidArgument("\"" + listen + "\" is not ADDR:PORT (for example 0.0.0.0:8080)");
  }
  host = h;
  port = static_cast<int>(v);
  return Status::Ok();
}

Status LoadServerConfig(const std::filesystem::path& file, ServerConfig* config) {
  toml::table t;
  try {
    t = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << file.string() << ":" << e.source().begin.line << ": " << e.description();
    return InvalidArgument(out.str());
  }
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    std::string where = file.string() + ":" + std::to_string(v.source().begin.line) + ": ";
    if (key == "web_root") {
      auto s = v.value<std::string>();
      if (!s) return InvalidArgument(where + "\"web_root\" must be a folder path");
      config->web_root = *s;
      continue;
    }
    if (key == "drives_root") {
      auto s = v.value<std::string>();
      if (!s) return InvalidArgument(where + "\"drives_root\" must be a folder path");
      config->drives_root = *s;
      continue;
    }
    if (key == "publish_root") {
      auto s = v.value<std::string>();
      if (!s || s->empty()) return InvalidArgument(where + "\"publish_root\" must be a folder path");
      config->publish_root = *s;
      continue;
    }
    if (key == "portal_name") {
      auto s = v.value<std::string>();
      if (!s || !CheckDnsName(*s).ok()) {
        return InvalidArgument(where + "\"portal_name\" must be a DNS name like \"outpost.lan\"");
      }
      config->portal_name = *s;
      continue;
    }
    if (key == "listen") {
      auto s = v.value<std::string>();
      if (!s) return InvalidArgument(where + "\"listen\" must be a string like \"0.0.0.0:8080\"");
      OUTPOST_RETURN_IF_ERROR(config->SetListen(*s));
      continue;
    }
    if (key == "count_views") {
      auto b = v.value<bool>();
      if (!v.is_boolean() || !b) return InvalidArgument(where + "\"count_views\" must be true or false");
      config->count_views = *b;
      continue;
    }
    int* field = nullptr;
    if (key == "threads") field = &config->threads;
    else if (key == "io_threads") field = &config->io_threads;
    else if (key == "max_connections") field = &config->max_connections;
    else if (key == "max_connections_per_address") field = &config->max_connections_per_address;
    else if (key == "keep_alive_seconds") field = &config->keep_alive_seconds;
    else if (key == "keep_alive_max_requests") field = &config->keep_alive_max_requests;
    else if (key == "read_timeout_seconds") field = &config->read_timeout_seconds;
    else if (key == "write_timeout_seconds") field = &config->write_timeout_seconds;
    else if (key == "max_searches") field = &config->max_searches;
    else if (key == "search_wait_ms") field = &config->search_wait_ms;
    else if (key == "max_upload_mb") field = &config->max_upload_mb;
    else if (key == "upload_reserve_mb") field = &config->upload_reserve_mb;
    if (!field) return InvalidArgument(where + "unknown setting \"" + key + "\"");
    auto n = v.value<int64_t>();
    if (!v.is_integer() || !n || *n < 1 || *n > 4096) {
      return InvalidArgument(where + "\"" + key + "\" must be a whole number from 1 to 4096");
    }
    *field = static_cast<int>(*n);
  }
  return Status::Ok();
}

}  // namespace outpost
