// Adopting a site's item into a national channel (review.h): the item becomes part of the
// channel's source folder, which is then published.
//
// Why the folder and not the catalog alone: a hub's channel is whatever `outpost publish
// FOLDER` last read; an item added to the catalog only would vanish from the next version the
// publisher makes from the folder. So the file is copied into the topic's folder (made as
// needed), its metadata appended to that folder's outpost.toml (appended, so the publisher's
// comments and layout stay as they were), and the folder published. Every change is undone if
// the publish fails, so a refused adoption leaves the folder as it found it.
#include <fcntl.h>
#include <unistd.h>

#include <system_error>
#include <utility>
#include <vector>

#include "outpost/base/env.h"
#include "outpost/base/file.h"
#include "outpost/base/text.h"
#include "outpost/content/sniff.h"
#include "outpost/sync/review.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxTopicLevels = 16;
constexpr size_t kMaxTopicTitle = 200;   // bytes
constexpr size_t kMaxFolderToml = 1 << 20;  // an outpost.toml read to append to it
constexpr int kMaxNameTries = 100;       // "name-2.pdf" … "name-100.pdf"
constexpr const char* kToml = "outpost.toml";

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

// A TOML basic string.
std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

Result<Hash> HashFile(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("opening " + path.string(), errno);
  Hasher hasher;
  std::vector<uint8_t> buf(1 << 16);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("reading " + path.string(), errno);
    if (n == 0) return hasher.Final();
    hasher.Update(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)));
  }
}

Status FsyncPath(const fs::path& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) return ErrnoStatus("syncing " + path.string(), errno);
  return Status::Ok();
}

// What adoption changed in the folder: undone, newest first, unless Keep() is called.
class FolderChanges {
 public:
  explicit FolderChanges(fs::path folder) : folder_(std::move(folder)) {}
  ~FolderChanges() {
    if (!kept_) Undo();
  }
  const fs::path& folder() const { return folder_; }
  Status MakeDir(const fs::path& rel);
  // Writes `rel` (temp file, fsync, rename), remembering what it held before.
  Status Write(const fs::path& rel, std::string_view contents);
  // Copies `from` to `rel`, a name not taken, durably.
  Status Copy(const fs::path& from, const fs::path& rel);
  void Keep() { kept_ = true; }

 private:
  struct Change {
    fs::path rel;                       // a folder made, a file made, or a file rewritten
    std::optional<std::string> before;  // a rewritten file's contents before; nullopt: made
  };
  void Undo();

  fs::path folder_;
  std::vector<Change> done_;
  bool kept_ = false;
};

Status FolderChanges::MakeDir(const fs::path& rel) {
  std::error_code ec;
  if (!fs::create_directory(folder_ / rel, ec) || ec) {
    return ErrnoStatus("making " + (folder_ / rel).string(), ec ? ec.value() : EEXIST);
  }
  done_.push_back({rel, std::nullopt});
  return FsyncPath((folder_ / rel).parent_path(), O_RDONLY | O_DIRECTORY);
}

Status FolderChanges::Write(const fs::path& rel, std::string_view contents) {
  Change change{rel, std::nullopt};
  auto before = ReadWholeFile(folder_ / rel, kMaxFolderToml);
  if (before) change.before = std::move(*before);
  else if (before.error().code() != StatusCode::kNotFound) return before.error();
  OUTPOST_RETURN_IF_ERROR(WriteFileAtomically(Env::Default(), folder_ / rel, contents));
  done_.push_back(std::move(change));
  return Status::Ok();
}

Status FolderChanges::Copy(const fs::path& from, const fs::path& rel) {
  fs::path to = folder_ / rel;
  fs::path temp = to.parent_path() / ("." + to.filename().string() + ".outpost-tmp");
  std::error_code ec;
  fs::copy_file(from, temp, fs::copy_options::overwrite_existing, ec);
  if (ec) return ErrnoStatus("copying to " + temp.string(), ec.value());
  Status synced = FsyncPath(temp, O_RDONLY);
  if (synced.ok() && ::rename(temp.c_str(), to.c_str()) != 0) {
    synced = ErrnoStatus("renaming " + temp.string(), errno);
  }
  if (!synced.ok()) {
    fs::remove(temp, ec);
    return synced;
  }
  done_.push_back({rel, std::nullopt});
  return FsyncPath(to.parent_path(), O_RDONLY | O_DIRECTORY);
}

