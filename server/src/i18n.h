// I18n: the interface languages of the learner pages and their translation catalogs.
//
// A catalog is web-ui/i18n/CODE.json, a flat JSON object of UI strings plus two meta keys:
// "_name" (the language's name in itself: "Français") and "_dir" ("ltr" or "rtl"). Adding a
// language is adding a file. English (en.json) is the reference: a key missing from another
// catalog falls back to the English text.
//
//   I18n i18n(&assets);
//   std::string code = i18n.Negotiate(cookie_lang, req.get_header_value("Accept-Language"));
//   view["t"] = i18n.Strings(code);          // every key, English where `code` lacks one
//   view["lang"] = code; view["dir"] = i18n.Dir(code);
//   view["languages"] = i18n.LanguageLinks(code, "/t/water-cycle/");
//   child["language_name"] = i18n.LanguageName("ar", code);   // "Arabe" on a French page
//
// With Assets read from disk (--web-root) the catalogs are read again on every call, so an
// edited translation shows at the next reload; otherwise they are parsed once, here.
//
// Thread-safety: immutable after construction (disk mode only reads files); any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "assets.h"

namespace outpost {

struct UiLanguage {
  std::string code;  // "fr"
  std::string name;  // "Français" (the catalog's "_name")
  std::string dir;   // "ltr" or "rtl"
};

class I18n {
 public:
  // `assets` must outlive this object. A catalog that is not a JSON object of strings is
  // skipped with an error in the log; English is always present (built into the binary).
  explicit I18n(const Assets* assets);

  // The interface language for a request: the `lang` cookie if it names a known language;
  // else the best Accept-Language entry by q-value that matches a known language exactly or
  // by its primary subtag (fr-CA -> fr); else `fallback` if known (the box's default language,
  // box_settings.h), else "en".
  std::string Negotiate(std::string_view cookie, std::string_view accept_language,
                        std::string_view fallback = "en") const;

  bool Known(std::string_view code) const;
  // The catalog of `code` (English for an unknown code), completed with English.
  nlohmann::json Strings(std::string_view code) const;
  // The same, shared: built once per language (read again each time with --web-root).
  std::shared_ptr<const nlohmann::json> SharedStrings(std::string_view code) const;
  std::string Dir(std::string_view code) const;
  // Every interface language, by code.
  std::vector<UiLanguage> Languages() const;
  // The frame's "languages" list: [{code, name, current, url}], url = /lang/CODE?back=BACK
  // (BACK percent-encoded).
  nlohmann::json LanguageLinks(std::string_view current, std::string_view back) const;

  // The name of a content language (a BCP 47 tag) for a page in interface language `ui`:
  // the catalog's "lang_XX" if it has one, else the language's own name from a built-in table
  // ("sw" -> "Kiswahili"), else the tag itself. A region is kept: "fr-CA" -> "Français (CA)".
  // Empty for an empty tag.
  std::string LanguageName(std::string_view tag, std::string_view ui) const;

 private:
  struct Catalogs {
    nlohmann::json english;                                       // en.json
    std::vector<std::pair<std::string, nlohmann::json>> by_code;  // sorted by code
  };
  Catalogs Load() const;
  const Catalogs& Current(Catalogs* scratch) const;
  static const nlohmann::json* Find(const Catalogs& c, std::string_view code);

  const Assets* assets_;
  Catalogs loaded_;  // unused in disk mode
  mutable std::mutex shared_mu_;
  mutable std::map<std::string, std::shared_ptr<const nlohmann::json>> shared_;  // by code
};

}  // namespace outpost
