// Views: the view-models of the learner pages (docs/web-api.md), built from the catalog. The
// same JSON is rendered by the mustache templates and returned by /api/v1, so a page and its
// API can never disagree. Views know nothing of HTTP: the caller adds the frame's
// language-dependent fields (lang, dir, t, languages, assets) and serves the result.
//
// Thread-safety: Views is immutable after construction and uses the thread-safe Catalog and
// BlobStore; call it from any thread.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/server/box_settings.h"

namespace outpost {

// What a view needs from the interface language.
struct ViewLanguage {
  const nlohmann::json* strings = nullptr;  // the translation catalog ("t")
  std::string code;                          // the interface language, "fr"
  std::function<std::string(const std::string&)> language_name;  // "ar" -> "العربية"
  // The shown channel's own value labels (Catalog::ValueLabels), for ShownValue; Views sets it.
  const std::vector<ValueLabel>* labels = nullptr;
  std::string T(const std::string& key) const;  // strings[key], or the key if missing
};

struct SearchRequest {
  std::string query;
  SearchFilters filters;
  int limit = 30;
};

// URL of a topic, resource page or file of a channel, percent-encoded.
std::string TopicUrl(const std::string& channel, const std::string& path);
std::string ResourceUrl(const std::string& channel, const std::string& path);
std::string FileUrl(const std::string& channel, const std::string& path);
std::string PercentEncodePath(std::string_view path);
// "1.3 MB", "820 KB", "12 bytes"
std::string SizeLabel(uint64_t bytes);

class Views {
 public:
  Views(Catalog* catalog, BlobStore* store) : catalog_(catalog), store_(store) {}
  // The coordinator's settings (box_settings.h): a hidden channel is left out of every view
  // here (the home page, search and suggestions; its topic and resource views are nullopt, a
  // 404). Set before the views are used; null: nothing is hidden.
  void set_settings(const BoxSettings* settings) { settings_ = settings; }

  // Lists and their pages (pager.h): nullopt for a page the list does not have (a 404).
  std::optional<nlohmann::json> Home(const ViewLanguage& lang, int64_t page = 1);
  // nullopt when the channel or topic is not served, or has no such page (a 404).
  std::optional<nlohmann::json> Topic(const ViewLanguage& lang, const std::string& channel,
                                      const std::string& path, int64_t page = 1);
  // `answers` (form fields q0, q1, ...) when an exercise's answers were posted. nullopt: no
  // such resource; an error: an exercise whose file cannot be read whole (missing, damaged).
  Result<std::optional<nlohmann::json>> Resource(
      const ViewLanguage& lang, const std::string& channel, const std::string& path,
      const std::map<std::string, std::string>* answers);
  nlohmann::json Search(const ViewLanguage& lang, const SearchRequest& request);
  // The "too many searches at once" page.
  nlohmann::json SearchBusy(const ViewLanguage& lang, const SearchRequest& request);
  nlohmann::json Suggest(const std::string& query, int limit = 8);

 private:
  nlohmann::json Breadcrumb(const ViewLanguage& lang, const Node& node);
  nlohmann::json ChildItem(const ViewLanguage& lang, const Node& n);
  Result<nlohmann::json> Exercise(const Node& node,
                                  const std::map<std::string, std::string>* answers);
  nlohmann::json SearchFiltersView(const ViewLanguage& lang, const SearchRequest& request);

  bool Hidden(const std::string& channel_id) const;
  // The catalog's search, without hidden channels' hits, at most `limit` of them.
  Result<std::vector<SearchHit>> VisibleHits(const std::string& query, int limit,
                                             const SearchFilters& filters);

  Catalog* catalog_;
  BlobStore* store_;
  const BoxSettings* settings_ = nullptr;
};

}  // namespace outpost