void FolderChanges::Undo() {
  for (auto it = done_.rbegin(); it != done_.rend(); ++it) {
    std::error_code ec;
    if (it->before) (void)WriteFileAtomically(Env::Default(), folder_ / it->rel, *it->before);
    else fs::remove(folder_ / it->rel, ec);  // a file made, or a folder made (empty by now)
  }
}

// The folder name made for a topic title: "Grade 5" -> "grade-5"; "topic" when the title has
// no a-z or 0-9 (an Arabic title: its outpost.toml gives the title).
std::string FolderNameFor(const std::string& title) {
  std::string name = ChannelIdFromName(title);
  return name.empty() ? "topic" : name;
}

// The first of `name`, "stem-2.ext", … that `taken` does not refuse.
template <typename Taken>
std::optional<std::string> FreeName(const std::string& name, Taken taken) {
  if (!taken(name)) return name;
  fs::path p(name);
  std::string stem = p.stem().string(), ext = p.extension().string();
  for (int i = 2; i <= kMaxNameTries; ++i) {
    std::string candidate = stem + "-" + std::to_string(i) + ext;
    if (!taken(candidate)) return candidate;
  }
  return std::nullopt;
}

// The child topic of `parent` (0: none known) that `level` names by title or folder name.
std::optional<Node> MatchingTopic(Catalog* catalog, int64_t parent, const std::string& level) {
  if (parent == 0) return std::nullopt;
  for (auto& child : catalog->Children(parent)) {
    if (child.kind != NodeKind::kTopic) continue;
    std::string folder_name = fs::path(child.path).filename().string();
    if (child.meta.title == level || folder_name == level) return std::move(child);
  }
  return std::nullopt;
}

// Makes the folder of a topic titled `level` under `parent_rel`; its path relative to the
// channel folder.
Result<fs::path> MakeTopic(FolderChanges* changes, const fs::path& parent_rel,
                           const std::string& level) {
  auto name = FreeName(FolderNameFor(level), [&](const std::string& n) {
    return fs::exists(changes->folder() / parent_rel / n);
  });
  if (!name) return InvalidArgument("no free folder name for topic \"" + level + "\"");
  fs::path rel = parent_rel / *name;
  OUTPOST_RETURN_IF_ERROR(changes->MakeDir(rel));
  OUTPOST_RETURN_IF_ERROR(changes->Write(rel / kToml, "[topic]\ntitle = " + TomlString(level) + "\n"));
  return rel;
}

// The folder of the topic `levels` names, relative to the channel folder: an existing topic
// (by title or folder name) where there is one, else made; `created` gets what was made.
Result<fs::path> PlaceTopic(Catalog* catalog, int64_t root, FolderChanges* changes,
                            const std::vector<std::string>& levels,
                            std::vector<std::string>* created) {
  fs::path rel;
  int64_t parent = root;
  for (const auto& level : levels) {
    auto topic = MatchingTopic(catalog, parent, level);
    if (topic && fs::is_directory(changes->folder() / topic->path)) {
      rel = topic->path;
      parent = topic->id;
      continue;
    }
    parent = 0;  // below here, only the folder is known
    if (fs::is_directory(changes->folder() / rel / level) && FolderNameFor(level) == level) {
      rel /= level;
      continue;
    }
    auto made = MakeTopic(changes, rel, level);
    if (!made) return made.error();
    rel = *made;
    created->push_back(rel.string());
  }
  return rel;
}

