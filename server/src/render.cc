#include "render.h"

#include <kainjow/mustache.hpp>
#include <map>

namespace outpost {

namespace {

namespace mustache = kainjow::mustache;

mustache::data ToData(const nlohmann::json& j);

mustache::data ListToData(const nlohmann::json& array) {
  mustache::list list;
  list.reserve(array.size());
  size_t i = 0;
  for (const auto& item : array) {
    mustache::data d = ToData(item);
    if (d.is_object()) {
      d.set("_first", mustache::data(i == 0));
      d.set("_last", mustache::data(i + 1 == array.size()));
      d.set("_number", mustache::data(std::to_string(i + 1)));
    }
    list.push_back(std::move(d));
    ++i;
  }
  return mustache::data(list);
}

mustache::data ToData(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mustache::object object;
      for (const auto& [key, value] : j.items()) object.emplace(key, ToData(value));
      return mustache::data(object);
    }
    case nlohmann::json::value_t::array:
      return ListToData(j);
    case nlohmann::json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      return s.empty() ? mustache::data(false) : mustache::data(s);
    }
    case nlohmann::json::value_t::boolean:
      return mustache::data(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return mustache::data(j.dump());
    default:  // null, binary, discarded
      return mustache::data(false);
  }
}

// Resolves `{{> NAME}}` to templates/NAME.mustache, and `{{> content}}` to the page's template.
class TemplateContext : public mustache::context<std::string> {
 public:
  TemplateContext(const mustache::data* data, const Assets* assets, std::string content)
      : mustache::context<std::string>(data), assets_(assets), content_(std::move(content)) {}

  const mustache::data* get_partial(const std::string& name) const override {
    auto it = partials_.find(name);
    if (it != partials_.end()) return &it->second;
    std::string file = name == "content" ? content_ : name;
    auto tmpl = assets_->Get("templates/" + file + ".mustache");
    if (!tmpl) {
      if (missing_.empty()) missing_ = file;
      return nullptr;
    }
    return &partials_.emplace(name, mustache::data(std::string(tmpl->bytes))).first->second;
  }

  const std::string& missing() const { return missing_; }

 private:
  const Assets* assets_;
  std::string content_;
  mutable std::map<std::string, mustache::data> partials_;
  mutable std::string missing_;
};

bool PlainName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

}  // namespace

Result<std::string> Renderer::RenderPage(std::string_view page, const nlohmann::json& view) const {
  return RenderWith("layout", page, view);
}

Result<std::string> Renderer::Render(std::string_view name, const nlohmann::json& view) const {
  return RenderWith(name, "", view);
}

Result<std::string> Renderer::RenderWith(std::string_view top, std::string_view content,
                                         const nlohmann::json& view) const {
  if (!PlainName(top) || (!content.empty() && !PlainName(content))) {
    return NotFound("no template named '" + std::string(content.empty() ? top : content) + "'");
  }
  if (!content.empty() && !assets_->Get("templates/" + std::string(content) + ".mustache")) {
    return NotFound("no template templates/" + std::string(content) + ".mustache");
  }
  auto source = assets_->Get("templates/" + std::string(top) + ".mustache");
  if (!source) return NotFound("no template templates/" + std::string(top) + ".mustache");
  mustache::mustache tmpl{std::string(source->bytes)};
  if (!tmpl.is_valid()) {
    return Internal("templates/" + std::string(top) + ".mustache: " + tmpl.error_message());
  }
  mustache::data data = ToData(view);
  TemplateContext context(&data, assets_, std::string(content));
  std::string html = tmpl.render(context);
  if (!tmpl.is_valid())
    return Internal("rendering " + std::string(top) + ": " + tmpl.error_message());
  if (!context.missing().empty()) {
    return NotFound("no template templates/" + context.missing() + ".mustache (a partial)");
  }
  return html;
}

}  // namespace outpost
