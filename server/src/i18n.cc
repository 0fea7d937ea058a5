#include "i18n.h"

#include "http/url.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace outpost {

namespace {

// Lower case, '_' -> '-', surrounding blanks dropped: "  fr_CA " -> "fr-ca".
std::string NormalizeTag(std::string_view tag) {
  while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
  while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
  std::string out;
  for (char c : tag) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out += c == '_' ? '-' : c;
  }
  return out;
}

std::string_view PrimarySubtag(std::string_view tag) { return tag.substr(0, tag.find('-')); }

struct Weighted {
  std::string tag;
  double q;
};

// "fr-CA,fr;q=0.9,en;q=0.5" -> [{fr-ca,1},{fr,.9},{en,.5}], best first; entries with q <= 0 or
// a malformed q are dropped.
std::vector<Weighted> ParseAcceptLanguage(std::string_view header) {
  std::vector<Weighted> out;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view entry = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t semi = entry.find(';');
    Weighted w{NormalizeTag(entry.substr(0, semi)), 1.0};
    if (semi != std::string_view::npos) {
      std::string params = NormalizeTag(entry.substr(semi + 1));
      params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
      if (!params.starts_with("q=")) continue;
      auto [end, ec] = std::from_chars(params.data() + 2, params.data() + params.size(), w.q);
      if (ec != std::errc() || end != params.data() + params.size()) continue;
    }
    if (w.tag.empty() || w.q <= 0) continue;
    out.push_back(std::move(w));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Weighted& a, const Weighted& b) { return a.q > b.q; });
  return out;
}

bool IsStringObject(const nlohmann::json& j) {
  if (!j.is_object()) return false;
  return std::all_of(j.begin(), j.end(), [](const nlohmann::json& v) { return v.is_string(); });
}

// Languages by their own names, for content in a language no catalog names.
std::string_view Endonym(std::string_view primary) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"af", "Afrikaans"},  {"ak", "Akan"},      {"am", "አማርኛ"},         {"ar", "العربية"},
      {"bm", "Bamanankan"}, {"bn", "বাংলা"},     {"ckb", "کوردی"},       {"de", "Deutsch"},
      {"en", "English"},    {"es", "Español"},   {"fa", "فارسی"},        {"ff", "Fulfulde"},
      {"fr", "Français"},   {"ha", "Hausa"},     {"hi", "हिन्दी"},        {"id", "Bahasa Indonesia"},
      {"ig", "Igbo"},       {"it", "Italiano"},  {"kr", "Kanuri"},       {"ku", "Kurdî"},
      {"lg", "Luganda"},    {"ln", "Lingála"},   {"mg", "Malagasy"},     {"my", "မြန်မာ"},
      {"ne", "नेपाली"},      {"ny", "Chichewa"},  {"om", "Afaan Oromoo"}, {"prs", "دری"},
      {"ps", "پښتو"},       {"pt", "Português"}, {"ru", "Русский"},      {"rw", "Kinyarwanda"},
      {"sn", "chiShona"},   {"so", "Soomaali"},  {"st", "Sesotho"},      {"sw", "Kiswahili"},
      {"ti", "ትግርኛ"},       {"tn", "Setswana"},  {"tr", "Türkçe"},       {"uk", "Українська"},
      {"ur", "اردو"},       {"wo", "Wolof"},     {"xh", "isiXhosa"},     {"yo", "Yorùbá"},
      {"zh", "中文"},       {"zu", "isiZulu"},
  };
  for (const auto& [code, name] : kNames) {
    if (code == primary) return name;
  }
  return {};
}

}  // namespace

I18n::I18n(const Assets* assets) : assets_(assets) {
  if (!assets_->from_disk()) loaded_ = Load();
}