// A thumbnail's file extension from its first bytes; nullopt if it is not an image.
std::optional<std::string> ThumbnailExtension(const fs::path& blob) {
  std::string bytes;
  UniqueFd fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  bytes.resize(kSniffBytes);
  ssize_t n = ::read(fd.get(), bytes.data(), bytes.size());
  if (n <= 0) return std::nullopt;
  bytes.resize(static_cast<size_t>(n));
  auto guess = DetectKind("", std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  if (guess.kind != NodeKind::kImage) return std::nullopt;
  for (auto [mime, ext] : {std::pair{"image/png", ".png"}, {"image/jpeg", ".jpg"},
                           {"image/gif", ".gif"}, {"image/webp", ".webp"}, {"image/svg", ".svg"}}) {
    if (guess.mime.rfind(mime, 0) == 0) return std::string(ext);
  }
  return std::nullopt;
}

// The [files."NAME"] table of the adopted item (and of its thumbnail, hidden).
std::string FilesTable(const ReviewItem& item, const std::string& name,
                       const std::optional<std::string>& thumbnail) {
  std::string t = "\n# adopted from site " + (item.site_name.empty() ? "?" : item.site_name) +
                  ", channel " + item.channel_id + ", " + item.path + " (review item " +
                  std::to_string(item.id) + ")\n[files." + TomlString(name) + "]\n";
  for (auto [key, value] : {std::pair{"title", &item.title}, {"description", &item.description},
                            {"language", &item.language}, {"grade", &item.grade},
                            {"subject", &item.subject}, {"license", &item.license},
                            {"author", &item.author}}) {
    if (!value->empty()) t += std::string(key) + " = " + TomlString(*value) + "\n";
  }
  auto kind = KindFromName(item.kind);  // a resource's kind, never a topic
  if (kind && *kind != NodeKind::kTopic && *kind != NodeKind::kOther) {
    t += "kind = " + TomlString(item.kind) + "\n";
  }
  if (thumbnail) {
    t += "thumbnail = " + TomlString(*thumbnail) + "\n";
    t += "\n[files." + TomlString(*thumbnail) + "]\nhidden = true\n";
  }
  return t;
}

// The name the adopted file takes: its name at the site, unless that name is not a plain,
// visible file name the importer reads as a resource (a site signs its own manifests, so its
// paths are whatever it wrote): "item-ID" then.
std::string AdoptedName(const ReviewItem& item) {
  std::string name = fs::path(item.path).filename().string();
  bool plain = !name.empty() && name.front() != '.' && name != kToml &&
               name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
  if (plain) return name;
  std::string ext = fs::path(name).extension().string();
  bool plain_ext = ext.size() <= 10 && ext.find_first_not_of(
      ".abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == std::string::npos;
  return "item-" + std::to_string(item.id) + (plain_ext ? ext : "");
}

// Puts the item's file (and thumbnail) in `topic` and appends its metadata; the file's name.
// A file of the same name and content there already is taken as placed before (an adoption
// whose record failed after its publish) and left as it is.
Result<std::string> PlaceFile(BlobStore* store, const ReviewItem& item, FolderChanges* changes,
                              const fs::path& topic) {
  const fs::path dir = changes->folder() / topic;
  bool same_there = false;
  auto name = FreeName(AdoptedName(item), [&](const std::string& n) {
    if (!fs::exists(dir / n)) return false;
    auto hash = HashFile(dir / n);
    same_there = hash && *hash == item.blob;
    return !same_there;
  });
  if (!name) return InvalidArgument("no free file name in " + dir.string());
  if (same_there) return *name;
  OUTPOST_RETURN_IF_ERROR(changes->Copy(store->PathOf(item.blob), topic / *name));
  std::optional<std::string> thumbnail;
  if (item.thumbnail && store->Contains(*item.thumbnail)) {
    if (auto ext = ThumbnailExtension(store->PathOf(*item.thumbnail))) {
      thumbnail = FreeName(fs::path(*name).stem().string() + ".thumbnail" + *ext,
                           [&](const std::string& n) { return fs::exists(dir / n); });
      if (thumbnail) {
        OUTPOST_RETURN_IF_ERROR(changes->Copy(store->PathOf(*item.thumbnail), topic / *thumbnail));
      }
    }
  }
  std::string toml;
  auto before = ReadWholeFile(dir / kToml, kMaxFolderToml);
  if (before) toml = std::move(*before);
  else if (before.error().code() != StatusCode::kNotFound) return before.error();
  if (!toml.empty() && toml.back() != '\n') toml += '\n';
  OUTPOST_RETURN_IF_ERROR(changes->Write(topic / kToml, toml + FilesTable(item, *name, thumbnail)));
  return *name;
}

// The pending item `id`, or why it cannot be adopted.
Result<ReviewItem> PendingItem(SyncDb* db, int64_t id, BlobStore* store) {
  auto item = db->ReviewItemById(id);
  if (!item) {
    return NotFound("no review item has id " + std::to_string(id) +
                    " (outpost hub review list shows them)");
  }
  if (item->state != ReviewState::kPending) {
    return InvalidArgument("review item " + std::to_string(id) + " is " +
                           ReviewStateName(item->state) + " already");
  }
  if (!store->Contains(item->blob)) {
    return NotFound("the file of review item " + std::to_string(id) + " (" + item->blob.Hex() +
                    ") is not in this hub's store");
  }
  return *item;
}

// The national channel's folder: the one given, else the one its served version came from.
Result<fs::path> ChannelFolder(Catalog* catalog, SyncDb* db, const AdoptRequest& request,
                               int64_t* root) {
  const std::string& id = request.channel_id;
  if (db->ChannelOwner(id)) {
    return InvalidArgument("channel " + id + " is a site's own channel; adopt into a channel "
                           "this hub publishes");
  }
  auto channel = catalog->Channel(id);
  if (!channel || channel->served_version == 0) {
    return NotFound("this hub serves no channel " + id + " (outpost list shows its channels)");
  }
  *root = channel->root_node;
  fs::path folder = request.folder;
  if (folder.empty()) {
    auto version = catalog->LoadVersion(id, channel->served_version);
    if (!version) return version.error();
    folder = version->source;
  }
  if (folder.empty() || !fs::is_directory(folder)) {
    return NotFound("channel " + id + "'s source folder " +
                    (folder.empty() ? std::string("is not known") : folder.string() + " is not here") +
                    ": give the folder it is published from with --folder");
  }
  return folder;
}

std::string JoinPath(const fs::path& topic, const std::string& name) {
  return topic.empty() ? name : (topic / name).generic_string();
}

}  // namespace

Result<std::vector<std::string>> ParseReviewTopic(std::string_view topic) {
  std::vector<std::string> levels;
  size_t start = 0;
  for (;;) {
    size_t slash = topic.find('/', start);
    std::string level = Trim(topic.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (level.empty()) {
      return InvalidArgument("the topic \"" + EscapeInvalidUtf8(topic) +
                             "\" has an empty level: write titles between '/', like "
                             "\"Grade 5/Science\"");
    }
    bool control = false;
    for (char c : level) control |= static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    if (level.size() > kMaxTopicTitle || !IsValidUtf8(level) || control || level == "." ||
        level == "..") {
      return InvalidArgument("topic level \"" + EscapeInvalidUtf8(level) +
                             "\" is not a title: UTF-8, at most 200 bytes, no control characters");
    }
    levels.push_back(std::move(level));
    if (levels.size() > kMaxTopicLevels) return InvalidArgument("a topic has at most 16 levels");
    if (slash == std::string_view::npos) return levels;
    start = slash + 1;
  }
}

Result<AdoptResult> AdoptReviewItem(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                    SyncDb* db, const AdoptRequest& request) {
  OUTPOST_RETURN_IF_ERROR(RefreshReview(db, catalog));
  auto item = PendingItem(db, request.id, store);
  if (!item) return item.error();
  auto levels = ParseReviewTopic(request.topic);
  if (!levels) return levels.error();
  int64_t root = 0;
  auto folder = ChannelFolder(catalog, db, request, &root);
  if (!folder) return folder.error();
  AdoptResult result;
  result.folder = *folder;
  FolderChanges changes(*folder);
  auto topic = PlaceTopic(catalog, root, &changes, *levels, &result.created);
  if (!topic) return topic.error();
  auto name = PlaceFile(store, *item, &changes, *topic);
  if (!name) return name.error();
  ImportOptions options;
  options.channel_id = request.channel_id;
  auto published = Publish(paths, store, catalog, *folder, options);
  if (!published) return published.error().WithContext("the folder is left as it was");
  changes.Keep();
  result.published = *published;
  result.path = JoinPath(*topic, *name);
  std::string topic_name;
  for (const auto& level : *levels) topic_name += (topic_name.empty() ? "" : "/") + level;
  ReviewDecision decision{ReviewState::kAdopted, "", request.channel_id, topic_name,
                          result.path, published->version};
  OUTPOST_RETURN_IF_ERROR(db->DecideReview(request.id, decision));
  result.item = db->ReviewItemById(request.id).value_or(*item);
  return result;
}

}  // namespace outpost
