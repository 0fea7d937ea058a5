// The enrolment file (`outpost join --from FILE`, docs/sync.md "Enrolment file"): a stick
// anyone may have handed over. The first byte picks:
//   0  the bytes are the file: DecodeEnrolment;
//   1  the bytes are what follows the hub key, signed by the harness as the (fixed) hub: the
//      strict parser behind the signature; the trust list inside still has to verify against
//      the root key it names (seeds carry one signed by the fixed root).
// A file it accepts is canonical: EncodeEnrolment of what it returned gives the same bytes.
#include "fuzz_keys.h"
#include "fuzz_support.h"
#include "outpost/sync/enrolment.h"
#include "signing.h"

using namespace outpost;
using namespace outpost::fuzz;

namespace {

void CheckFile(std::string_view bytes, const Identity& hub) {
  auto file = DecodeEnrolment(bytes);
  if (!file) return;
  FUZZ_CHECK(file->trust.root == file->pin.root_key);
  if (file->pin.node_key != hub.public_key()) return;  // only the fixed hub can sign it again
  auto again = EncodeEnrolment(file->pin, file->trust_list, hub);
  FUZZ_CHECK(again.has_value() && *again == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Identity hub = FixedIdentity(3);
  Input in(data, size);
  uint8_t mode = in.TakeByte() % 2;
  std::string_view bytes = in.Rest();
  if (mode == 0) CheckFile(bytes, hub);
  if (mode == 1) CheckFile(SignedDocument("OPEF", hub, kEnrolmentDomain, bytes), hub);
  return 0;
}
