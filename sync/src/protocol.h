// The sync protocol's messages (docs/sync.md, "Messages"): their types and their canonical
// big-endian encodings. Pure functions, no I/O; every decoder refuses truncation, trailing
// bytes and absurd counts with a clear error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/content/chunker.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/sync_db.h"

namespace outpost::sync {

// The versions this node speaks: 1; 2 (version 1 and the Outcomes record after the Offer); 3
// (version 2 and the site's signed Report before its Bye). A site says its highest in its Hello
// and, when a hub refuses it, tries again one version lower, down to 1; a hub answers in the
// Hello's version. Enrolment is the same in all: HubInfo names version 1.
inline constexpr uint16_t kProtocolVersion = 3;
inline constexpr uint16_t kMinProtocolVersion = 1;
inline constexpr uint16_t kEnrolProtocolVersion = 1;
// The first version whose hub sends an Outcomes record right after its Offer.
inline constexpr uint16_t kOutcomesProtocolVersion = 2;
// The first version whose site sends its Report (site_report.h) right before its Bye.
inline constexpr uint16_t kReportProtocolVersion = 3;
// The 8 bytes a client sends first, in clear; also the end of the Noise prologue, so a changed
// preamble fails the handshake.
inline constexpr char kPreambleMagic[4] = {'O', 'P', 'S', '1'};
// kEnrolXX (1) was enrolment over Noise XX, with the code in message 3: withdrawn, since it
// showed the code to whoever answered; a hub refuses it (docs/sync-protocol.md). kEnrol (4) is
// enrolment over Noise XXpsk3 with a psk derived from the code.
enum class Mode : uint8_t { kEnrolXX = 1, kSync = 2, kPeerSync = 3, kEnrol = 4 };
inline constexpr std::string_view kPrologue = "outpost sync v1";

// A site asks for a file as a patch against its previous version (GetPatch) only if the file
// has at most this many bytes: small edited files are where a patch pays, and both sides hold
// it whole in memory. A bundle's export plans patches by the same bound.
inline constexpr uint64_t kMaxPatchedFile = 1 << 20;
// The most a patch is made from or applied to: the file a hub answers a GetPatch for (kMissing
// beyond; a site asks only up to kMaxPatchedFile), and the previous version either side reads
// as the dictionary (beyond it, the file goes whole). The largest blob a message carries.
inline constexpr size_t kMaxPatchInput = size_t{64} << 20;

// The longest chunk: the chunker's cut (chunker.h; the defaults are the chunk format). An offer
// describing a longer one is refused.
inline constexpr uint32_t kMaxChunkLength = ChunkerParams{}.max_size;
// The largest signed manifest an offer carries, unpacked.
inline constexpr uint64_t kMaxEnvelope = 64u << 20;
// The most channels one message names (an offer's versions or a site's own channels, a hello's
// held channels): a bound on what a decoder allocates, far above any real hub's channels.
inline constexpr uint32_t kMaxOfferedChannels = 10000;

enum RecordType : uint8_t {
  kHello = 1,      // site -> hub, in IK message 1
  kError = 2,      // either way; the sender closes after it
  kOffer = 3,      // hub -> site: new versions and what their new files are made of
  kGetChunks = 4,  // site -> hub
  kChunk = 5,      // hub -> site
  kMissing = 6,    // hub -> site: a chunk it does not have
  kGetPatch = 7,   // site -> hub: a file as a patch against an older file the site holds
  kPatch = 8,      // hub -> site
  kBye = 9,        // either way: the conversation is over
  kAccept = 10,    // hub -> site, in IK message 2
  kHubInfo = 11,   // hub -> site, in XX message 2
  kEnrol = 12,     // site -> hub, in XX message 3
  kEnrolled = 13,  // hub -> site, after the XX handshake
  kReceipt = 14,   // hub -> site: what became of the versions the site uploaded
  kEnrolId = 15,   // site -> hub, in XXpsk3 message 1: which code (EnrolCodeKeys::id)
  kOutcomes = 16,  // hub -> site, from version 2, right after the Offer: review decisions
  kReport = 17,    // site -> hub, from version 3, right before the Bye: the signed site report
                   // (site_report.h; a relay is sent none)
};

struct HeldVersion {
  std::string channel_id;
  uint64_t served = 0;  // 0: none
  uint64_t staged = 0;  // a newer version partly received; 0: none
};

struct Hello {
  uint16_t protocol = kProtocolVersion;
  PublicKey node_key;  // the site's Ed25519 key; its X25519 form must be the Noise static key
  uint64_t trust_sequence = 0;
  std::vector<HeldVersion> held;
  // Above every earlier Hello's from this node, at most 2^63 - 1: the hub refuses one that is
  // not above the last it accepted (a replayed IK message 1) before it builds anything.
  uint64_t counter = 0;
};

struct ErrorMessage {
  uint16_t code = 0;  // 1 not enrolled, 2 revoked, 3 bad code, 4 busy, 5 protocol, 6 internal,
                      // 7 budget spent, 8 a replayed hello, 9 a protocol version not spoken
  std::string message;
};
// The Error code for a Hello, an Accept or a HubInfo whose protocol version the receiver does
// not speak; its message names both versions.
inline constexpr uint16_t kErrorVersion = 9;

struct ChunkRef {
  Hash hash;
  uint32_t length = 0;
};

struct OfferedFile {
  Hash blob;
  uint64_t size = 0;
  std::vector<ChunkRef> chunks;
  std::optional<Hash> previous;  // the file at the same path in the site's served version
};

// How a signed manifest travels: manifests of consecutive versions differ little, so the hub
// sends a new one as a zstd patch against the one the site serves.
enum Packing : uint8_t { kRaw = 0, kZstd = 1, kZstdAgainstBase = 2 };

struct OfferedVersion {
  std::string envelope;  // the signed manifest (docs/manifest.md), unpacked
  // On the wire: the channel, how the envelope is packed, the base (the site's served version
  // of the channel, whose envelope is the dictionary for kZstdAgainstBase), and the bytes.
  std::string channel_id;
  uint8_t packing = kRaw;
  uint64_t base_version = 0;
  uint64_t envelope_size = 0;
  std::string packed;
  std::vector<OfferedFile> files;  // files new since the site's served version
};

struct Offer {
  std::string trust_list;  // empty: the site's is current
  std::vector<OfferedVersion> versions;
  // Hub -> site only: whether the hub takes the site's own channels up in this session, and the
  // versions it serves of the channels this site owns there (`served`; `staged` is 0).
  bool uploads = false;
  std::vector<HeldVersion> yours;
};

// What the hub did with each version a site offered up.
enum class ReceiptState : uint8_t { kServed = 1, kIncomplete = 2, kRefused = 3 };
struct ReceiptEntry {
  std::string channel_id;
  uint64_t version = 0;
  ReceiptState state = ReceiptState::kServed;
  std::string message;  // why, for kIncomplete and kRefused
};

struct Accept {
  uint16_t protocol = kProtocolVersion;
  uint32_t max_request_chunks = 0;  // at most this many hashes per GetChunks
};

struct EnrolRequest {
  PublicKey node_key;
  std::string code;
  std::string name_hint;
};

struct Enrolled {
  std::string site_name;
  PublicKey hub_key, root_key;
  std::string trust_list;
};

struct ChunkData {
  Hash hash;
  uint32_t length = 0;     // uncompressed
  std::string compressed;  // zstd frame
};

struct PatchData {
  Hash blob, previous;
  uint8_t kind = 0;        // 1: zstd patch against `previous`; 2: the whole file, zstd
  uint64_t size = 0;       // of the file
  std::string compressed;
};

// Ok if `theirs`, the protocol version that `sender` ("the site", "the hub") named in its Hello,
// Accept or HubInfo, is one `receiver` (this node) speaks: kMinProtocolVersion to
// kProtocolVersion. Else
// kInvalidArgument naming both versions. The version is always a message's first u16, so it is
// read before anything whose layout it could change.
Status CheckProtocolVersion(uint16_t theirs, std::string_view sender, std::string_view receiver);
// The protocol version a Hello's body starts with (kCorrupt if it is shorter than 2 bytes).
Result<uint16_t> HelloVersion(std::string_view body);

std::string EncodeHello(const Hello& m);
Result<Hello> DecodeHello(std::string_view b);
std::string EncodeError(const ErrorMessage& m);
Result<ErrorMessage> DecodeError(std::string_view b);
std::string EncodeOffer(const Offer& m);
Result<Offer> DecodeOffer(std::string_view b);
std::string EncodeAccept(const Accept& m);
Result<Accept> DecodeAccept(std::string_view b);
std::string EncodeHashes(const std::vector<Hash>& hashes);  // GetChunks, Missing
Result<std::vector<Hash>> DecodeHashes(std::string_view b, size_t max);
std::string EncodeChunk(const ChunkData& m);
Result<ChunkData> DecodeChunk(std::string_view b);
std::string EncodeGetPatch(const Hash& blob, const Hash& previous);
Result<std::pair<Hash, Hash>> DecodeGetPatch(std::string_view b);
std::string EncodePatch(const PatchData& m);
Result<PatchData> DecodePatch(std::string_view b);
std::string EncodeReceipt(const std::vector<ReceiptEntry>& m);
Result<std::vector<ReceiptEntry>> DecodeReceipt(std::string_view b);
// Outcomes (type 16): u32 count (at most kMaxOutcomesPerMessage), then per decision: u64 the
// hub's item id, string channel id (at most 256 bytes), string path (at most 4096), the file's
// hash (32), u8 state (1 adopted, 2 declined), u64 decided_at, string reason (at most
// kMaxReviewReason), string adopted channel (at most 256), string adopted topic (at most 4096),
// u64 adopted version. `received_at` does not travel. Also a stick's Outcomes record's body.
std::string EncodeOutcomes(const std::vector<ReviewOutcome>& m);
Result<std::vector<ReviewOutcome>> DecodeOutcomes(std::string_view b);
std::string EncodeHubInfo(const PublicKey& hub_key);
// The key a HubInfo carries; kInvalidArgument (CheckProtocolVersion) for a protocol version
// this node does not speak.
Result<PublicKey> DecodeHubInfo(std::string_view b);
std::string EncodeEnrol(const EnrolRequest& m);
Result<EnrolRequest> DecodeEnrol(std::string_view b);
std::string EncodeEnrolled(const Enrolled& m);
Result<Enrolled> DecodeEnrolled(std::string_view b);

// A record as a handshake payload: type, then body.
std::string Tagged(uint8_t type, std::string_view body);

}  // namespace outpost::sync
