// Importer: turns a folder tree into a new version of a channel (docs/channel-format.md).
//
// The work, in order:
//   1. scan: walk the folder, read every outpost.toml, check names, links and loops; collect
//      every problem rather than stopping at the first;
//   2. ingest: store each file as a blob (hash, FastCDC chunks, temp file, fsync, rename) unless
//      the import cache shows it unchanged since a previous import; files that change or vanish
//      while being read are problems;
//   3. commit: make the new blobs durable (fsync their folders), then in one catalog
//      transaction add the version and serve it.
// Until step 3's transaction commits, nothing that learners see has changed; a killed or
// failed import leaves at most unreferenced blobs, which the next import reuses or gc removes.
//
// Files are read by several threads at once; `progress` is called from any of them, one call
// at a time.
// Thread-safety: one Import() at a time per Importer; several processes may import at once
// (each holds the store's shared lock).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/base/status.h"

namespace outpost {

struct ImportProgress {
  int64_t files_done = 0, files_total = 0;
  uint64_t bytes_done = 0, bytes_total = 0;
  std::string current;  // relative path of the file being read
};

struct ImportOptions {
  std::string channel_id;   // overrides the metadata and the folder name when set
  bool skip_errors = false; // leave faulty files out instead of failing the import
  bool rehash = false;      // read every file even if the import cache says it is unchanged
  int threads = 0;          // files read at once; 0: two per core, at most 8
  // Files read are made durable and recorded in batches: one syncfs for this many files (or
  // bytes), instead of an fsync each. Tests make batches small.
  size_t batch_files = 256;
  uint64_t batch_bytes = 256ull << 20;
  std::function<void(const ImportProgress&)> progress;  // called often; keep it cheap
  // Called with the channel id once it is known, before anything is committed; an error stops
  // the import with nothing served changed (`publish` on a site refuses the hub's channels).
  std::function<Status(const std::string& channel_id)> check_channel;
};

struct ImportProblem {
  std::string path;     // relative to the folder, bad bytes escaped
  std::string message;
};

struct ImportReport {
  std::string channel_id;
  int64_t version = 0;     // the new served version; 0 if the folder had not changed
  int64_t files = 0;       // resources and assets in the version
  int64_t topics = 0;
  uint64_t bytes = 0;      // their total size
  int64_t new_blobs = 0;   // blobs written by this import
  uint64_t new_bytes = 0;
  int64_t reused_blobs = 0;
  int64_t files_read = 0;  // files read (the others were known unchanged from the cache)
  uint64_t bytes_read = 0;
  double seconds = 0;
  std::vector<ImportProblem> skipped;  // with skip_errors: what was left out and why
};

class Importer {
 public:
  // `store` and `catalog` must outlive the importer.
  Importer(BlobStore* store, Catalog* catalog) : store_(store), catalog_(catalog) {}

  // On failure the status message lists every problem, one per line, each naming its file.
  Result<ImportReport> Import(const std::filesystem::path& folder, const ImportOptions& options);

 private:
  BlobStore* store_;
  Catalog* catalog_;
};

// Fills the body_text (search text) of every node of `draft` from its file in `store`, exactly
// as an import of the same files sets it: the visible text of HTML pages, the questions and
// answers of exercises (one that does not parse gets none), nothing for other kinds. Kinds are
// detected afresh from each file's name and first bytes, as an import does, so a node whose
// metadata overrides its kind gets the same text too. For versions that arrive without their
// text (a manifest leaves it out: sync, USB bundles). Reads up to 8 MiB of each page and
// exercise. kNotFound (naming the node) if a file is missing from the store.
Status FillBodyText(VersionDraft* draft, BlobStore* store);

// A resource node for the file `file` placed at `path` in a channel (relative to its root; its
// last part names the file), as an import of that file would make it: kind and MIME type from
// the name and the first bytes (a ZIP with an index.html is an app), listed unless it is an
// asset, the title of an HTML page or exercise (else ReadableTitle of the name) and its
// language, its size, and its search text (FillBodyText's, from the same bytes). Its blob and
// the rest of its metadata are left for the caller (the school's materials describe an upload
// before they take it into the store). kInvalidArgument for an exercise that does not parse
// (an import refuses it); the error of open(2) or stat(2) if the file cannot be read.
Result<DraftNode> DescribeFile(const std::filesystem::path& file, const std::string& path);

}  // namespace outpost
