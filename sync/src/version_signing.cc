#include "version_signing.h"

#include <spdlog/spdlog.h>

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

// Who signed a version, as a new trust list sees it.
enum class Signed { kNotByAPublisher, kByATrustedKey, kByAnUntrustedKey };

Signed Judge(Catalog* catalog, const std::string& channel, int64_t version, const TrustList& trust,
             const PublicKey& self) {
  auto signer = SignerOf(catalog, channel, version);
  if (!signer || *signer == self) return Signed::kNotByAPublisher;
  return trust.Authorizes(*signer, channel) ? Signed::kByATrustedKey : Signed::kByAnUntrustedKey;
}

// The versions of one channel that `trust` withdraws, and what the channel serves then.
Result<std::vector<Withdrawal>> WithdrawFromChannel(Catalog* catalog, const ChannelInfo& info,
                                                    const TrustList& trust, const PublicKey& self) {
  std::vector<Withdrawal> out;
  std::vector<int64_t> withdrawn;
  int64_t served = info.served_version, newest_trusted = 0;
  for (int64_t version : catalog->Versions(info.id)) {  // newest first
    Signed how = Judge(catalog, info.id, version, trust, self);
    if (how == Signed::kByAnUntrustedKey) {
      withdrawn.push_back(version);
      out.push_back({info.id, version, *SignerOf(catalog, info.id, version), 0});
      if (version == served) served = 0;
    } else if (how == Signed::kByATrustedKey && newest_trusted == 0) {
      newest_trusted = version;
    }
  }
  if (withdrawn.empty()) return out;
  if (served == 0) served = newest_trusted;
  OUTPOST_RETURN_IF_ERROR(catalog->WithdrawVersions(info.id, withdrawn, served));
  for (Withdrawal& w : out) {
    w.now_served = served;
    spdlog::warn("sync: {}", w.Describe());
  }
  return out;
}

}  // namespace

std::string Withdrawal::Describe() const {
  std::string what = channel_id + " version " + std::to_string(version) +
                     " withdrawn: the trust list no longer lets its signer " +
                     signer.Fingerprint() + "… sign it; ";
  if (now_served == 0) {
    return what + "the channel is hidden from learners until a version signed by a trusted key "
                  "arrives";
  }
  return what + "learners see version " + std::to_string(now_served);
}

Result<std::vector<Withdrawal>> WithdrawUntrustedVersions(Catalog* catalog, const TrustList& trust,
                                                          const PublicKey& self) {
  std::vector<Withdrawal> out;
  for (const ChannelInfo& info : catalog->Channels()) {
    auto withdrawn = WithdrawFromChannel(catalog, info, trust, self);
    if (!withdrawn) return withdrawn.error().WithContext("withdrawing versions of " + info.id);
    out.insert(out.end(), withdrawn->begin(), withdrawn->end());
  }
  return out;
}

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
