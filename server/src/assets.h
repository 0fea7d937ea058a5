// Assets: the web-ui files (templates, translation catalogs, CSS, JavaScript, pdf.js) by their
// logical path: "templates/topic.mustache", "i18n/fr.json", "static/outpost.css".
//
// A box serves the copies compiled into the binary (web-ui/embed.cc). A developer passes
// `--web-root DIR` (DIR being the web-ui folder of a checkout) and every lookup reads the file
// from DIR again, so an edited template or style shows at the next reload; a file not found
// under DIR still comes from the binary (that is how pdf.js, which lives in node_modules/, is
// found in that mode).
//
// Static files are served under content-hashed URLs, "/static/NAME.HASH.EXT" (HASH: the first
// 12 hex digits of the BLAKE2b-256 of the bytes), cached by browsers for a year:
// StaticUrl("outpost.css") gives the URL, ResolveStatic() maps a requested URL back to the
// file, and only while HASH is the file's current hash (a stale or made-up URL is nullopt).
//
// Thread-safety: immutable after construction; every method may be called from any thread.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outpost {

struct AssetFile {
  std::string path;                          // logical path, "static/outpost.css"
  std::string_view bytes;                    // valid while this AssetFile (its `owned` copy) lives
  std::string hash;                          // BLAKE2b-256 of bytes, 64 hex digits: a strong ETag
  std::string mime;                          // "text/css; charset=utf-8", ...
  std::shared_ptr<const std::string> owned;  // the bytes when read from disk
};

class Assets {
 public:
  static constexpr size_t kUrlHashDigits = 12;

  // The files compiled into the binary.
  static Assets Embedded();
  // Files under `web_root` (a web-ui folder), read again on every lookup, falling back to the
  // embedded ones.
  static Assets FromDisk(std::filesystem::path web_root);

  bool from_disk() const { return !web_root_.empty(); }

  // The file at `path`, or nullopt when there is none (or `path` is not a plain relative path
  // of letters, digits, '.', '-', '_' and '/' without "..").
  std::optional<AssetFile> Get(std::string_view path) const;
  // Logical paths starting with `prefix` ("i18n/"), sorted, without duplicates.
  std::vector<std::string> List(std::string_view prefix) const;

  // "/static/outpost.0123456789ab.css" for static file "outpost.css"; empty if there is none.
  std::string StaticUrl(std::string_view name) const;
  // The static file a URL path names: "/static/outpost.0123456789ab.css" (or without the
  // "/static/" prefix). nullopt for an unknown file or a hash that is not the current one.
  std::optional<AssetFile> ResolveStatic(std::string_view url_path) const;

  // The frame's "assets" object (docs/web-api.md): {css, js, teach_css, teach_js, pdfjs,
  // pdfjs_worker}.
  nlohmann::json FrameUrls() const;

 private:
  explicit Assets(std::filesystem::path web_root) : web_root_(std::move(web_root)) {}

  std::filesystem::path web_root_;  // empty: embedded only
};

// Content type for a file name's extension; "application/octet-stream" if unknown.
std::string AssetMimeType(std::string_view path);

}  // namespace outpost
