// Enrolment: a hub's one-time codes handed out by `hub enrol`, and the enrolment file ("OPEF",
// docs/sync.md byte for byte) that carries one to a site that has never been online, with the
// hub's keys, address and trust list, signed by the hub's node key. A site trusts the file's
// node key on first use, as it would a code typed with the hub's address.
#include "outpost/sync/enrolment.h"

#include <sodium.h>

#include <array>
#include <optional>
#include <utility>

#include "outpost/base/env.h"
#include "outpost/base/file.h"
#include "outpost/base/text.h"
#include "outpost/sync/trust_store.h"
#include "wire.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kEnrolMagic = "OPEF";
constexpr std::string_view kEnrolDomain{"outpost enrolment v1\0", 21};
constexpr size_t kMaxSiteNameBytes = 64;
constexpr size_t kMaxAddressBytes = 261;  // "[" 253 "]:" 5
constexpr size_t kCodeBytes = 19;         // "abcd-efgh-jkmn-pqrs"
constexpr size_t kMaxEnrolmentBytes = kMaxTrustListBytes + 1024;
// The message the seal seed is BLAKE2b-256 of, keyed with a code's psk (docs/sync.md).
constexpr std::string_view kSealDomain = "outpost enrol seal v1";

std::string EnrolSigningMessage(std::string_view body) {
  Hash h = Hash::Of(body);
  std::string message(kEnrolDomain);
  message.append(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
  return message;
}

Status CheckPinFields(const HubPin& pin) {
  if (!pin.address.empty() && !IsValidSyncAddress(pin.address)) {
    return InvalidArgument("\"" + EscapeInvalidUtf8(pin.address) + "\" is not HOST:PORT");
  }
  if (!IsValidSiteName(pin.site_name)) {
    return InvalidArgument("site name \"" + EscapeInvalidUtf8(pin.site_name) + "\" is not valid");
  }
  if (NormalizeEnrolCode(pin.pending_code) != pin.pending_code) {
    return InvalidArgument("an enrolment file needs a code written like abcd-efgh-jkmn-pqrs");
  }
  return Status::Ok();
}

// The address, the site name and the code, each checked as it is read.
Status ReadPinStrings(wire::Reader* r, HubPin* pin) {
  size_t at = r->offset();
  OUTPOST_RETURN_IF_ERROR(r->String(&pin->address, kMaxAddressBytes, "the address"));
  if (!pin->address.empty() && !IsValidSyncAddress(pin->address)) {
    return r->Bad(at, "the address is not HOST:PORT");
  }
  at = r->offset();
  OUTPOST_RETURN_IF_ERROR(r->String(&pin->site_name, kMaxSiteNameBytes, "the site name"));
  if (!IsValidSiteName(pin->site_name)) return r->Bad(at, "the site name is not valid");
  at = r->offset();
  OUTPOST_RETURN_IF_ERROR(r->String(&pin->pending_code, kCodeBytes, "the code"));
  if (NormalizeEnrolCode(pin->pending_code) != pin->pending_code) {
    return r->Bad(at, "the code is not written like abcd-efgh-jkmn-pqrs");
  }
  return Status::Ok();
}

// The fields after the node key, read from the signed body.
Status ReadEnrolmentBody(wire::Reader* r, Enrolment* out) {
  OUTPOST_RETURN_IF_ERROR(r->Raw(out->pin.root_key.bytes, "the root key"));
  OUTPOST_RETURN_IF_ERROR(ReadPinStrings(r, &out->pin));
  size_t at = r->offset();
  uint32_t length = 0;
  OUTPOST_RETURN_IF_ERROR(r->U32(&length, "the trust list's length"));
  if (length > kMaxTrustListBytes) return r->Bad(at, "the trust list is longer than 1 MiB");
  std::string_view list;
  OUTPOST_RETURN_IF_ERROR(r->Raw(length, &list, "the trust list"));
  out->trust_list.assign(list);
  return r->ExpectEnd();
}

// Everything an enrolment file needs from the hub, read before a code exists.
struct FileInputs {
  Identity node;
  std::string trust_list;
};

Result<FileInputs> ReadFileInputs(const NodePaths& paths) {
  auto node = LoadIdentity(paths.node_key);
  if (!node) return node.error();
  auto trust_list = ReadWholeFile(paths.trust_list, kMaxTrustListBytes);
  if (!trust_list) return trust_list.error();
  return FileInputs{std::move(*node), std::move(*trust_list)};
}

Status CheckRequest(const EnrolRequest& request) {
  if (!IsValidSiteName(request.site_name)) {
    return InvalidArgument("site name \"" + EscapeInvalidUtf8(request.site_name) +
                           "\" must be 1 to 64 characters of a-z, 0-9 and '-', not starting "
                           "with '-'");
  }
  if (request.ttl_seconds <= 0) return InvalidArgument("a code must be valid for some time");
  return Status::Ok();
}

}  // namespace

Result<Identity> EnrolSealIdentity(const noise::Psk& psk) {
  if (!InitCrypto()) return Internal("libsodium could not initialise");
  std::array<uint8_t, 32> seed{};
  crypto_generichash(seed.data(), seed.size(), reinterpret_cast<const uint8_t*>(kSealDomain.data()),
                     kSealDomain.size(), psk.data(), psk.size());
  auto identity = Identity::FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return identity;
}

