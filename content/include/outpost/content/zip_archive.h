// ZipArchive: reads single entries of a ZIP file in place (an HTML5 app stored as one blob), so
// the server can serve an app's files without unpacking anything to disk. Built on minizip.
//
// Entry names are looked up exactly as given; IsSafeEntryPath() says whether a requested name
// is one a server may look up at all (no "..", no absolute path, no backslash, no NUL, valid
// UTF-8), so no path inside a zip can reach outside it.
//
// Thread-safety: a ZipArchive is used by one thread at a time (open one per request).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "outpost/base/status.h"

namespace outpost {

bool IsSafeEntryPath(std::string_view name);

class ZipArchive {
 public:
  static Result<std::unique_ptr<ZipArchive>> Open(const std::filesystem::path& path);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  // The bytes of entry `name`: kNotFound if there is none (or it is a folder),
  // kInvalidArgument if it is larger than `max_size`, kCorrupt if it does not inflate.
  Result<std::string> Read(const std::string& name, size_t max_size = 32u << 20);

 private:
  explicit ZipArchive(void* handle) : handle_(handle) {}
  void* handle_;  // unzFile
};

}  // namespace outpost
