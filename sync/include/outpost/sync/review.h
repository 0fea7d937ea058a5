// The hub's review of what sites send up (docs/review.md): a list, per site, of the resources
// of its channels that are new or changed since the hub last recorded them, each with a
// preview; a publisher adopts an item into one of the hub's own (national) channels at a topic,
// or declines it with a reason for the site's teachers.
//
// The list lives in sync.db (ReviewItem, sync_db.h) and is brought up to date from the served
// versions of the sites' channels in the catalog by RefreshReview, which every review command
// calls first: sync and stick imports need no hook, and a version received while no one looks
// costs nothing until someone does.
//
// Adopting writes the file (and its thumbnail) and its metadata into the national channel's
// source folder, the folder `outpost publish` read it from, and publishes that folder: the
// adopted item is then part of the folder, so a later `outpost publish FOLDER` keeps it.
//
// Thread-safety: each call uses the objects it is given from one thread; several processes
// may review at once (SQLite serializes sync.db; a decision is taken once).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/node.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

// How much of a resource's search text the preview keeps: 200 characters (code points), cut
// at a space when one is near.
inline constexpr size_t kReviewExcerptChars = 200;

// The preview and fingerprint of `node`, a listed resource of a site's channel (id, version,
// site and decision left empty).
ReviewItem ReviewItemOf(Catalog* catalog, const Node& node);
// The first kReviewExcerptChars characters of `text`, its runs of white space made one space,
// with "…" when it was cut.
std::string ReviewExcerpt(std::string_view text);

// Records the items of every site channel whose served version is newer than the version
// reviewed last (SyncDb::NoteReviewVersion). A channel the catalog does not serve is skipped.
Status RefreshReview(SyncDb* db, Catalog* catalog);

// What `outpost hub review adopt` asks.
struct AdoptRequest {
  int64_t id = 0;
  std::string channel_id;  // a channel this hub publishes (not a site's)
  std::string topic;       // "Grade 5/Science": titles (or folder names), '/' between levels
  // The channel's source folder; empty: the folder its served version was published from.
  std::filesystem::path folder;
};

struct AdoptResult {
  ReviewItem item;                    // as recorded, adopted
  std::filesystem::path folder;       // the channel's folder
  std::string path;                   // the resource's path in the national channel
  std::vector<std::string> created;   // topic folders made, relative to `folder`
  PublishResult published;
};

// The topic "Grade 5 / Science" as its titles {"Grade 5", "Science"}; kInvalidArgument for an
// empty topic or level, more than 16 levels, a level over 200 bytes, not UTF-8 or with a
// control character.
Result<std::vector<std::string>> ParseReviewTopic(std::string_view topic);

// Adopts the pending item `request.id`: copies its file into the topic's folder (made, with an
// outpost.toml giving its title, where no topic of that title or folder name exists), adds its
// metadata to that folder's outpost.toml, publishes the folder as the next signed version of
// the channel, and records the decision. If publishing fails, the folder is put back as it was
// and the item stays pending. Errors: kNotFound (no such item, channel, or folder), and
// kInvalidArgument (an item not pending, a site's channel, a bad topic), each saying what to do.
Result<AdoptResult> AdoptReviewItem(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                    SyncDb* db, const AdoptRequest& request);

// Declines the pending item `id` with `reason` (shown to the site's teachers); the item as
// recorded. Errors: SyncDb::DecideReview's.
Result<ReviewItem> DeclineReviewItem(SyncDb* db, int64_t id, const std::string& reason);

}  // namespace outpost
