// The sync protocol's records (sync/src/protocol.h) as a peer sends them: the first byte picks
// the decoder (Hello, Error, Offer, Accept, GetChunks/Missing, Chunk, GetPatch, Patch, Receipt,
// HubInfo, Enrol, Enrolled), the rest is the body. A decoder returns a value or an error; a
// value it returns encodes to bytes that decode again and encode to the same bytes (one
// message, one encoding), and for these strict decoders those bytes are the input itself
// (HubInfo's protocol number aside, which its decoder does not return).
#include <string>

#include "fuzz_support.h"
#include "protocol.h"

using namespace outpost;
using namespace outpost::sync;
using namespace outpost::fuzz;

namespace {

constexpr size_t kMaxHashes = 4096;

// decode(b) ok => encode(decode(b)) == b, and it decodes again.
template <typename Decode, typename Encode>
void RoundTrip(std::string_view body, Decode decode, Encode encode) {
  auto first = decode(body);
  if (!first) return;
  std::string again = encode(*first);
  FUZZ_CHECK(again == body);
  auto second = decode(again);
  FUZZ_CHECK(second.has_value());
  FUZZ_CHECK(encode(*second) == again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  uint8_t which = in.TakeByte();
  std::string_view b = in.Rest();
  switch (which % 13) {
    case 0: RoundTrip(b, DecodeHello, EncodeHello); break;
    case 1: RoundTrip(b, DecodeError, EncodeError); break;
    case 2: RoundTrip(b, DecodeOffer, EncodeOffer); break;
    case 3: RoundTrip(b, DecodeAccept, EncodeAccept); break;
    case 4:
      RoundTrip(b, [](std::string_view s) { return DecodeHashes(s, kMaxHashes); }, EncodeHashes);
      break;
    case 5: RoundTrip(b, DecodeChunk, EncodeChunk); break;
    case 6:
      RoundTrip(b, DecodeGetPatch, [](const auto& p) { return EncodeGetPatch(p.first, p.second); });
      break;
    case 7: RoundTrip(b, DecodePatch, EncodePatch); break;
    case 8: RoundTrip(b, DecodeReceipt, EncodeReceipt); break;
    case 9: {  // the protocol number is read and not returned: compare the key after it
      auto key = DecodeHubInfo(b);
      if (key) FUZZ_CHECK(EncodeHubInfo(*key).substr(2) == b.substr(2));
      break;
    }
    case 10: RoundTrip(b, DecodeEnrol, EncodeEnrol); break;
    case 11: RoundTrip(b, DecodeEnrolled, EncodeEnrolled); break;
    case 12: RoundTrip(b, DecodeOutcomes, EncodeOutcomes); break;
  }
  return 0;
}
