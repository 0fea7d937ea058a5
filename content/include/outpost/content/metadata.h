// Folder metadata: the optional outpost.toml in a channel folder and its sub-folders.
// Format: docs/channel-format.md. (Exercise files: exercise.h.)
// Thread-safety: pure functions.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "outpost/base/status.h"

namespace outpost {

// Every field is optional: unset means "not said here".
struct EntryMeta {
  std::optional<std::string> title, description, language, grade, subject, license, author,
      thumbnail, kind;
  std::optional<bool> hidden;
};

struct FolderMeta {
  // [channel], only in the root folder's file.
  std::optional<std::string> channel_id;
  EntryMeta channel;
  // [topic]: the folder itself.
  EntryMeta topic;
  std::vector<std::string> order;
  // [files."NAME"]
  std::map<std::string, EntryMeta> files;
};

inline constexpr const char* kMetadataFileName = "outpost.toml";

// Parses `text` (the contents of `file`, named in messages). Unknown keys, wrong types, a
// [channel] table outside the root, and invalid channel ids or kinds are errors naming the
// file, the line and the key.
Result<FolderMeta> ParseFolderMeta(std::string_view text, const std::string& file, bool is_root);

}  // namespace outpost
