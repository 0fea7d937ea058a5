// Sniffing: what kind of resource a file is, from its first bytes and its name, and what an
// HTML page says about itself (title, language, visible text for search).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "outpost/content/catalog.h"

namespace outpost {

struct KindGuess {
  NodeKind kind = NodeKind::kOther;
  bool asset = false;  // style sheets, scripts, fonts: served but not listed
  std::string mime;    // "text/html; charset=utf-8", "application/pdf", ...
};

// How many leading bytes DetectKind wants to see.
inline constexpr size_t kSniffBytes = 512;

// `head` is the start of the file (up to kSniffBytes). Content wins over the extension where
// the content is unambiguous (a PDF named .txt is a document). ZIP files are reported as kOther
// here; the importer asks ZipHasIndexHtml() to tell an HTML5 app from a plain archive.
KindGuess DetectKind(std::string_view file_name, std::span<const uint8_t> head);

// True if the ZIP file at `path` has "index.html" at its top level (reads only the central
// directory). False for anything that is not a readable ZIP.
bool ZipHasIndexHtml(const std::filesystem::path& path);

struct HtmlInfo {
  std::string title;     // of <title>, entities decoded, whitespace collapsed
  std::string language;  // of <html lang="...">
  std::string text;      // visible text: no tags, scripts, styles or comments
};

// A forgiving scan (not a full HTML parser): enough for titles and search text. `max_text`
// caps the visible text kept.
HtmlInfo ParseHtml(std::string_view html, size_t max_text = 64 * 1024);

}  // namespace outpost
