// The school's materials (school_materials.h): checks of what a teacher typed, then one edit
// of the school channel's served version per operation, through PublishEdit. The edits work on
// the draft tree only; they may run again on a fresh draft if another change came first, so
// each starts from what it is given and keeps its result in the caller's variables.
#include "outpost/sync/school_materials.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "outpost/base/text.h"
#include "outpost/content/importer.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

namespace {

constexpr size_t kMaxSafeName = 60;
constexpr size_t kMaxMaterialPath = 4096;
constexpr int kMaxSameName = 10000;
constexpr char kExerciseExtension[] = ".exercise.json";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool HasControl(std::string_view s, bool multiline) {
  for (unsigned char c : s) {
    bool line_break = c == '\n' || c == '\r' || c == '\t';
    if ((c < 0x20 && !(multiline && line_break)) || c == 0x7f) return true;
  }
  return false;
}

// Valid UTF-8, no control characters, at most `max` bytes; not empty unless `may_be_empty`.
Status CheckText(const std::string& field, std::string_view value, size_t max, bool multiline,
                 bool may_be_empty) {
  if (!IsValidUtf8(value)) return InvalidArgument(field + " is not valid UTF-8");
  if (value.size() > max) {
    return InvalidArgument(field + " is longer than " + std::to_string(max) + " bytes");
  }
  if (HasControl(value, multiline)) return InvalidArgument(field + " holds control characters");
  if (!may_be_empty && Trim(value).empty()) return InvalidArgument(field + " may not be empty");
  return Status::Ok();
}

// "fr", "ar-LB", "zh-Hant-TW": 2 to 8 letters, then parts of 1 to 8 letters or digits.
bool IsLanguageTag(std::string_view tag) {
  size_t part = 0, length = 0;
  for (size_t i = 0; i <= tag.size(); ++i) {
    if (i == tag.size() || tag[i] == '-') {
      if (length == 0 || length > 8 || (part == 0 && length < 2)) return false;
      ++part;
      length = 0;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(tag[i]);
    bool letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    if (!letter && !(part > 0 && c >= '0' && c <= '9')) return false;
    ++length;
  }
  return true;
}

void SetField(const std::optional<std::string>& value, std::string* out) {
  if (value) *out = std::string(Trim(*value));
}

void ApplyFields(const MaterialFields& f, NodeMeta* meta) {
  SetField(f.title, &meta->title);
  SetField(f.description, &meta->description);
  SetField(f.language, &meta->language);
  SetField(f.grade, &meta->grade);
  SetField(f.subject, &meta->subject);
  SetField(f.license, &meta->license);
  SetField(f.author, &meta->author);
}

// The extension kept from an upload's name: ".exercise.json", or the last one if it is 1 to
// 10 ASCII letters and digits (lower-cased); "" otherwise.
std::string ExtensionOf(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (lower.size() > sizeof kExerciseExtension - 1 && lower.ends_with(kExerciseExtension)) {
    return kExerciseExtension;
  }
  size_t dot = lower.rfind('.');
  if (dot == std::string::npos || dot == 0 || lower.size() - dot - 1 > 10) return "";
  std::string ext = lower.substr(dot + 1);
  for (char c : ext) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return "";
  }
  return ext.empty() ? "" : "." + ext;
}

Status CheckFileName(const std::string& name) {
  OUTPOST_RETURN_IF_ERROR(CheckText("the file name", name, kMaxFileName, false, false));
  if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos || name == "." ||
      name == "..") {
    return InvalidArgument("the file name \"" + name + "\" may not hold '/', '\\' or be \"..\"");
  }
  return Status::Ok();
}

