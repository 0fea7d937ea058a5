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
// Thread-safety: immutable; templates are read through Assets at every call (cheap for the
// embedded ones), so concurrent renders are safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "assets.h"
#include "outpost/content/status.h"

namespace outpost {

class Renderer {
 public:
  // `assets` must outlive the renderer.
  explicit Renderer(const Assets* assets) : assets_(assets) {}

  // templates/`page`.mustache inside templates/layout.mustache. NotFound if there is no such
  // template; Internal with the parser's message if a template is malformed.
  Result<std::string> RenderPage(std::string_view page, const nlohmann::json& view) const;
  // One template on its own, without the layout.
  Result<std::string> Render(std::string_view name, const nlohmann::json& view) const;

 private:
  Result<std::string> RenderWith(std::string_view top, std::string_view content,
                                 const nlohmann::json& view) const;

  const Assets* assets_;
};

}  // namespace outpost
