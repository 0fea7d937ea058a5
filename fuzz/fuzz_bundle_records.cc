// The bodies of a bundle's records (sync/src/bundle/bundle_records.h, docs/bundle.md), as a
// co-recipient who knows a volume's stream key could write them. The first byte picks:
//   0  a Chunks record: DecodeChunkBatch; a batch it accepts encodes back to the same bytes;
//   1  a Receipt record: DecodeReceiptRecord; what it returns encodes to bytes that decode to
//      the same map;
//   2  an addressed record (recipient key, body), its body an Offer (as kOfferRecord carries);
//   3  an addressed record, its body a Receipt;
//   4  an addressed record, its body a Basis: what DecodeBasisRecord returns encodes to bytes
//      that decode to the same;
//   5  a Seen record: DecodeSeenRecord; what it accepts encodes back to the same bytes.
#include <string>

#include "bundle/bundle_records.h"
#include "fuzz_support.h"

using namespace outpost;
using namespace outpost::sync;
using namespace outpost::fuzz;

namespace {

void CheckChunks(std::string_view body) {
  auto batch = DecodeChunkBatch(body);
  if (!batch) return;
  wire::Writer w;
  w.U32(static_cast<uint32_t>(batch->size()));
  for (const auto& c : *batch) {
    if (c.stored) {
      FUZZ_CHECK(c.compressed.size() == c.length);
      AppendBundledChunk(&w, c.hash, c.compressed, std::nullopt);
    } else {  // the layout of bundle_records.h, for a zstd chunk of c.length bytes
      w.Raw(c.hash.bytes);
      w.U32(c.length);
      w.U8(1);
      w.String(c.compressed);
    }
  }
  FUZZ_CHECK(w.bytes() == body);
}

void CheckReceipt(std::string_view body) {
  auto served = DecodeReceiptRecord(body);
  if (!served) return;
  auto again = DecodeReceiptRecord(EncodeReceiptRecord(*served));
  FUZZ_CHECK(again.has_value() && *again == *served);
}

void CheckBasis(std::string_view body) {
  auto bases = DecodeBasisRecord(body);
  if (!bases) return;
  auto again = DecodeBasisRecord(EncodeBasisRecord(*bases));
  FUZZ_CHECK(again.has_value() && again->size() == bases->size());
  for (const auto& [id, base] : *bases) {
    auto other = again->find(id);
    FUZZ_CHECK(other != again->end() && other->second.version == base.version &&
               other->second.bundle_id == base.bundle_id && other->second.written_at == base.written_at);
  }
}

void CheckSeen(std::string_view body) {
  auto seen = DecodeSeenRecord(body);
  if (seen) FUZZ_CHECK(EncodeSeenRecord(*seen) == body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  uint8_t which = in.TakeByte() % 6;
  std::string_view body = in.Rest();
  if (which == 0) CheckChunks(body);
  if (which == 1) CheckReceipt(body);
  if (which == 5) CheckSeen(body);
  if (which >= 2 && which <= 4) {
    auto addressed = ReadAddressed(body);
    if (!addressed) return 0;
    FUZZ_CHECK(AddressedRecord(addressed->to, addressed->body) == body);
    if (which == 2) {
      auto offer = DecodeOffer(addressed->body);
      if (offer) FUZZ_CHECK(EncodeOffer(*offer) == addressed->body);
    } else if (which == 3) {
      CheckReceipt(addressed->body);
    } else {
      CheckBasis(addressed->body);
    }
  }
  return 0;
}
