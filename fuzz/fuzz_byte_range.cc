// Range headers (server/src/http/byte_range.h) against a resource whose size is the first 8
// bytes (big-endian, but mostly small so that the interesting edges come up). A partial range
// lies inside the resource; Length and ContentRange agree with the kind; and asking again for
// exactly the range that came out gives the same range.
#include <string>

#include "http/byte_range.h"
#include "fuzz_support.h"

using namespace outpost;
using namespace outpost::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  uint64_t resource = 0;
  uint8_t width = in.TakeByte() % 9;  // how many bytes of size follow: 0 to 8
  for (uint8_t i = 0; i < width; ++i) resource = (resource << 8) | in.TakeByte();
  std::string_view header = in.Rest();
  ByteRange r = ByteRange::Parse(header, resource);
  std::string content_range = r.ContentRange(resource);
  switch (r.kind) {
    case ByteRange::Kind::kFull:
      FUZZ_CHECK(r.Length(resource) == resource && content_range.empty());
      break;
    case ByteRange::Kind::kUnsatisfiable:
      FUZZ_CHECK(r.Length(resource) == 0);
      FUZZ_CHECK(content_range == "bytes */" + std::to_string(resource));
      break;
    case ByteRange::Kind::kPartial: {
      FUZZ_CHECK(r.first <= r.last && r.last < resource);
      FUZZ_CHECK(r.Length(resource) == r.last - r.first + 1);
      std::string span = std::to_string(r.first) + "-" + std::to_string(r.last);
      FUZZ_CHECK(content_range == "bytes " + span + "/" + std::to_string(resource));
      FUZZ_CHECK(ByteRange::Parse("bytes=" + span, resource) == r);
      break;
    }
  }
  return 0;
}
