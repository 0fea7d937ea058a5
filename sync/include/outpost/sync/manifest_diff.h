// What changed between two versions of a channel, read from their manifests (manifest.h): the
// files added, removed and changed, each with its size. The hub console shows it beside a
// channel's versions (docs/hub-console.md); a publisher checks it before a new version goes out.
//
// A file is a node with a blob (every kind but a topic), named by its path. It is "changed"
// when the same path holds another blob (another file); a node whose title or description alone
// changed keeps its file and is not listed. Topics are not listed: a topic appears or goes with
// its files.
//
// Thread-safety: pure functions over plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "outpost/sync/manifest.h"

namespace outpost {

struct ManifestFileChange {
  std::string path;
  uint64_t old_size = 0;  // 0 for an added file
  uint64_t new_size = 0;  // 0 for a removed file
};

struct ManifestDiff {
  uint64_t from_version = 0, to_version = 0;
  std::vector<ManifestFileChange> added, removed, changed;  // each ascending by path
  uint64_t added_bytes = 0;    // the sizes of the added files
  uint64_t removed_bytes = 0;  // the sizes of the removed files
  // Of `to` against `from`: a negative number when the new version is smaller.
  int64_t size_change = 0;
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

// The files of `to` against those of `from` (usually an older version of the same channel;
// any two manifests may be compared).
ManifestDiff DiffManifests(const Manifest& from, const Manifest& to);

}  // namespace outpost
