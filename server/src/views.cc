#include "views.h"

#include "http/url.h"
#include "pager.h"
#include "value_labels.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "outpost/base/file.h"
#include "outpost/content/exercise.h"

namespace outpost {

namespace {

constexpr size_t kMaxExerciseBytes = 1 << 20;

std::string KindLabel(const ViewLanguage& lang, NodeKind kind) {
  return lang.T(std::string("kind_") + KindName(kind));
}

std::string LanguageName(const ViewLanguage& lang, const std::string& code) {
  if (code.empty() || !lang.language_name) return code;
  return lang.language_name(code);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Stem(const std::string& name) {
  size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

// Splits a catalog snippet ("…the \x02rain\x03 falls…") into parts for the template.
nlohmann::json SnippetParts(const std::string& snippet) {
  nlohmann::json parts = nlohmann::json::array();
  std::string text;
  bool match = false;
  auto flush = [&] {
    if (!text.empty()) parts.push_back({{"text", text}, {"match", match}});
    text.clear();
  };
  for (char c : snippet) {
    if (c == '\x02' || c == '\x03') {
      flush();
      match = c == '\x02';
    } else {
      text += c;
    }
  }
  flush();
  return parts;
}

// An exercise's file, checked against its hash: a page is never made from damaged bytes.
Result<std::string> ReadExerciseBlob(BlobStore* store, const Hash& hash) {
  auto bytes = ReadWholeFile(store->PathOf(hash), kMaxExerciseBytes);
  if (!bytes) return bytes.error();
  if (Hash::Of(*bytes) != hash) {
    return Corrupt("blob " + hash.Hex() + " is damaged: its bytes do not match its hash");
  }
  return bytes;
}

}  // namespace

std::string ViewLanguage::T(const std::string& key) const {
  if (strings && strings->contains(key) && (*strings)[key].is_string()) {
    return (*strings)[key].get<std::string>();
  }
  return key;
}

std::string PercentEncodePath(std::string_view path) { return PercentEncode(path, true); }

std::string TopicUrl(const std::string& channel, const std::string& path) {
  return "/t/" + channel + "/" + PercentEncodePath(path);
}
std::string ResourceUrl(const std::string& channel, const std::string& path) {
  return "/r/" + channel + "/" + PercentEncodePath(path);
}
std::string FileUrl(const std::string& channel, const std::string& path) {
  return "/c/" + channel + "/" + PercentEncodePath(path);
}

std::string SizeLabel(uint64_t bytes) {
  char buf[32];
  if (bytes >= 1000000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  } else if (bytes >= 1000) {
    std::snprintf(buf, sizeof buf, "%.0f KB", static_cast<double>(bytes) / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

bool Views::Hidden(const std::string& channel_id) const {
  return settings_ && settings_->Current()->Hidden(channel_id);
}

// A search asks the catalog for more hits while channels are hidden, so that dropping theirs
// still leaves `limit` when there are that many.
Result<std::vector<SearchHit>> Views::VisibleHits(const std::string& query, int limit,
                                                  const SearchFilters& filters) {
  auto settings = settings_ ? settings_->Current() : nullptr;
  bool hiding = settings && !settings->hidden_channels.empty();
  if (hiding && settings->Hidden(filters.channel_id)) return std::vector<SearchHit>{};
  auto hits = catalog_->Search(query, hiding ? std::min(limit * 4, 500) : limit, filters);
  if (!hits || !hiding) return hits;
  std::erase_if(*hits, [&](const SearchHit& h) { return settings->Hidden(h.channel_id); });
  if (hits->size() > static_cast<size_t>(limit)) hits->resize(static_cast<size_t>(limit));
  return hits;
}

std::optional<nlohmann::json> Views::Home(const ViewLanguage& lang, int64_t page) {
  std::vector<ChannelInfo> served = catalog_->Channels();
  std::erase_if(served, [this](const ChannelInfo& c) { return !c.served_version || Hidden(c.id); });
  auto total = static_cast<int64_t>(served.size());
  if (page < 1 || page > PageCount(total)) return std::nullopt;
  nlohmann::json channels = nlohmann::json::array();
  for (int64_t i = (page - 1) * kPageSize; i < std::min(total, page * kPageSize); ++i) {
    const ChannelInfo& c = served[static_cast<size_t>(i)];
    nlohmann::json item = {{"id", c.id},
                           {"title", ShortText(c.meta.title, kListTitleBytes)},
                           {"description", ShortText(c.meta.description, kListTextBytes)},
                           {"language", c.meta.language},
                           {"language_name", LanguageName(lang, c.meta.language)},
                           {"url", TopicUrl(c.id, "")},
                           {"files", c.files},
                           {"size_label", SizeLabel(static_cast<uint64_t>(c.bytes))}};
    if (c.thumbnail) item["thumbnail_url"] = "/blob/" + c.thumbnail->Hex();
    channels.push_back(std::move(item));
  }
  nlohmann::json view = {
      {"page_title", lang.T("home")},
      {"breadcrumb", nlohmann::json::array({{{"title", lang.T("home")}, {"url", "/"}}})},
      {"channels", channels}};
  AddPager(lang, "/", page, total, view);
  return view;
}

nlohmann::json Views::Breadcrumb(const ViewLanguage& lang, const Node& node) {
  std::vector<nlohmann::json> chain;
  std::optional<Node> n = node;
  while (n) {
    std::string url = n->kind == NodeKind::kTopic ? TopicUrl(n->channel_id, n->path)
                                                  : ResourceUrl(n->channel_id, n->path);
    chain.push_back({{"title", n->meta.title}, {"url", url}});
    n = n->parent_id ? catalog_->GetNode(n->parent_id) : std::nullopt;
  }
  nlohmann::json out = nlohmann::json::array();
  out.push_back({{"title", lang.T("home")}, {"url", "/"}});
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) out.push_back(*it);
  return out;
}

nlohmann::json Views::ChildItem(const ViewLanguage& lang, const Node& n) {
  bool topic = n.kind == NodeKind::kTopic;
  nlohmann::json item = {
      {"title", ShortText(n.meta.title, kListTitleBytes)},
      {"description", ShortText(n.meta.description, kListTextBytes)},
      {"kind", KindName(n.kind)},
      {"kind_label", KindLabel(lang, n.kind)},
      {"is_topic", topic},
      {"url", topic ? TopicUrl(n.channel_id, n.path) : ResourceUrl(n.channel_id, n.path)},
      {"language", n.meta.language},
      {"language_name", LanguageName(lang, n.meta.language)},
      {"grade", n.meta.grade},
      {"grade_label", ShownValue(lang, lang.labels, "grade", n.meta.grade)},
      {"subject", n.meta.subject},
      {"subject_label", ShownValue(lang, lang.labels, "subject", n.meta.subject)},
      {"size_label", topic ? "" : SizeLabel(n.size)}};
  if (n.thumbnail) item["thumbnail_url"] = "/blob/" + n.thumbnail->Hex();
  return item;
}

std::optional<nlohmann::json> Views::Topic(const ViewLanguage& interface, const std::string& channel,
                                           const std::string& path, int64_t page) {
  auto ch = Hidden(channel) ? std::nullopt : catalog_->Channel(channel);
  auto node = ch ? catalog_->NodeByPath(channel, path) : std::nullopt;
  if (!node || node->kind != NodeKind::kTopic || !node->listed) return std::nullopt;
  int64_t total = catalog_->CountChildren(node->id);
  if (page < 1 || page > PageCount(total)) return std::nullopt;
  const auto labels = catalog_->ValueLabels(channel);
  ViewLanguage lang = interface;
  lang.labels = &labels;
  nlohmann::json children = nlohmann::json::array();
  for (const auto& child : catalog_->ChildrenPage(node->id, (page - 1) * kPageSize, kPageSize)) {
    children.push_back(ChildItem(lang, child));
  }
  nlohmann::json topic = {{"title", node->meta.title},
                          {"description", node->meta.description},
                          {"language", node->meta.language},
                          {"language_name", LanguageName(lang, node->meta.language)},
                          {"grade", node->meta.grade},
                          {"grade_label", ShownValue(lang, &labels, "grade", node->meta.grade)},
                          {"subject", node->meta.subject},
                          {"subject_label", ShownValue(lang, &labels, "subject", node->meta.subject)}};
  if (node->thumbnail) topic["thumbnail_url"] = "/blob/" + node->thumbnail->Hex();
  nlohmann::json view = {
      {"page_title", node->meta.title},
      {"breadcrumb", Breadcrumb(lang, *node)},
      {"channel", {{"id", ch->id}, {"title", ch->meta.title}, {"url", TopicUrl(ch->id, "")}}},
      {"topic", topic},
      {"children", children},
      {"empty", children.empty()}};
  AddPager(lang, TopicUrl(channel, path), page, total, view);
  return view;
}

Result<nlohmann::json> Views::Exercise(const Node& node,
                                       const std::map<std::string, std::string>* answers) {
  auto bytes = ReadExerciseBlob(store_, *node.blob);
  if (!bytes) return bytes.error();
  auto parsed = ParseExercise(*bytes, node.path);
  nlohmann::json questions = nlohmann::json::array();
  int correct = 0;
  if (parsed) {
    for (size_t i = 0; i < parsed->questions.size(); ++i) {
      const Question& q = parsed->questions[i];
      std::string name = "q";  // built with += : g++ 12 warns falsely on "q" + to_string
      name += std::to_string(i);
      std::string given;
      bool answered = false;
      if (answers) {
        auto it = answers->find(name);
        answered = it != answers->end() && !it->second.empty();
        if (answered) given = it->second.substr(0, 200);
      }
      bool right = answered && CheckAnswer(q, given);
      correct += right;
      nlohmann::json choices = nlohmann::json::array();
      for (size_t c = 0; c < q.choices.size(); ++c) {
        choices.push_back({{"index", c},
                           {"text", q.choices[c]},
                           {"id", name + "c" + std::to_string(c)},
                           {"checked", answered && given == std::to_string(c)}});
      }
      questions.push_back({{"name", name},
                           {"index", i + 1},
                           {"prompt", q.prompt},
                           {"is_choice", q.type == Question::Type::kChoice},
                           {"is_numeric", q.type == Question::Type::kNumeric},
                           {"is_text", q.type == Question::Type::kText},
                           {"choices", choices},
                           {"value", q.type == Question::Type::kChoice ? "" : given},
                           {"answered", answered},
                           {"correct", right},
                           {"feedback", answered ? q.feedback : ""}});
    }
  }
  return nlohmann::json{{"action_url", ResourceUrl(node.channel_id, node.path)},
                        {"questions", questions},
                        {"answered", answers != nullptr},
                        {"broken", !parsed.has_value()},
                        {"score", {{"correct", correct}, {"total", questions.size()}}}};
}

namespace {

// The "resource" object of a resource page: what the file is, and how the page shows it.
nlohmann::json ResourceFields(const ViewLanguage& lang, const std::string& channel,
                              const Node& n) {
  bool pdf = n.mime == "application/pdf";
  nlohmann::json r = {
      {"title", n.meta.title},
      {"description", n.meta.description},
      {"kind", KindName(n.kind)},
      {"kind_label", KindLabel(lang, n.kind)},
      {"language", n.meta.language},
      {"language_name", LanguageName(lang, n.meta.language)},
      {"grade", n.meta.grade},
      {"grade_label", ShownValue(lang, lang.labels, "grade", n.meta.grade)},
      {"subject", n.meta.subject},
      {"subject_label", ShownValue(lang, lang.labels, "subject", n.meta.subject)},
      {"license", n.meta.license},
      {"license_label", ShownValue(lang, lang.labels, "license", n.meta.license)},
      {"author", n.meta.author},
      {"file_url", FileUrl(channel, n.path)},
      {"download_url", FileUrl(channel, n.path) + "?download=1"},
      {"mime", n.mime},
      {"size_label", SizeLabel(n.size)},
      {"is_video", n.kind == NodeKind::kVideo},
      {"is_audio", n.kind == NodeKind::kAudio},
      {"is_pdf", pdf},
      {"is_document", n.kind == NodeKind::kDocument && !pdf},
      {"is_image", n.kind == NodeKind::kImage},
      {"is_html", n.kind == NodeKind::kHtml},
      {"is_app", n.kind == NodeKind::kApp},
      {"is_exercise", n.kind == NodeKind::kExercise},
      {"is_other", n.kind == NodeKind::kOther}};
  if (pdf) r["pdf_url"] = FileUrl(channel, n.path);
  if (n.kind == NodeKind::kApp) {
    r["app_url"] = "/app/" + channel + "/" + PercentEncodePath(n.path) + "/index.html";
  }
  return r;
}

// A subtitle track of `n` when `s` is one (NAME.vtt, NAME.LANG.vtt beside NAME.EXT).
std::optional<nlohmann::json> Subtitle(const ViewLanguage& lang, const std::string& channel,
                                       const Node& n, const Node& s) {
  std::string stem = Stem(BaseName(n.path));
  std::string name = BaseName(s.path);
  if (name.size() <= 4 || !name.ends_with(".vtt") || !name.starts_with(stem + ".")) {
    return std::nullopt;
  }
  std::string middle = name.substr(stem.size() + 1, name.size() - stem.size() - 5);
  std::string sub_lang = middle.empty() ? n.meta.language : middle;
  bool is_default =
      !lang.code.empty() && (sub_lang == lang.code || sub_lang.starts_with(lang.code + "-"));
  return nlohmann::json{{"url", FileUrl(channel, s.path)},
                        {"language", sub_lang},
                        {"default", is_default},
                        {"label", LanguageName(lang, sub_lang).empty()
                                      ? lang.T("subtitles")
                                      : LanguageName(lang, sub_lang)}};
}

// What a resource page shows of its siblings: subtitles, and the previous and next resources.
struct Siblings {
  nlohmann::json subtitles = nlohmann::json::array();
  std::optional<Node> prev, next;
};

Siblings SiblingsOf(Catalog* catalog, const ViewLanguage& lang, const std::string& channel,
                    const Node& n) {
  Siblings out;
  if (!n.parent_id) return out;
  bool seen = false;
  for (const auto& s : catalog->Children(n.parent_id, /*include_unlisted=*/true)) {
    if (auto subtitle = Subtitle(lang, channel, n, s)) out.subtitles.push_back(*subtitle);
    if (!s.listed || s.kind == NodeKind::kTopic) continue;
    if (s.id == n.id) {
      seen = true;
    } else if (!seen) {
      out.prev = s;
    } else if (!out.next) {
      out.next = s;
    }
  }
  return out;
}

}  // namespace

Result<std::optional<nlohmann::json>> Views::Resource(
    const ViewLanguage& interface, const std::string& channel, const std::string& path,
    const std::map<std::string, std::string>* answers) {
  auto ch = Hidden(channel) ? std::nullopt : catalog_->Channel(channel);
  auto node = ch ? catalog_->NodeByPath(channel, path) : std::nullopt;
  if (!node || node->kind == NodeKind::kTopic || !node->blob) {
    return std::optional<nlohmann::json>();
  }
  const auto labels = catalog_->ValueLabels(channel);
  ViewLanguage lang = interface;
  lang.labels = &labels;
  const Node& n = *node;
  nlohmann::json r = ResourceFields(lang, channel, n);
  Siblings siblings = SiblingsOf(catalog_, lang, channel, n);
  r["subtitles"] = siblings.subtitles;
  nlohmann::json view = {
      {"page_title", n.meta.title},
      {"breadcrumb", Breadcrumb(lang, n)},
      {"channel", {{"id", ch->id}, {"title", ch->meta.title}, {"url", TopicUrl(ch->id, "")}}},
      {"resource", r}};
  if (const auto& prev = siblings.prev) {
    view["prev"] = {{"title", prev->meta.title}, {"url", ResourceUrl(channel, prev->path)}};
  }
  if (const auto& next = siblings.next) {
    view["next"] = {{"title", next->meta.title}, {"url", ResourceUrl(channel, next->path)}};
  }
  if (n.kind == NodeKind::kExercise) {
    auto exercise = Exercise(n, answers);
    if (!exercise) return exercise.error();
    view["exercise"] = std::move(*exercise);
  }
  return std::optional<nlohmann::json>(std::move(view));
}

nlohmann::json Views::SearchFiltersView(const ViewLanguage& lang, const SearchRequest& req) {
  auto option = [](const std::string& value, const std::string& label, const std::string& current) {
    return nlohmann::json{{"value", value}, {"label", label}, {"selected", value == current}};
  };
  nlohmann::json channels = nlohmann::json::array(), languages = nlohmann::json::array(),
                 kinds = nlohmann::json::array(), grades = nlohmann::json::array();
  std::vector<ValueLabel> labels;  // every served channel's, for the grade menu
  for (const auto& c : catalog_->Channels()) {
    if (!c.served_version || Hidden(c.id)) continue;
    channels.push_back(option(c.id, c.meta.title, req.filters.channel_id));
    auto own = catalog_->ValueLabels(c.id);
    labels.insert(labels.end(), own.begin(), own.end());
  }
  SearchFacets facets = catalog_->Facets();
  for (const auto& l : facets.languages) {
    languages.push_back(option(l, LanguageName(lang, l), req.filters.language));
  }
  for (const auto& k : facets.kinds) {
    if (k == "topic") continue;
    kinds.push_back(option(k, lang.T("kind_" + k), req.filters.kind));
  }
  for (const auto& g : facets.grades) {
    grades.push_back(option(g, ShownValue(lang, &labels, "grade", g), req.filters.grade));
  }
  return {{"channels", channels}, {"languages", languages}, {"kinds", kinds}, {"grades", grades}};
}

nlohmann::json Views::Search(const ViewLanguage& lang, const SearchRequest& req) {
  nlohmann::json results = nlohmann::json::array();
  std::map<std::string, std::string> channel_titles;
  for (const auto& c : catalog_->Channels()) channel_titles[c.id] = c.meta.title;
  auto hits = VisibleHits(req.query, req.limit, req.filters);
  if (hits) {
    for (const auto& h : *hits) {
      NodeKind kind = KindFromName(h.kind).value_or(NodeKind::kOther);
      results.push_back(
          {{"title", h.title},
           {"url", kind == NodeKind::kTopic ? TopicUrl(h.channel_id, h.path)
                                            : ResourceUrl(h.channel_id, h.path)},
           {"kind", h.kind},
           {"kind_label", KindLabel(lang, kind)},
           {"language", h.language},
           {"language_name", LanguageName(lang, h.language)},
           {"channel_title", channel_titles[h.channel_id]},
           {"snippet", SnippetParts(h.snippet)}});
    }
  }
  std::string title = lang.T("search");
  if (!req.query.empty()) {
    title = lang.T("search_for");  // "Search: {query}"; French puts a space before the colon
    size_t at = title.find("{query}");
    if (at != std::string::npos) title.replace(at, 7, req.query);
  }
  return {{"page_title", title},
          {"breadcrumb", nlohmann::json::array({{{"title", lang.T("home")}, {"url", "/"}},
                                                {{"title", title}, {"url", "/search"}}})},
          {"query", req.query},
          {"results", results},
          {"count", results.size()},
          {"empty", !req.query.empty() && results.empty()},
          {"busy", false},
          {"filters", SearchFiltersView(lang, req)}};
}

nlohmann::json Views::SearchBusy(const ViewLanguage& lang, const SearchRequest& req) {
  std::string title = lang.T("search");
  return {{"page_title", title},
          {"breadcrumb", nlohmann::json::array({{{"title", lang.T("home")}, {"url", "/"}},
                                                {{"title", title}, {"url", "/search"}}})},
          {"query", req.query},
          {"results", nlohmann::json::array()},
          {"count", 0},
          {"empty", false},
          {"busy", true},
          {"filters", {{"channels", nlohmann::json::array()},
                       {"languages", nlohmann::json::array()},
                       {"kinds", nlohmann::json::array()},
                       {"grades", nlohmann::json::array()}}}};
}

nlohmann::json Views::Suggest(const std::string& query, int limit) {
  nlohmann::json out = nlohmann::json::array();
  auto hits = VisibleHits(query, limit, SearchFilters{});
  if (hits) {
    for (const auto& h : *hits) {
      NodeKind kind = KindFromName(h.kind).value_or(NodeKind::kOther);
      out.push_back({{"title", h.title},
                     {"url", kind == NodeKind::kTopic ? TopicUrl(h.channel_id, h.path)
                                                      : ResourceUrl(h.channel_id, h.path)}});
    }
  }
  return {{"query", query}, {"suggestions", out}};
}

}  // namespace outpost