std::string LastPart(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// `base` + `ext`, or base-2 + ext, base-3 + ext, ...: the first name no child of `topic` has.
Result<std::string> UniqueName(const DraftNode& topic, const std::string& base,
                               const std::string& ext) {
  for (int n = 1; n <= kMaxSameName; ++n) {
    std::string name = n == 1 ? base + ext : base + "-" + std::to_string(n) + ext;
    bool taken = std::any_of(topic.children.begin(), topic.children.end(),
                             [&](const DraftNode& c) { return LastPart(c.path) == name; });
    if (!taken) return name;
  }
  return InvalidArgument("topic \"" + topic.meta.title + "\" has too many materials named " + base +
                         ext);
}

// The child topic of `parent` titled `title` (folded, as search compares), or named as its safe
// name would be; made (at the end) if there is none.
DraftNode* MatchTopic(DraftNode* parent, const std::string& title) {
  std::string name = SafeName(title, "topic");
  std::string folded = FoldForSearch(title);
  for (DraftNode& c : parent->children) {
    if (c.kind != NodeKind::kTopic) continue;
    if (FoldForSearch(c.meta.title) == folded || LastPart(c.path) == name) return &c;
  }
  return nullptr;
}

// The topic at `titles` if it exists already; else null.
DraftNode* FindTopic(DraftNode* root, const std::vector<std::string>& titles) {
  DraftNode* at = root;
  for (size_t i = 0; at != nullptr && i < titles.size(); ++i) at = MatchTopic(at, titles[i]);
  return at;
}

Result<DraftNode*> ChildTopic(DraftNode* parent, const std::string& title) {
  if (DraftNode* found = MatchTopic(parent, title)) return found;
  std::string name = SafeName(title, "topic");
  auto unique = UniqueName(*parent, name, "");
  if (!unique) return unique.error();
  DraftNode topic;
  topic.kind = NodeKind::kTopic;
  topic.path = Join(parent->path, *unique);
  topic.meta.title = title;
  parent->children.push_back(std::move(topic));
  return &parent->children.back();
}

Result<DraftNode*> EnsureTopic(DraftNode* root, const std::vector<std::string>& titles) {
  DraftNode* at = root;
  for (const std::string& title : titles) {
    auto child = ChildTopic(at, title);
    if (!child) return child.error();
    at = *child;
  }
  return at;
}

// The node at `path` under `n` and its parent (a material is never the root).
struct Found {
  DraftNode* parent = nullptr;
  size_t index = 0;
  DraftNode& node() const { return parent->children[index]; }
};

std::optional<Found> FindNode(DraftNode* n, const std::string& path) {
  for (size_t i = 0; i < n->children.size(); ++i) {
    if (n->children[i].path == path) return Found{n, i};
    if (n->children[i].kind != NodeKind::kTopic || !path.starts_with(n->children[i].path + "/")) {
      continue;
    }
    return FindNode(&n->children[i], path);
  }
  return std::nullopt;
}

Result<Found> FindMaterial(VersionDraft* d, const std::string& path) {
  auto found = FindNode(&d->root, path);
  if (!found) return NotFound("the school's channel has no material " + EscapeInvalidUtf8(path));
  if (found->node().kind == NodeKind::kTopic) {
    return InvalidArgument(EscapeInvalidUtf8(path) + " is a topic, not a material");
  }
  return *found;
}

// Removes the topics under `n` that hold nothing (after their own empty topics are removed).
void PruneEmptyTopics(DraftNode* n) {
  for (DraftNode& c : n->children) PruneEmptyTopics(&c);
  std::erase_if(n->children, [](const DraftNode& c) {
    return c.kind == NodeKind::kTopic && c.children.empty();
  });
}

// The school channel's title and source, on the version that creates it.
void NameChannel(const NodePaths& paths, VersionDraft* d) {
  if (!d->meta.title.empty()) return;
  std::string title = "Teachers' materials";
  if (auto db = SyncDb::Open(paths.sync_db)) {
    if (auto hub = (*db)->Hub(); hub && !hub->site_name.empty()) title += ": " + hub->site_name;
  }
  d->meta.title = d->root.meta.title = title;
  d->source = "teachers' uploads";
}

// Checks a material's path as given (a URL or a form): valid UTF-8, not empty, bounded.
Status CheckMaterialPath(const std::string& path) {
  if (path.empty() || path.size() > kMaxMaterialPath || !IsValidUtf8(path)) {
    return InvalidArgument(
        "a material is named by its path in the school's channel, in UTF-8, "
        "of 1 to " +
        std::to_string(kMaxMaterialPath) + " bytes");
  }
  return Status::Ok();
}

void CollectTopics(const DraftNode& n, const std::string& title, std::vector<SchoolTopic>* out) {
  for (const DraftNode& c : n.children) {
    if (c.kind != NodeKind::kTopic) continue;
    std::string full = title.empty() ? c.meta.title : title + " / " + c.meta.title;
    out->push_back({c.path, full});
    CollectTopics(c, full, out);
  }
}

}  // namespace

