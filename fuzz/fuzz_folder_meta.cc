// outpost.toml, the folder metadata the importer reads from a channel folder (content/
// metadata.h, docs/channel-format.md). The first byte says whether it is the root folder's
// file; the rest is the text. ParseFolderMeta returns a value or an error naming the file;
// a [channel] table is accepted only at the root.
#include <string>

#include "fuzz_support.h"
#include "outpost/content/metadata.h"

using namespace outpost;
using namespace outpost::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  bool is_root = in.TakeByte() & 1;
  auto meta = ParseFolderMeta(in.Rest(), "outpost.toml", is_root);
  if (!meta) {
    FUZZ_CHECK(meta.error().message().find("outpost.toml") != std::string::npos);
    return 0;
  }
  if (!is_root) FUZZ_CHECK(!meta->channel_id.has_value());
  return 0;
}
