#include "version_signing.h"

#include "outpost/sync/manifest.h"

namespace outpost {

namespace {

bool NeedsNewSignature(Catalog* catalog, const ChannelInfo& info, const TrustList& trust,
                       const PublicKey& publisher) {
  if (info.served_version == 0 || !info.manifest_hash) return false;
  if (SignedByATrustedKey(catalog, info.id, info.served_version, trust)) return false;
  if (!trust.Authorizes(publisher, info.id)) return false;
  auto signer = SignerOf(catalog, info.id, info.served_version);
  return signer && trust.Find(*signer);  // else a site's channel: not the root's
}

}  // namespace

std::optional<PublicKey> SignerOf(Catalog* catalog, const std::string& channel, int64_t version) {
  auto envelope = catalog->ManifestEnvelope(channel, version);
  if (!envelope) return std::nullopt;
  auto parts = ParseSignedManifest(*envelope);
  if (!parts) return std::nullopt;
  return parts->publisher;
}

Result<Hash> SignServedVersion(Catalog* catalog, const std::string& channel, int64_t version,
                               const Identity& publisher) {
  auto draft = catalog->LoadVersion(channel, version);
  if (!draft) return draft.error();
  auto envelope = SignManifest(*draft, static_cast<uint64_t>(version), publisher);
  if (!envelope) return envelope.error();
  auto parts = ParseSignedManifest(*envelope);
  if (!parts) return parts.error();
  Hash manifest_hash = Hash::Of(parts->manifest);
  OUTPOST_RETURN_IF_ERROR(catalog->AttachManifest(channel, version, *envelope, manifest_hash));
  return manifest_hash;
}

bool SignedByATrustedKey(Catalog* catalog, const std::string& channel, int64_t version,
                         const TrustList& trust) {
  auto signer = SignerOf(catalog, channel, version);
  return signer && trust.Authorizes(*signer, channel);
}

Result<int> ResignServedVersions(Catalog* catalog, const TrustList& trust,
                                 const Identity& publisher) {
  int resigned = 0;
  for (const ChannelInfo& info : catalog->Channels()) {
    if (!NeedsNewSignature(catalog, info, trust, publisher.public_key())) continue;
    auto hash = SignServedVersion(catalog, info.id, info.served_version, publisher);
    if (!hash) return hash.error().WithContext("signing " + info.id + " again");
    ++resigned;
  }
  return resigned;
}

}  // namespace outpost
