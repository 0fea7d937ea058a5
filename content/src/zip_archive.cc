#include "outpost/content/zip_archive.h"

#include <minizip/unzip.h>

#include <cstring>

#include "outpost/base/text.h"

namespace outpost {

bool IsSafeEntryPath(std::string_view name) {
  if (name.empty() || name.size() > 1024 || name.front() == '/' || !IsValidUtf8(name)) return false;
  if (name.find('\\') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view segment = name.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    start = end + 1;
  }
  return true;
}

Result<std::unique_ptr<ZipArchive>> ZipArchive::Open(const std::filesystem::path& path) {
  unzFile handle = unzOpen64(path.c_str());
  if (!handle) return Corrupt(path.string() + " is not a readable ZIP file");
  return std::unique_ptr<ZipArchive>(new ZipArchive(handle));
}

ZipArchive::~ZipArchive() { unzClose(static_cast<unzFile>(handle_)); }

Result<std::string> ZipArchive::Read(const std::string& name, size_t max_size) {
  unzFile zip = static_cast<unzFile>(handle_);
  if (!IsSafeEntryPath(name) || unzLocateFile(zip, name.c_str(), /*case sensitive=*/1) != UNZ_OK) {
    return NotFound("no entry \"" + name + "\" in the archive");
  }
  unz_file_info64 info;
  if (unzGetCurrentFileInfo64(zip, &info, nullptr, 0, nullptr, 0, nullptr, 0) != UNZ_OK) {
    return Corrupt("cannot read the entry \"" + name + "\"");
  }
  if (info.uncompressed_size > max_size) {
    return InvalidArgument("the entry \"" + name + "\" is too large to serve");
  }
  if (unzOpenCurrentFile(zip) != UNZ_OK) return Corrupt("cannot open the entry \"" + name + "\"");
  std::string out;
  out.resize(static_cast<size_t>(info.uncompressed_size));
  size_t got = 0;
  for (;;) {
    char buf[65536];
    int n = unzReadCurrentFile(zip, buf, sizeof buf);
    if (n < 0) {
      unzCloseCurrentFile(zip);
      return Corrupt("the entry \"" + name + "\" is damaged");
    }
    if (n == 0) break;
    if (got + static_cast<size_t>(n) > out.size()) {
      unzCloseCurrentFile(zip);
      return Corrupt("the entry \"" + name + "\" is longer than the archive says");
    }
    std::memcpy(out.data() + got, buf, static_cast<size_t>(n));
    got += static_cast<size_t>(n);
  }
  // unzCloseCurrentFile checks the CRC once the whole entry has been read.
  if (unzCloseCurrentFile(zip) != UNZ_OK || got != out.size()) {
    return Corrupt("the entry \"" + name + "\" fails its checksum");
  }
  return out;
}

}  // namespace outpost
