// Renderer: HTML pages from the mustache templates in web-ui/templates/ over a view-model
// (docs/web-api.md), with kainjow::mustache.
//
//   Renderer renderer(&assets);
//   auto html = renderer.RenderPage("topic", view);   // templates/topic.mustache in the layout
//   if (!html) { ... html.error() ... }
//
// How a page is put together: RenderPage renders templates/layout.mustache, whose
// `{{> content}}` is the page's template (templates/NAME.mustache), in one pass over the same
// view-model, so the page body sees the frame (t, lang, assets, ...) too. Any other
// `{{> NAME}}` is templates/NAME.mustache (the resource page uses `{{> exercise}}`).
//
// The view-model is converted to mustache data as follows:
//   - objects, arrays and strings as they are; numbers as their decimal text;
//   - an empty string and null are false, so `{{#description}}...{{/description}}` shows
//     only when there is a description (as in mustache.js), and a missing optional field never
//     picks up a field of the same name from an enclosing object;
//   - each object in an array also gets `_first`, `_last` (booleans) and `_number` (its
//     1-based position as text), for breadcrumbs and numbered questions.
// `{{x}}` is HTML-escaped (& < > " '); templates use `{{{x}}}` nowhere.
//
// Partials are inlined into one template source before parsing, and parsed templates are
// pooled (embedded templates only: with --web-root every render reads and parses them again).
//
// Thread-safety: thread-safe; a pooled template is used by one render at a time.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "assets.h"
#include "outpost/base/status.h"

namespace outpost {

class Renderer {
 public:
  // `assets` must outlive the renderer.
  explicit Renderer(const Assets* assets) : assets_(assets) {}

  // templates/`page`.mustache inside templates/layout.mustache. NotFound if there is no such
  // template; Internal with the parser's message if a template is malformed.
  Result<std::string> RenderPage(std::string_view page, const nlohmann::json& view) const;
  // The same with the translation catalog given apart from the view-model: `{{t.KEY}}` reads
  // `strings`, converted once per `strings_key` (the language code) and kept, instead of being
  // copied into every page's data.
  Result<std::string> RenderPage(std::string_view page, const nlohmann::json& view,
                                 const std::shared_ptr<const nlohmann::json>& strings,
                                 const std::string& strings_key) const;
  // One template on its own, without the layout.
  Result<std::string> Render(std::string_view name, const nlohmann::json& view) const;

 private:
  Result<std::string> RenderWith(std::string_view top, std::string_view content,
                                 const nlohmann::json& view, const void* strings_data) const;
  std::shared_ptr<const void> StringsData(const std::shared_ptr<const nlohmann::json>& strings,
                                          const std::string& key) const;
  Result<std::string> Inline(std::string_view name, std::string_view content, int depth) const;

  const Assets* assets_;
  // Parsed templates not in use, by "top|content" (type-erased to keep mustache.hpp private).
  using Parsed = std::unique_ptr<void, void (*)(void*)>;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::vector<Parsed>> pool_;
  mutable std::map<std::string, std::shared_ptr<const void>> strings_data_;  // by language
};

}  // namespace outpost