I18n::Catalogs I18n::Load() const {
  Catalogs out;
  for (const std::string& path : assets_->List("i18n/")) {
    if (!path.ends_with(".json") || path.find('/', 5) != std::string::npos) continue;
    std::string code = NormalizeTag(path.substr(5, path.size() - 5 - 5));
    auto file = assets_->Get(path);
    if (!file) continue;
    auto catalog = nlohmann::json::parse(file->bytes, nullptr, /*allow_exceptions=*/false);
    if (!IsStringObject(catalog)) {
      spdlog::error("{}: not a JSON object of strings; language {} left out", path, code);
      continue;
    }
    if (code == "en") out.english = catalog;
    out.by_code.emplace_back(code, std::move(catalog));
  }
  if (out.english.is_null()) {  // a broken en.json in --web-root: keep a usable English
    out.english = nlohmann::json::object({{"_name", "English"}, {"_dir", "ltr"}});
    out.by_code.emplace_back("en", out.english);
  }
  std::sort(out.by_code.begin(), out.by_code.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

const I18n::Catalogs& I18n::Current(Catalogs* scratch) const {
  if (!assets_->from_disk()) return loaded_;
  *scratch = Load();
  return *scratch;
}

const nlohmann::json* I18n::Find(const Catalogs& c, std::string_view code) {
  for (const auto& [k, v] : c.by_code) {
    if (k == code) return &v;
  }
  return nullptr;
}

bool I18n::Known(std::string_view code) const {
  Catalogs scratch;
  return Find(Current(&scratch), NormalizeTag(code)) != nullptr;
}

std::string I18n::Negotiate(std::string_view cookie, std::string_view accept_language,
                            std::string_view fallback) const {
  Catalogs scratch;
  const Catalogs& c = Current(&scratch);
  std::string from_cookie = NormalizeTag(cookie);
  if (!from_cookie.empty() && Find(c, from_cookie)) return from_cookie;
  for (const Weighted& w : ParseAcceptLanguage(accept_language)) {
    if (Find(c, w.tag)) return w.tag;
    std::string primary(PrimarySubtag(w.tag));
    if (Find(c, primary)) return primary;
  }
  std::string fallback_tag = NormalizeTag(fallback);
  if (!fallback_tag.empty() && Find(c, fallback_tag)) return fallback_tag;
  return "en";
}

nlohmann::json I18n::Strings(std::string_view code) const {
  Catalogs scratch;
  const Catalogs& c = Current(&scratch);
  nlohmann::json out = c.english;
  const nlohmann::json* catalog = Find(c, NormalizeTag(code));
  if (catalog && catalog != &c.english) {
    for (const auto& [key, value] : catalog->items()) out[key] = value;
  }
  return out;
}

std::shared_ptr<const nlohmann::json> I18n::SharedStrings(std::string_view code) const {
  if (assets_->from_disk()) return std::make_shared<const nlohmann::json>(Strings(code));
  std::string key(code);
  std::lock_guard lock(shared_mu_);
  auto& slot = shared_[key];
  if (!slot) slot = std::make_shared<const nlohmann::json>(Strings(code));
  return slot;
}

std::string I18n::Dir(std::string_view code) const {
  Catalogs scratch;
  const nlohmann::json* catalog = Find(Current(&scratch), NormalizeTag(code));
  return catalog && catalog->value("_dir", "ltr") == "rtl" ? "rtl" : "ltr";
}

std::vector<UiLanguage> I18n::Languages() const {
  Catalogs scratch;
  std::vector<UiLanguage> out;
  for (const auto& [code, catalog] : Current(&scratch).by_code) {
    out.push_back({code, catalog.value("_name", code),
                   catalog.value("_dir", "ltr") == "rtl" ? "rtl" : "ltr"});
  }
  return out;
}

nlohmann::json I18n::LanguageLinks(std::string_view current, std::string_view back) const {
  nlohmann::json out = nlohmann::json::array();
  std::string cur = NormalizeTag(current);
  for (const UiLanguage& l : Languages()) {
    out.push_back({{"code", l.code},
                   {"name", l.name},
                   {"current", l.code == cur},
                   {"url", "/lang/" + l.code + "?back=" + PercentEncode(back, /*keep_slash=*/false)}});
  }
  return out;
}

std::string I18n::LanguageName(std::string_view tag, std::string_view ui) const {
  std::string norm = NormalizeTag(tag);
  if (norm.empty()) return "";
  std::string primary(PrimarySubtag(norm));
  std::string region = norm.size() > primary.size() ? norm.substr(primary.size() + 1) : "";
  std::transform(region.begin(), region.end(), region.begin(),
                 [](char ch) { return ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 32) : ch; });
  Catalogs scratch;
  const Catalogs& c = Current(&scratch);
  const nlohmann::json* catalog = Find(c, NormalizeTag(ui));
  std::string key = "lang_" + primary;
  std::string name;
  if (catalog && catalog->contains(key)) {
    name = (*catalog)[key].get<std::string>();
  } else if (auto endonym = Endonym(primary); !endonym.empty()) {
    name = std::string(endonym);
  } else if (c.english.contains(key)) {
    name = c.english[key].get<std::string>();
  } else {
    return std::string(tag);
  }
  return region.empty() ? name : name + " (" + region + ")";
}

}  // namespace outpost
