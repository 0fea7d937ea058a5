// Private to sync/: the state of a bundle export, saved after each whole volume and kept in
// DATA/sync/exports/<bundle id>.state until the export completes, or `outpost bundle export
// --continue` finishes it on another drive after a full drive, a crash or a pulled stick
// (docs/bundle.md, "When the drive fills up").
//
// The continuation plans again from the catalog (a version published since, a newer receipt),
// so the state does not hold the plan: it holds what the volumes on earlier drives already
// carry, and the continuation leaves exactly those pieces out. A piece is recorded only once the
// volume holding it was closed and renamed, so a drive pulled out at any moment can cost a
// piece sent twice, never a piece not sent.
//
// The file, big-endian, with a checksum so that a damaged file is refused, never read as
// "nothing was sent" (which would silently lose the first drive's work) or as "everything was
// sent" (which would leave the recipients short):
//
//   "OPBS" u16 format (1)
//   bundle id (16)  u64 created_at  u8 full  u32 next volume  u64 bytes written
//   u16 n, n × { recipient key (32), string name }      names as they were, for messages
//   u32 n, n × chunk hash (32)                           chunks in closed volumes
//   u32 n, n × { file hash (32), previous file (32) }    patches in closed volumes
//   BLAKE2b-256 of every byte before it (32)
//
// For example a bundle 3f2a9c1e… for one site that stopped after 2 volumes holding 1 chunk and
// no patch is 6 + 16 + 8 + 1 + 4 + 8 + (2 + 32 + 4 + 7) + (4 + 32) + 4 + 32 = 160 bytes for the
// name "ecole-1".
//
// Thread-safety: plain functions; one export at a time per data folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bundle/bundle_volume.h"
#include "outpost/base/env.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/node.h"

namespace outpost::sync {

inline constexpr uint16_t kExportStateFormat = 1;
// The most ListExportStates reads of a state file. A state lists the chunks of its closed
// volumes, 32 bytes each: 1 GiB is 33 million chunks, a bundle of about 1 TiB at the chunker's
// 32 KiB average, past any export of drives; a longer file is not a state this node wrote.
inline constexpr size_t kMaxExportStateBytes = size_t{1} << 30;

struct ExportState {
  BundleId bundle_id{};
  uint64_t created_at = 0;     // unix seconds, as in every volume's header
  bool full = false;           // --full
  uint32_t next_volume = 0;    // the number the next drive's first volume gets
  uint64_t bytes_written = 0;  // in the volumes of every drive so far
  std::vector<std::pair<PublicKey, std::string>> recipients;  // key, name
  std::set<Hash> chunks;                                      // in closed volumes
  std::set<std::pair<Hash, Hash>> patches;                    // (file, previous), likewise
};

std::string EncodeExportState(const ExportState& state);
// kCorrupt, saying what is wrong, for anything but a whole, well-formed state.
Result<ExportState> DecodeExportState(std::string_view bytes);

std::filesystem::path ExportsDir(const NodePaths& paths);  // DATA/sync/exports
std::filesystem::path ExportStatePath(const NodePaths& paths, const BundleId& id);

// Writes the state durably (temp file, fsync, rename, fsync the folder), replacing any before.
Status SaveExportState(Env* env, const NodePaths& paths, const ExportState& state);
// Removes it (no error if it is not there), durably.
Status RemoveExportState(Env* env, const NodePaths& paths, const BundleId& id);

// One file of DATA/sync/exports, read: its state, or why it cannot be read.
struct ExportStateFile {
  std::filesystem::path path;
  std::string id_hex;  // from the file's name
  Result<ExportState> state = Corrupt("not read");
};
// Every *.state file, in the order of their names; a missing folder is an empty list.
std::vector<ExportStateFile> ListExportStates(const NodePaths& paths);

}  // namespace outpost::sync
