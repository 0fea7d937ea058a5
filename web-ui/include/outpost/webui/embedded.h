// The web-ui files compiled into the binary: templates, translation catalogs, CSS, JavaScript
// and pdf.js. web-ui/embed.cc generates the table at build time from the files under web-ui/
// (and pdf.js from node_modules/); the server reaches it through server/src/assets.h, which
// can also read the same logical paths from a folder on disk while developing.
//
// Logical paths: "templates/NAME.mustache", "i18n/CODE.json", "static/NAME.EXT" (pdf.js is
// "static/pdf.js" and "static/pdf.worker.js"), "box/NAME.mustache" (the Wi-Fi configuration
// templates of `outpost box wifi`, server/box_wifi.h; never served over HTTP).
//
// Thread-safety: constant data, initialised before main().
#pragma once

#include <span>
#include <string_view>

namespace outpost::webui {

struct EmbeddedFile {
  std::string_view path;   // logical path, e.g. "static/outpost.css"
  std::string_view bytes;  // the file's content
  std::string_view hash;   // BLAKE2b-256 of `bytes`, 64 lower-case hex digits
};

// Every embedded file, sorted by path.
std::span<const EmbeddedFile> EmbeddedFiles();

}  // namespace outpost::webui
