// The review list: what sites sent up, item by item (review.h). Adoption is review_adopt.cc.
#include "outpost/sync/review.h"

#include <utility>
#include <vector>

#include "outpost/base/text.h"

namespace outpost {

namespace {

// Length-prefixed, so that no two different items hash the same bytes.
void AddField(std::string* out, std::string_view field) {
  *out += std::to_string(field.size());
  *out += ':';
  *out += field;
}

Hash FingerprintOf(const ReviewItem& r) {
  std::string bytes = "outpost review item v1\n";
  AddField(&bytes, r.blob.Hex());
  AddField(&bytes, r.thumbnail ? r.thumbnail->Hex() : "");
  for (const std::string* f : {&r.kind, &r.title, &r.description, &r.language, &r.grade,
                               &r.subject, &r.license, &r.author, &r.mime}) {
    AddField(&bytes, *f);
  }
  return Hash::Of(bytes);
}

bool IsSpace(char32_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0; }

// Every listed resource of the tree under `root`, topics walked with a stack of their own.
std::vector<Node> ListedResources(Catalog* catalog, int64_t root) {
  std::vector<Node> out;
  std::vector<int64_t> topics = {root};
  while (!topics.empty()) {
    int64_t topic = topics.back();
    topics.pop_back();
    for (auto& child : catalog->Children(topic)) {
      if (child.kind == NodeKind::kTopic) topics.push_back(child.id);
      else if (child.blob) out.push_back(std::move(child));
    }
  }
  return out;
}

}  // namespace

std::string ReviewExcerpt(std::string_view text) {
  std::string out;
  size_t pos = 0, chars = 0;
  bool space = false;
  while (pos < text.size() && chars < kReviewExcerptChars) {
    char32_t c = DecodeUtf8(text, &pos);
    if (IsSpace(c)) {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      ++chars;
      space = false;
    }
    AppendUtf8(c, &out);
    ++chars;
  }
  while (pos < text.size() && IsSpace(static_cast<unsigned char>(text[pos]))) ++pos;
  if (pos < text.size()) {
    size_t cut = out.rfind(' ');
    if (cut != std::string::npos && cut > out.size() * 3 / 4) out.resize(cut);
    out += "…";
  }
  return out;
}

ReviewItem ReviewItemOf(Catalog* catalog, const Node& node) {
  ReviewItem r;
  r.channel_id = node.channel_id;
  r.path = node.path;
  r.kind = KindName(node.kind);
  r.title = node.meta.title;
  r.description = node.meta.description;
  r.language = node.meta.language;
  r.grade = node.meta.grade;
  r.subject = node.meta.subject;
  r.license = node.meta.license;
  r.author = node.meta.author;
  r.size = node.size;
  r.mime = node.mime;
  r.blob = node.blob.value_or(Hash{});
  r.thumbnail = node.thumbnail;
  r.excerpt = ReviewExcerpt(catalog->SearchText(node.id));
  r.fingerprint = FingerprintOf(r);
  return r;
}

Status RefreshReview(SyncDb* db, Catalog* catalog) {
  for (const auto& [channel_id, owner] : db->SiteChannels()) {
    auto channel = catalog->Channel(channel_id);
    OUTPOST_RETURN_IF_ERROR(Catalog::TakeReadError());
    if (!channel || channel->served_version == 0) continue;
    if (db->ReviewedVersion(channel_id) >= channel->served_version) continue;
    std::vector<ReviewItem> items;
    for (const auto& node : ListedResources(catalog, channel->root_node)) {
      items.push_back(ReviewItemOf(catalog, node));
    }
    OUTPOST_RETURN_IF_ERROR(Catalog::TakeReadError());
    OUTPOST_RETURN_IF_ERROR(db->NoteReviewVersion(channel_id, channel->served_version, items));
  }
  return Status::Ok();
}

Result<ReviewItem> DeclineReviewItem(SyncDb* db, int64_t id, const std::string& reason) {
  ReviewDecision decision;
  decision.state = ReviewState::kDeclined;
  decision.reason = reason;
  OUTPOST_RETURN_IF_ERROR(db->DecideReview(id, decision));
  auto item = db->ReviewItemById(id);
  if (!item) return Internal("review item " + std::to_string(id) + " vanished");
  return *item;
}

}  // namespace outpost
