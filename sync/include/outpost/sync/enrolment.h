// Enrolment: how a hub admits a site. `outpost hub enrol` makes a one-time code (sync_db.h) for
// a site by name and, for a site that has never been online, an enrolment file carrying it with
// everything the site must pin (the hub's keys, its address, its trust list), which the site
// joins from. docs/sync.md has the codes and the file byte for byte.
//
// Thread-safety: the codec is pure; Enrol is as thread-safe as SyncDb.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "outpost/base/status.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

// `outpost hub enrol`: a new one-time code for a site, and, with `to_file`, an enrolment file
// carrying it for a site that has never been online.
struct EnrolRequest {
  std::string site_name;
  int64_t ttl_seconds = kDefaultEnrolCodeTtl;
  // The hub's sync address for the site: "" uses the last one given (SyncDb::OwnAddress), if
  // any; a new one is recorded for next time.
  std::string address;
  std::filesystem::path to_file;  // empty: no file
  // Make the enrolment file's bytes in EnrolResult::file instead of writing one (the hub
  // console sends it as a download; it never touches the hub's disk).
  bool file_bytes = false;
};
struct EnrolResult {
  std::string code;  // the secret: shown to the coordinator once, never logged
  int64_t expires_at = 0;
  std::string address;  // what went into the file ("" if unknown)
  std::string file;     // with EnrolRequest::file_bytes: the enrolment file (a secret too)
};
// kNotFound if this node is not a hub; kInvalidArgument for a bad name, address or ttl.
// Everything the file needs (node key, trust list) is read before the code is made.
Result<EnrolResult> Enrol(const NodePaths& paths, SyncDb* db, const EnrolRequest& request);

// The key pair a hub seals USB bundles to for a site that joined from an enrolment file and has
// not enrolled yet (docs/sync.md, "A first stick with the enrolment file"): the Ed25519 key pair
// of the seed BLAKE2b-256 of "outpost enrol seal v1" keyed with the code's psk
// (EnrolCodeKeys::psk). The hub holds the psk; the site derives it from the code in its file.
// The public key gives neither back.
Result<Identity> EnrolSealIdentity(const noise::Psk& psk);
// The same from a code (kInvalidArgument if it cannot be one).
Result<Identity> EnrolSealIdentityOfCode(std::string_view code);

// The enrolment file ("OPEF", docs/sync.md): the hub's node and root keys, its sync address
// ("" if unknown), the site's name, the one-time code and the hub's trust list, signed by the
// hub's node key.
inline constexpr uint16_t kEnrolmentFileFormat = 1;
struct Enrolment {
  HubPin pin;              // pending_code: the code; site_name: the name the hub gave the site
  std::string trust_list;  // the signed document, verified against pin.root_key
  TrustList trust;         // the same, parsed
};
// The file's bytes. kInvalidArgument if pin.node_key is not `hub_node`'s key, the name, code or
// address is not valid, or `trust_list` does not verify against pin.root_key.
Result<std::string> EncodeEnrolment(const HubPin& pin, std::string_view trust_list,
                                    const Identity& hub_node);
// Parses the bytes strictly and verifies the signature against the node key they carry (trust
// on first use, like a typed code) and the trust list against the root key they carry. kCorrupt
// for anything malformed, damaged or forged.
Result<Enrolment> DecodeEnrolment(std::string_view bytes);
// EncodeEnrolment, written durably (temp file, fsync, rename) with mode 0600: it holds a secret.
Status WriteEnrolmentFile(const std::filesystem::path& file, const HubPin& pin,
                          std::string_view trust_list, const Identity& hub_node);
// Reads a file (at most 1 MiB and 1 KiB) and decodes it as DecodeEnrolment does, naming the
// file in errors (kNotFound if there is none).
Result<Enrolment> ReadEnrolmentFile(const std::filesystem::path& file);

}  // namespace outpost