Result<Identity> EnrolSealIdentityOfCode(std::string_view code) {
  auto keys = DeriveEnrolCodeKeys(code);
  if (!keys) return InvalidArgument("that is not an enrolment code");
  auto identity = EnrolSealIdentity(keys->psk);
  sodium_memzero(keys->psk.data(), keys->psk.size());
  return identity;
}

Result<std::string> EncodeEnrolment(const HubPin& pin, std::string_view trust_list,
                                    const Identity& hub_node) {
  if (pin.node_key != hub_node.public_key()) {
    return InvalidArgument("the pin names hub key " + pin.node_key.Fingerprint() +
                           "…, but the file would be signed by " +
                           hub_node.public_key().Fingerprint() + "…");
  }
  OUTPOST_RETURN_IF_ERROR(CheckPinFields(pin));
  if (trust_list.size() > kMaxTrustListBytes) return InvalidArgument("the trust list is too long");
  auto trust = VerifyTrustList(trust_list, pin.root_key);
  if (!trust) return InvalidArgument(trust.error().message());
  wire::Writer w;
  w.Raw(kEnrolMagic);
  w.U16(kEnrolmentFileFormat);
  w.Raw(pin.node_key.bytes);
  w.Raw(pin.root_key.bytes);
  w.String(pin.address);
  w.String(pin.site_name);
  w.String(pin.pending_code);
  w.String(trust_list);
  std::string bytes = w.Take();
  Signature sig = hub_node.Sign(EnrolSigningMessage(bytes));
  bytes.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  return bytes;
}

Result<Enrolment> DecodeEnrolment(std::string_view bytes) {
  if (!InitCrypto()) return Internal("libsodium could not initialise");
  wire::Reader r(bytes, "enrolment file");
  OUTPOST_RETURN_IF_ERROR(r.Header(kEnrolMagic, kEnrolmentFileFormat));
  Enrolment out;
  OUTPOST_RETURN_IF_ERROR(r.Raw(out.pin.node_key.bytes, "the hub's node key"));
  if (r.remaining() < crypto_sign_BYTES) {
    return Corrupt("enrolment file is truncated: it ends before its signature");
  }
  std::string_view body = bytes.substr(0, bytes.size() - crypto_sign_BYTES);
  Signature sig;
  __builtin_memcpy(sig.data(), bytes.data() + body.size(), sig.size());
  if (!VerifySignature(out.pin.node_key, EnrolSigningMessage(body), sig)) {
    return Corrupt("enrolment file: its signature does not verify with the hub key it carries (" +
                   out.pin.node_key.Fingerprint() + "…): the file is damaged or was altered");
  }
  wire::Reader b(body, "enrolment file");
  OUTPOST_RETURN_IF_ERROR(b.Header(kEnrolMagic, kEnrolmentFileFormat));
  OUTPOST_RETURN_IF_ERROR(b.Raw(out.pin.node_key.bytes, "the hub's node key"));
  OUTPOST_RETURN_IF_ERROR(ReadEnrolmentBody(&b, &out));
  auto trust = VerifyTrustList(out.trust_list, out.pin.root_key);
  if (!trust) return Corrupt("enrolment file: its trust list: " + trust.error().message());
  out.trust = std::move(*trust);
  return out;
}

Status WriteEnrolmentFile(const fs::path& file, const HubPin& pin, std::string_view trust_list,
                          const Identity& hub_node) {
  auto bytes = EncodeEnrolment(pin, trust_list, hub_node);
  if (!bytes) return bytes.error();
  return WriteFileAtomically(Env::Default(), file, *bytes, /*private_file=*/true);
}

Result<Enrolment> ReadEnrolmentFile(const fs::path& file) {
  auto bytes = ReadWholeFile(file, kMaxEnrolmentBytes);
  if (!bytes) return bytes.error();
  auto enrolment = DecodeEnrolment(*bytes);
  if (!enrolment) return enrolment.error().WithContext(file.string());
  return enrolment;
}

Result<EnrolResult> Enrol(const NodePaths& paths, SyncDb* db, const EnrolRequest& request) {
  OUTPOST_RETURN_IF_ERROR(CheckRequest(request));
  auto root = db->OwnRoot();
  if (!root) return NotAHub(paths);
  if (!request.address.empty()) OUTPOST_RETURN_IF_ERROR(db->SetOwnAddress(request.address));
  EnrolResult result;
  result.address = request.address.empty() ? db->OwnAddress() : request.address;
  std::optional<FileInputs> file;
  if (!request.to_file.empty() || request.file_bytes) {
    auto inputs = ReadFileInputs(paths);
    if (!inputs) return inputs.error();
    file.emplace(std::move(*inputs));
  }
  result.expires_at = db->Now() + request.ttl_seconds;  // the stored expiry is this or later
  auto code = db->NewEnrolCode(request.site_name, request.ttl_seconds, file.has_value());
  if (!code) return code.error();
  result.code = std::move(*code);
  if (file) {
    HubPin pin{result.address, file->node.public_key(), *root, result.code, request.site_name};
    if (!request.to_file.empty()) {
      OUTPOST_RETURN_IF_ERROR(
          WriteEnrolmentFile(request.to_file, pin, file->trust_list, file->node));
    }
    if (request.file_bytes) {
      auto bytes = EncodeEnrolment(pin, file->trust_list, file->node);
      if (!bytes) return bytes.error();
      result.file = std::move(*bytes);
    }
  }
  return result;
}

}  // namespace outpost
