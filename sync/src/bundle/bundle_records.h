// Private to sync/: what a bundle's volumes carry and what both its export and its import must
// agree on (docs/bundle.md, "What a bundle carries"): the record types, the bodies that are the
// bundle's own (a Receipt, a batch of Chunks; an Offer, a Patch and an Enrol are the sync
// protocol's, docs/sync-protocol.md), and the names of the volume files on the drive.
//
// An Offer and a Receipt are for one recipient of the volume: the recipient's key, then the body.
// A Chunks record is u32 count, then per chunk: hash (32), u32 length, u8 packing (0 stored,
// 1 zstd), u32 packed length, the bytes. For example one stored chunk of 5 bytes is
// 00000001 <hash> 00000005 00 00000005 <5 bytes>: 4 + 32 + 4 + 1 + 4 + 5 = 50 bytes.
//
// Thread-safety: plain functions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bundle/bundle_volume.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/sync/identity.h"
#include "protocol.h"
#include "wire.h"

namespace outpost::sync {

// Record types inside a bundle's volumes.
enum BundleRecord : uint8_t {
  kOfferRecord = 1,    // recipient key, then an Offer (sync-protocol.md) for that recipient
  kChunksRecord = 2,   // a batch of chunks, as above
  kPatchRecord = 3,    // a Patch (sync-protocol.md)
  kEnrolRecord = 4,    // a site joined from an enrolment file, to its hub: an Enrol (sync-protocol.md)
  kReceiptRecord = 5,  // recipient key, then what the sender serves: u32 count, then per channel:
                       // string id, u64 version
  kBasisRecord = 6,    // hub -> site, before that site's Offer: recipient key, then the channels
                       // whose offer is packed against a version sent by an earlier stick
  kSeenRecord = 7,     // site -> hub: the newest bundle of its hub this site has imported
  kOutcomesRecord = 8,  // hub -> site: recipient key, then an Outcomes (sync-protocol.md): the
                        // hub's review decisions on the site's items (older readers skip it)
  kReportRecord = 9,    // site -> hub: the site's signed report (site_report.h), as it is; in
                        // the first records of every volume (older readers skip it)
};


// The body of a record for one recipient: its key, then `body`.
std::string AddressedRecord(const PublicKey& to, std::string_view body);
struct Addressed {
  PublicKey to;
  std::string_view body;  // into the record's body
};
// nullopt for a record too short to name a recipient.
std::optional<Addressed> ReadAddressed(std::string_view record);

// The receipt a bundle carries back: a site tells its hub every version it serves (what its
// last bundles and syncs brought); a hub tells each site which of the site's own channels it
// serves. The volume's signature vouches for it.
std::string EncodeReceiptRecord(const std::map<std::string, uint64_t>& served);
Result<std::map<std::string, uint64_t>> DecodeReceiptRecord(std::string_view body);

// A Basis record's body: u32 count, then per channel: string id, u64 base version, the 16-byte id
// of the bundle that carried the base, u64 its volumes' created_at. An offer's version of such a
// channel is packed against that base (manifest patch, files' previous, chunks left out), not
// against what the site is known to serve.
struct SentBase {
  uint64_t version = 0;
  BundleId bundle_id{};
  uint64_t written_at = 0;
};
std::string EncodeBasisRecord(const std::map<std::string, SentBase>& bases);
Result<std::map<std::string, SentBase>> DecodeBasisRecord(std::string_view body);

// A Seen record's body: the 16-byte id and the u64 created_at of the newest bundle from its hub
// the site has imported (all zero: none). Lets the hub tell a stick still on its way from one
// the site never took.
struct SeenBundle {
  BundleId bundle_id{};
  uint64_t written_at = 0;
};
std::string EncodeSeenRecord(const SeenBundle& seen);
Result<SeenBundle> DecodeSeenRecord(std::string_view body);

// Appends one chunk to a Chunks record whose count `w` holds already: `data` as it is, or
// `zstd`, its zstd frame, when set.
void AppendBundledChunk(wire::Writer* w, const Hash& hash, std::string_view data,
                        std::optional<std::string_view> zstd);
struct BundledChunk : ChunkData {
  bool stored = false;  // `compressed` holds the bytes as they are, not a zstd frame
};
// kCorrupt for anything but a whole, well-formed record (the hashes are the caller's to check).
Result<std::vector<BundledChunk>> DecodeChunkBatch(std::string_view body);

// outpost-<the bundle id's first 8 hex digits>-<volume>.opb
std::string VolumeFileName(const BundleId& id, uint32_t volume);
// What an import of a folder reads: *.opb, and not a dot-file (a volume still being written is
// "." + its name + ".tmp").
bool IsVolumeFileName(const std::filesystem::path& name);

}  // namespace outpost::sync
