#include "value_labels.h"

#include <optional>

#include "outpost/content/metadata.h"

namespace outpost {

namespace {

std::string_view Primary(std::string_view tag) { return tag.substr(0, tag.find('-')); }

std::optional<std::string> ChannelLabel(const ViewLanguage& lang,
                                        const std::vector<ValueLabel>* labels,
                                        std::string_view field, const std::string& key) {
  if (!labels || lang.code.empty()) return std::nullopt;
  const ValueLabel* by_primary = nullptr;
  for (const ValueLabel& l : *labels) {
    if (l.field != field || ValueKey(l.value) != key) continue;
    if (l.language == lang.code) return l.label;
    if (!by_primary && Primary(l.language) == Primary(lang.code)) by_primary = &l;
  }
  if (by_primary) return by_primary->label;
  return std::nullopt;
}

std::optional<std::string> CatalogEntry(const ViewLanguage& lang, const std::string& key) {
  if (!lang.strings) return std::nullopt;
  auto it = lang.strings->find(key);
  if (it == lang.strings->end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// "cc-by-sa-4.0" -> {"cc-by-sa", "4.0"}; nullopt without a trailing "-DIGITS[.DIGITS...]".
std::optional<std::pair<std::string, std::string>> SplitVersion(const std::string& key) {
  size_t dash = key.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == key.size()) return std::nullopt;
  std::string version = key.substr(dash + 1);
  if (version.front() == '.' || version.back() == '.') return std::nullopt;
  for (char c : version) {
    if (!(c >= '0' && c <= '9') && c != '.') return std::nullopt;
  }
  return std::make_pair(key.substr(0, dash), version);
}

// `entry` with "{v}" replaced by `version` (" 4.0" or ""), or `version` appended if it has none.
std::string WithVersion(std::string entry, const std::string& version) {
  size_t at = entry.find("{v}");
  if (at == std::string::npos) return entry + version;
  return entry.replace(at, 3, version);
}

std::optional<std::string> LicenceEntry(const ViewLanguage& lang, const std::string& key) {
  if (auto whole = CatalogEntry(lang, "license_" + key)) return WithVersion(*whole, "");
  auto split = SplitVersion(key);
  if (!split) return std::nullopt;
  auto base = CatalogEntry(lang, "license_" + split->first);
  if (!base) return std::nullopt;
  return WithVersion(*base, " " + split->second);
}

}  // namespace

std::string ShownValue(const ViewLanguage& lang, const std::vector<ValueLabel>* labels,
                       std::string_view field, const std::string& value) {
  std::string key = ValueKey(value);
  if (key.empty()) return value;
  if (auto own = ChannelLabel(lang, labels, field, key)) return *own;
  if (field == "license") {
    if (auto entry = LicenceEntry(lang, key)) return *entry;
  } else if (auto entry = CatalogEntry(lang, std::string(field) + "_" + key)) {
    return *entry;
  }
  return value;
}

}  // namespace outpost
