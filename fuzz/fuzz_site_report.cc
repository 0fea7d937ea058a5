// DecodeSiteReport (sync/include/outpost/sync/site_report.h, docs/sync-protocol.md "Report"):
// what a site sends its hub by sync (record 17) and by stick (record 9). The first byte picks:
//   0  the rest as it is (a forged or damaged report: nearly always refused at its signature);
//   1  the rest as a report's body, its key (bytes 6 to 38) replaced by the fixed site key
//      (fuzz_keys.h, identity 4) and signed with it, so the fuzzer reaches every field; a report
//      it accepts encodes back to the same bytes (Ed25519 signatures are deterministic).
#include <string>

#include "fuzz_keys.h"
#include "fuzz_support.h"
#include "outpost/sync/site_report.h"

using namespace outpost;
using namespace outpost::fuzz;

namespace {

const Identity& Site() {
  static const Identity site = FixedIdentity(4);
  return site;
}

std::string Signed(std::string body) {
  const auto& key = Site().public_key().bytes;
  if (body.size() >= 38) body.replace(6, 32, std::string(key.begin(), key.end()));
  std::string text("outpost site report v1\0", 23);
  Signature sig = Site().Sign(text + body);
  return body + std::string(sig.begin(), sig.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  uint8_t mode = in.TakeByte();
  std::string rest(in.TakeText(size));
  if (mode % 2 == 0) {
    (void)DecodeSiteReport(rest);
    return 0;
  }
  std::string bytes = Signed(std::move(rest));
  auto report = DecodeSiteReport(bytes);
  if (!report) return 0;
  FUZZ_CHECK(report->site == Site().public_key());
  auto again = EncodeSiteReport(*report, Site());
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*again == bytes);
  return 0;
}
