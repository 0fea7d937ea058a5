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
#include "outpost/content/catalog.h"

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
  // [labels.FIELD."VALUE"] LANGUAGE = "LABEL", only in the root folder's file; ascending by
  // (field, value, language), languages lower-cased with '_' as '-'.
  std::vector<ValueLabel> labels;
};

// How a grade, subject or licence value is matched against a label or an interface catalog
// entry: ASCII letters lower-cased, runs of spaces, tabs, '_' and '-' made one '-', and none
// at either end. "  Social_Studies " -> "social-studies", "CC BY-SA 4.0" -> "cc-by-sa-4.0".
// Other characters are kept as they are ("Géographie locale" -> "géographie-locale").
std::string ValueKey(std::string_view value);

inline constexpr const char* kMetadataFileName = "outpost.toml";

// Parses `text` (the contents of `file`, named in messages). Unknown keys, wrong types, a
// [channel] or [labels] table outside the root, and invalid channel ids, kinds, label fields
// or label languages are errors naming the
// file, the line and the key.
Result<FolderMeta> ParseFolderMeta(std::string_view text, const std::string& file, bool is_root);

}  // namespace outpost
