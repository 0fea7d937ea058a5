// Manifests and their signed envelopes (docs/manifest.md), as a hub, a relay or a stick hands
// them over. The first byte picks:
//   0  the bytes are a manifest: DecodeManifest; what it accepts encodes back to the same bytes
//      (one manifest, one encoding), passes CheckManifestDraft, and hashes to its hash;
//   1  the bytes are an envelope: ParseSignedManifest re-encodes to them; VerifySignedManifest
//      (against a trust list that authorizes the fixed publisher) refuses it unless it decodes;
//   2  the bytes are a manifest the harness signs with the fixed publisher: the whole verify
//      path then accepts exactly what DecodeManifest accepts, and returns the same manifest.
#include <string>

#include "fuzz_keys.h"
#include "fuzz_support.h"
#include "outpost/sync/manifest.h"

using namespace outpost;
using namespace outpost::fuzz;

namespace {

struct Keys {
  Identity publisher = FixedIdentity(2);
  TrustList trust;
  Keys() {
    trust.root = FixedIdentity(1).public_key();
    trust.sequence = 1;
    trust.entries.push_back({publisher.public_key(), {std::string(kAllChannels)}, KeyState::kActive});
  }
};

void CheckManifest(std::string_view bytes) {
  auto m = DecodeManifest(bytes);
  if (!m) return;
  FUZZ_CHECK(CheckManifestDraft(m->draft, m->version).ok());
  FUZZ_CHECK(EncodeManifest(m->draft, m->version) == bytes);
  FUZZ_CHECK(m->hash == Hash::Of(bytes));
  FUZZ_CHECK(m->channel_id == m->draft.channel_id);
  (void)m->TotalBytes();
}

void CheckEnvelope(std::string_view bytes, const Keys& k) {
  auto parsed = ParseSignedManifest(bytes);
  auto verified = VerifySignedManifest(bytes, k.trust);
  if (!parsed) {
    FUZZ_CHECK(!verified.has_value());
    return;
  }
  FUZZ_CHECK(EncodeSignedManifest(*parsed) == bytes);
  if (verified) FUZZ_CHECK(DecodeManifest(parsed->manifest).has_value());
}

void CheckSigned(std::string_view manifest, const Keys& k) {
  SignedManifest envelope{std::string(manifest), k.publisher.public_key(), {}};
  std::string msg("outpost manifest v1\0", 20);  // docs/manifest.md, the signed message
  Hash h = Hash::Of(manifest);
  msg.append(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
  envelope.signature = k.publisher.Sign(msg);
  auto decoded = DecodeManifest(manifest);
  auto verified = VerifySignedManifest(EncodeSignedManifest(envelope), k.trust);
  FUZZ_CHECK(decoded.has_value() == verified.has_value());
  if (verified) FUZZ_CHECK(verified->hash == decoded->hash && verified->version == decoded->version);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Keys keys;
  Input in(data, size);
  uint8_t mode = in.TakeByte() % 3;
  std::string_view bytes = in.Rest();
  if (mode == 0) CheckManifest(bytes);
  if (mode == 1) CheckEnvelope(bytes, keys);
  if (mode == 2) CheckSigned(bytes, keys);
  return 0;
}
