// Trust lists (docs/manifest.md, "Trust list"), as a hub, a relay or a stick hands them over.
// The first byte picks:
//   0  the bytes are a document, checked against the fixed root (VerifyTrustList, and the
//      unverified TrustListRoot and TrustListSequence, which must agree with it);
//   1  the bytes are what follows the root key, signed by the harness as the root: the strict
//      parser behind the signature. A list it accepts is canonical: signing it again gives
//      the same document (Ed25519 signatures are deterministic).
#include "fuzz_keys.h"
#include "fuzz_support.h"
#include "signing.h"

using namespace outpost;
using namespace outpost::fuzz;

namespace {

void CheckDocument(std::string_view doc, const Identity& root) {
  auto list = VerifyTrustList(doc, root.public_key());
  auto key = TrustListRoot(doc);
  auto sequence = TrustListSequence(doc);
  if (!list) return;
  FUZZ_CHECK(key.has_value() && *key == root.public_key() && list->root == *key);
  FUZZ_CHECK(sequence.has_value() && *sequence == list->sequence);
  FUZZ_CHECK(list->sequence > 0);
  auto again = SignTrustList(*list, root);
  FUZZ_CHECK(again.has_value() && *again == doc);
  for (const auto& e : list->entries) {
    for (const auto& c : e.channels) (void)list->Authorizes(e.publisher, c);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Identity root = FixedIdentity(1);
  Input in(data, size);
  uint8_t mode = in.TakeByte() % 2;
  std::string_view bytes = in.Rest();
  if (mode == 0) CheckDocument(bytes, root);
  if (mode == 1) CheckDocument(SignedDocument("OPTL", root, kTrustListDomain, bytes), root);
  return 0;
}
