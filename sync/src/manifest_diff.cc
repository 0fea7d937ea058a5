// The files added, removed and changed between two manifests (manifest_diff.h).
#include "outpost/sync/manifest_diff.h"

#include <map>

namespace outpost {

namespace {

struct FileOf {
  Hash blob;
  uint64_t size = 0;
};

// Every node with a blob, by path (paths are unique in a manifest: CheckManifestDraft).
void CollectFiles(const DraftNode& node, std::map<std::string, FileOf>* out) {
  if (node.blob) out->emplace(node.path, FileOf{*node.blob, node.size});
  for (const auto& child : node.children) CollectFiles(child, out);
}

std::map<std::string, FileOf> FilesOf(const Manifest& m) {
  std::map<std::string, FileOf> files;
  CollectFiles(m.draft.root, &files);
  return files;
}

}  // namespace

ManifestDiff DiffManifests(const Manifest& from, const Manifest& to) {
  ManifestDiff diff;
  diff.from_version = from.version;
  diff.to_version = to.version;
  auto before = FilesOf(from), after = FilesOf(to);
  for (const auto& [path, file] : after) {
    auto old = before.find(path);
    if (old == before.end()) {
      diff.added.push_back({path, 0, file.size});
      diff.added_bytes += file.size;
    } else if (old->second.blob != file.blob) {
      diff.changed.push_back({path, old->second.size, file.size});
    }
    diff.size_change += static_cast<int64_t>(file.size);
  }
  for (const auto& [path, file] : before) {
    if (!after.contains(path)) {
      diff.removed.push_back({path, file.size, 0});
      diff.removed_bytes += file.size;
    }
    diff.size_change -= static_cast<int64_t>(file.size);
  }
  return diff;
}

}  // namespace outpost
