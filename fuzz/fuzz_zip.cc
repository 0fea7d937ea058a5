// ZIP files (content/ ZipArchive): an HTML5 app a teacher imports, served entry by entry. The
// first byte is the length of an entry name that follows; the rest is the archive. Open and
// Read return a Status whatever the bytes; an entry read is never over the limit; a name
// IsSafeEntryPath accepts has no "..", no leading "/", no backslash and no NUL.
#include <string>

#include "fuzz_support.h"
#include "memfile.h"
#include "outpost/content/zip_archive.h"

using namespace outpost;
using namespace outpost::fuzz;

namespace {

constexpr size_t kMaxEntry = 1 << 20;

void CheckName(std::string_view name) {
  if (!IsSafeEntryPath(name)) return;
  FUZZ_CHECK(name.find('\0') == std::string_view::npos);
  FUZZ_CHECK(name.find('\\') == std::string_view::npos);
  FUZZ_CHECK(name.empty() || name[0] != '/');
  std::string padded = "/" + std::string(name) + "/";
  FUZZ_CHECK(padded.find("/../") == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  std::string name(in.TakeText(in.TakeByte()));
  CheckName(name);
  MemFile file(in.Rest());
  auto zip = ZipArchive::Open(file.path());
  if (!zip) return 0;
  for (const std::string& entry : {name, std::string("index.html"), std::string("a/b.txt")}) {
    auto bytes = (*zip)->Read(entry, kMaxEntry);
    if (bytes) FUZZ_CHECK(bytes->size() <= kMaxEntry);
  }
  return 0;
}
