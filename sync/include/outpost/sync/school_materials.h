// The school's materials: what teachers upload, placed in a channel of the school's own, the
// "school channel", so that learners see it at once (pages, thumbnails, search) and the next
// sync or stick takes it to the hub (decision 22: a site's own channel, signed by its node key).
//
// The school channel's id is "school-" and the first 16 hex digits of the node key
// (DATA/keys/node.key, made on first use): unique at the hub, which owns ids by first upload
// and pins each site's key, and stable for as long as the box keeps its key, with nothing to
// store. It is created by the first material added, titled "Teachers' materials" (with the
// site's name once the box has joined a hub). Decision 46 in docs/decisions.md.
//
// Each operation makes one new version of the channel from the served one and signs it
// (PublishEdit, publish.h), or changes nothing and says why. A material is a file with its
// metadata, placed in a topic given as a path of titles ("Grade 5/Science"); missing topics
// are made, and topics left empty by a move or a delete are removed. Materials are named by
// their path in the channel ("grade-5/science/water-cycle.pdf"): a safe name made from the
// title (lower case, accents folded, letters and digits of any script, '-' for the rest, at
// most 60 bytes) and the file's extension, with "-2", "-3", ... when the topic has one already.
//
// Thread-safety: as PublishEdit's: any number of SchoolMaterials may run at once in a
// process; their changes are made one at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/node.h"

namespace outpost {

// Limits on what a teacher types, in bytes of UTF-8; longer is refused (kInvalidArgument).
inline constexpr size_t kMaxMaterialTitle = 200;
inline constexpr size_t kMaxMaterialDescription = 5000;
inline constexpr size_t kMaxMaterialValue = 100;    // grade, subject, licence, author
inline constexpr size_t kMaxMaterialLanguage = 35;  // a BCP 47 tag: "fr", "ar-LB"
inline constexpr size_t kMaxTopicTitle = 100;       // one part of a topic path
inline constexpr size_t kMaxTopicDepth = 8;         // parts of a topic path
inline constexpr size_t kMaxFileName = 255;         // the upload's own name

// What a teacher says about a material. Unset: taken from the file when adding (its page's
// title, else its name), unchanged when editing. Text is valid UTF-8 without control
// characters (the description may hold line breaks); a title may not be empty.
struct MaterialFields {
  std::optional<std::string> title, description, language, grade, subject, license, author;
};

struct NewMaterial {
  // A finished file on the blob store's file system (an upload): moved into the store, not
  // copied (BlobStore::Adopt). Left where it was if the material is refused before that.
  std::filesystem::path file;
  std::string file_name;  // as the teacher's device named it: the extension, the default title
  std::string topic;      // "Grade 5/Science" (spaces around '/' ignored); "": the top
  MaterialFields fields;
};

// What an operation did.
struct MaterialChange {
  std::string channel_id;
  int64_t version = 0;       // the new served version
  std::string path;          // the material's path now ("" after a delete)
  std::optional<Hash> blob;  // its file (after an add)
  Hash manifest_hash;        // of the signed version
};

// A topic of the school channel.
struct SchoolTopic {
  std::string path;   // "grade-5/science"
  std::string title;  // its titles from the top: "Grade 5 / Science"
};

// The served school channel: its id, and version 0 with an empty root until the first add.
struct SchoolTree {
  std::string channel_id;
  int64_t version = 0;
  VersionDraft draft;  // the served version (without search text)
};

class SchoolMaterials {
 public:
  // `store` and `catalog` must outlive it; `paths` is the node's (NodePaths(DATA)).
  SchoolMaterials(NodePaths paths, BlobStore* store, Catalog* catalog)
      : paths_(std::move(paths)), store_(store), catalog_(catalog) {}

  // The school channel's id (the node key is made if the box has none yet).
  Result<std::string> ChannelId();
  Result<SchoolTree> Tree();
  // Every topic, in display order, parents first.
  Result<std::vector<SchoolTopic>> Topics();

  // Adds `material`: checks what was typed (kInvalidArgument, naming the field, and nothing
  // changes), reads the file's kind and title as an import would (an exercise that does not
  // parse is refused), moves it into the blob store (recorded in the chunk index, durably),
  // and serves the channel's next version with it in its topic. An image is its own thumbnail.
  // If the version cannot be made once the file is in the store (a full catalog, a channel
  // this node may not sign), the file gets its name back (a hard link to the blob, no copy).
  Result<MaterialChange> Add(const NewMaterial& material);
  // Changes the fields set in `fields` of the material at `path` (kNotFound if there is none).
  Result<MaterialChange> Edit(const std::string& path, const MaterialFields& fields);
  // Moves the material at `path` to `topic` (made if missing), under the same name if free.
  Result<MaterialChange> Move(const std::string& path, const std::string& topic);
  // Removes the material at `path`; its file stays in the store until gc finds it unused.
  Result<MaterialChange> Delete(const std::string& path);

 private:
  // Add's second half, once the file is a blob: records it and serves the version with it.
  Result<MaterialChange> Place(const std::string& id, const BlobInfo& blob,
                               const std::vector<std::string>& titles, const std::string& ext,
                               const DraftNode& node);
  Result<MaterialChange> Change(const std::string& id, const std::string& path_after,
                                const std::function<Status(VersionDraft*)>& edit);

  NodePaths paths_;
  BlobStore* store_;
  Catalog* catalog_;
};

// Checks `fields` against the rules and limits above (kInvalidArgument naming the field).
Status CheckMaterialFields(const MaterialFields& fields);
// Splits a topic path into its titles, checked (kInvalidArgument: empty part, "..", control
// characters, invalid UTF-8, too long or too deep). "" gives none (the top).
Result<std::vector<std::string>> ParseTopicPath(const std::string& topic);
// The safe name of a title (see above); `fallback` if nothing is left of it.
std::string SafeName(std::string_view title, std::string_view fallback);

}  // namespace outpost