Status CheckMaterialFields(const MaterialFields& f) {
  struct Rule {
    const char* name;
    const std::optional<std::string>& value;
    size_t max;
    bool multiline, may_be_empty;
  };
  const Rule rules[] = {
      {"the title", f.title, kMaxMaterialTitle, false, false},
      {"the description", f.description, kMaxMaterialDescription, true, true},
      {"the language", f.language, kMaxMaterialLanguage, false, true},
      {"the grade", f.grade, kMaxMaterialValue, false, true},
      {"the subject", f.subject, kMaxMaterialValue, false, true},
      {"the licence", f.license, kMaxMaterialValue, false, true},
      {"the author", f.author, kMaxMaterialValue, false, true},
  };
  for (const Rule& r : rules) {
    if (!r.value) continue;
    OUTPOST_RETURN_IF_ERROR(CheckText(r.name, *r.value, r.max, r.multiline, r.may_be_empty));
  }
  if (f.language && !Trim(*f.language).empty() && !IsLanguageTag(Trim(*f.language))) {
    return InvalidArgument("the language \"" + *f.language +
                           "\" is not a language tag such as \"fr\" or \"ar-LB\"");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ParseTopicPath(const std::string& topic) {
  std::vector<std::string> titles;
  if (!IsValidUtf8(topic)) return InvalidArgument("the topic is not valid UTF-8");
  if (Trim(topic).empty()) return titles;
  size_t start = 0;
  for (;;) {
    size_t slash = topic.find('/', start);
    std::string part(Trim(std::string_view(topic).substr(
        start, slash == std::string::npos ? std::string::npos : slash - start)));
    if (part == ".." || part == ".") {
      return InvalidArgument("the topic \"" + topic + "\" may not hold \"" + part + "\"");
    }
    OUTPOST_RETURN_IF_ERROR(
        CheckText("a part of the topic \"" + topic + "\"", part, kMaxTopicTitle, false, false));
    titles.push_back(std::move(part));
    if (titles.size() > kMaxTopicDepth) {
      return InvalidArgument("the topic \"" + topic + "\" is more than " +
                             std::to_string(kMaxTopicDepth) + " levels deep");
    }
    if (slash == std::string::npos) return titles;
    start = slash + 1;
  }
}

std::string SafeName(std::string_view title, std::string_view fallback) {
  std::string folded = FoldForSearch(title), out;
  bool gap = false;
  for (size_t pos = 0; pos < folded.size();) {
    char32_t cp = DecodeUtf8(folded, &pos);
    if (!IsWordCodePoint(cp) || cp < 0x20) {
      gap = true;
      continue;
    }
    std::string piece = gap && !out.empty() ? "-" : "";
    AppendUtf8(cp, &piece);
    if (out.size() + piece.size() > kMaxSafeName) break;
    out += piece;
    gap = false;
  }
  return out.empty() ? std::string(fallback) : out;
}

Result<std::string> SchoolMaterials::ChannelId() {
  auto node = LoadOrCreateIdentity(paths_.node_key);
  if (!node) return node.error();
  return "school-" + node->public_key().Hex().substr(0, 16);
}

Result<SchoolTree> SchoolMaterials::Tree() {
  auto id = ChannelId();
  if (!id) return id.error();
  SchoolTree tree;
  tree.channel_id = *id;
  tree.draft.channel_id = *id;
  auto info = catalog_->Channel(*id);
  OUTPOST_RETURN_IF_ERROR(Catalog::TakeReadError());
  if (!info || info->served_version == 0) return tree;
  auto draft = catalog_->LoadVersion(*id, info->served_version);
  if (!draft) return draft.error();
  tree.version = info->served_version;
  tree.draft = std::move(*draft);
  return tree;
}

Result<std::vector<SchoolTopic>> SchoolMaterials::Topics() {
  auto tree = Tree();
  if (!tree) return tree.error();
  std::vector<SchoolTopic> out;
  CollectTopics(tree->draft.root, "", &out);
  return out;
}

Result<MaterialChange> SchoolMaterials::Change(const std::string& id, const std::string& path_after,
                                               const std::function<Status(VersionDraft*)>& edit) {
  auto published = PublishEdit(paths_, catalog_, id, edit);
  if (!published) return published.error();
  MaterialChange change;
  change.channel_id = id;
  change.version = published->version;
  change.path = path_after;
  change.manifest_hash = published->manifest_hash;
  return change;
}

Result<MaterialChange> SchoolMaterials::Add(const NewMaterial& m) {
  OUTPOST_RETURN_IF_ERROR(CheckMaterialFields(m.fields));
  OUTPOST_RETURN_IF_ERROR(CheckFileName(m.file_name));
  auto titles = ParseTopicPath(m.topic);
  if (!titles) return titles.error();
  auto id = ChannelId();
  if (!id) return id.error();
  // Read before the file moves: a refusal (an exercise that does not parse) leaves it as it was.
  auto node = DescribeFile(m.file, m.file_name);
  if (!node) return node.error();
  node->listed = true;  // a teacher's upload is for learners, even a style sheet
  ApplyFields(m.fields, &node->meta);
  auto lock = store_->LockShared();  // gc keeps away until the version refers to the blob
  if (!lock) return lock.error();
  auto blob = store_->Adopt(m.file);
  if (!blob) return blob.error();
  node->blob = blob->hash;
  if (node->kind == NodeKind::kImage) node->thumbnail = blob->hash;
  auto change = Place(*id, *blob, *titles, ExtensionOf(m.file_name), *node);
  if (!change) {
    // The file is the store's now: give the upload its name back (a second link, no copy), so
    // that the teacher can place it again.
    if (::link(store_->PathOf(blob->hash).c_str(), m.file.c_str()) != 0) {
      return change.error().WithContext("the upload is now only in the blob store as " +
                                        blob->hash.Hex());
    }
  }
  return change;
}

Result<MaterialChange> SchoolMaterials::Place(const std::string& id, const BlobInfo& blob,
                                              const std::vector<std::string>& titles,
                                              const std::string& ext, const DraftNode& node) {
  OUTPOST_RETURN_IF_ERROR(store_->SyncDirs());
  OUTPOST_RETURN_IF_ERROR(catalog_->RecordBlobs({blob}));
  std::string base = SafeName(node.meta.title, "material"), placed;
  auto change = Change(id, "", [&](VersionDraft* d) -> Status {
    NameChannel(paths_, d);
    auto topic = EnsureTopic(&d->root, titles);
    if (!topic) return topic.error();
    auto name = UniqueName(**topic, base, ext);
    if (!name) return name.error();
    DraftNode placed_node = node;
    placed = placed_node.path = Join((*topic)->path, *name);
    (*topic)->children.push_back(std::move(placed_node));
    return Status::Ok();
  });
  if (!change) return change.error();
  change->path = placed;
  change->blob = blob.hash;
  return change;
}

Result<MaterialChange> SchoolMaterials::Edit(const std::string& path,
                                             const MaterialFields& fields) {
  OUTPOST_RETURN_IF_ERROR(CheckMaterialPath(path));
  OUTPOST_RETURN_IF_ERROR(CheckMaterialFields(fields));
  auto id = ChannelId();
  if (!id) return id.error();
  return Change(*id, path, [&](VersionDraft* d) -> Status {
    auto found = FindMaterial(d, path);
    if (!found) return found.error();
    ApplyFields(fields, &found->node().meta);
    return Status::Ok();
  });
}

Result<MaterialChange> SchoolMaterials::Move(const std::string& path, const std::string& topic) {
  OUTPOST_RETURN_IF_ERROR(CheckMaterialPath(path));
  auto titles = ParseTopicPath(topic);
  if (!titles) return titles.error();
  auto id = ChannelId();
  if (!id) return id.error();
  std::string placed;
  auto change = Change(*id, "", [&](VersionDraft* d) -> Status {
    auto found = FindMaterial(d, path);
    if (!found) return found.error();
    DraftNode* already = FindTopic(&d->root, *titles);
    if (already && already->path == found->parent->path) {
      placed = path;  // there already: nothing changes, not even its place
      return Status::Ok();
    }
    DraftNode moving = std::move(found->node());
    found->parent->children.erase(found->parent->children.begin() +
                                  static_cast<std::ptrdiff_t>(found->index));
    auto target = EnsureTopic(&d->root, *titles);
    if (!target) return target.error();
    std::string name = LastPart(moving.path);
    size_t dot = name.find('.');
    auto unique =
        UniqueName(**target, name.substr(0, dot), dot == std::string::npos ? "" : name.substr(dot));
    if (!unique) return unique.error();
    placed = moving.path = Join((*target)->path, *unique);
    (*target)->children.push_back(std::move(moving));
    PruneEmptyTopics(&d->root);
    return Status::Ok();
  });
  if (!change) return change.error();
  change->path = placed;
  return change;
}

Result<MaterialChange> SchoolMaterials::Delete(const std::string& path) {
  OUTPOST_RETURN_IF_ERROR(CheckMaterialPath(path));
  auto id = ChannelId();
  if (!id) return id.error();
  return Change(*id, "", [&](VersionDraft* d) -> Status {
    auto found = FindMaterial(d, path);
    if (!found) return found.error();
    found->parent->children.erase(found->parent->children.begin() +
                                  static_cast<std::ptrdiff_t>(found->index));
    PruneEmptyTopics(&d->root);
    return Status::Ok();
  });
}

}  // namespace outpost
