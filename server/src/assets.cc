#include "assets.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "outpost/base/hash.h"
#include "outpost/webui/embedded.h"

namespace outpost {

namespace {

bool PlainRelativePath(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.find("..") != std::string_view::npos) return false;
  return std::all_of(p.begin(), p.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == '/';
  });
}

const webui::EmbeddedFile* FindEmbedded(std::string_view path) {
  auto files = webui::EmbeddedFiles();
  auto it =
      std::lower_bound(files.begin(), files.end(), path,
                       [](const webui::EmbeddedFile& f, std::string_view p) { return f.path < p; });
  return it != files.end() && it->path == path ? &*it : nullptr;
}

std::optional<std::string> ReadFile(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(ss).str();
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string AssetMimeType(std::string_view path) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".mustache", "text/plain; charset=utf-8"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (path.ends_with(ext)) return std::string(type);
  }
  return "application/octet-stream";
}

Assets Assets::Embedded() { return Assets({}); }

Assets Assets::FromDisk(std::filesystem::path web_root) { return Assets(std::move(web_root)); }

std::optional<AssetFile> Assets::Get(std::string_view path) const {
  if (!PlainRelativePath(path)) return std::nullopt;
  AssetFile out;
  out.path = std::string(path);
  out.mime = AssetMimeType(path);
  if (from_disk()) {
    if (auto bytes = ReadFile(web_root_ / out.path)) {
      out.owned = std::make_shared<const std::string>(std::move(*bytes));
      out.bytes = *out.owned;
      out.hash = Hash::Of(out.bytes).Hex();
      return out;
    }
  }
  const webui::EmbeddedFile* f = FindEmbedded(path);
  if (!f) return std::nullopt;
  out.bytes = f->bytes;
  out.hash = std::string(f->hash);
  return out;
}

std::vector<std::string> Assets::List(std::string_view prefix) const {
  std::set<std::string> paths;
  for (const auto& f : webui::EmbeddedFiles()) {
    if (f.path.starts_with(prefix)) paths.emplace(f.path);
  }
  if (from_disk()) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(web_root_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string rel = it->path().lexically_relative(web_root_).generic_string();
      if (rel.starts_with(prefix) && PlainRelativePath(rel)) paths.insert(rel);
    }
  }
  return {paths.begin(), paths.end()};
}

std::string Assets::StaticUrl(std::string_view name) const {
  auto file = Get("static/" + std::string(name));
  if (!file) return "";
  size_t dot = name.rfind('.');
  std::string stem(name.substr(0, dot)), ext(dot == std::string_view::npos ? "" : name.substr(dot));
  return "/static/" + stem + "." + file->hash.substr(0, kUrlHashDigits) + ext;
}

std::optional<AssetFile> Assets::ResolveStatic(std::string_view url_path) const {
  if (url_path.starts_with("/static/")) url_path.remove_prefix(8);
  // NAME.HASH.EXT or NAME.HASH
  size_t ext_dot = url_path.rfind('.');
  if (ext_dot == std::string_view::npos) return std::nullopt;
  std::string_view ext = url_path.substr(ext_dot);
  std::string_view rest = url_path.substr(0, ext_dot);
  size_t hash_dot = rest.rfind('.');
  if (hash_dot == std::string_view::npos) {  // NAME.HASH: a file without extension
    hash_dot = ext_dot;
    rest = url_path;
    ext = {};
  }
  std::string_view hash = rest.substr(hash_dot + 1);
  std::string_view stem = rest.substr(0, hash_dot);
  if (stem.empty() || hash.size() != kUrlHashDigits || !IsHex(hash)) return std::nullopt;
  auto file = Get("static/" + std::string(stem) + std::string(ext));
  if (!file || !file->hash.starts_with(hash)) return std::nullopt;
  return file;
}

nlohmann::json Assets::FrameUrls() const {
  return {{"css", StaticUrl("outpost.css")},
          {"js", StaticUrl("outpost.js")},
          {"teach_css", StaticUrl("teach.css")},
          {"teach_js", StaticUrl("teach.js")},
          {"pdfjs", StaticUrl("pdf.js")},
          {"pdfjs_worker", StaticUrl("pdf.worker.js")}};
}

}  // namespace outpost
