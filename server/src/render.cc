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

// Looks `t` and `t.KEY` up in the translation data kept apart from the page's data.
class PageContext : public mustache::context<std::string> {
 public:
  PageContext(const mustache::data* data, const mustache::data* strings)
      : mustache::context<std::string>(data), strings_(strings) {}
  const mustache::data* get(const std::string& name) const override {
    if (strings_ && name.size() >= 1 && name[0] == 't' && (name.size() == 1 || name[1] == '.')) {
      return name.size() == 1 ? strings_ : strings_->get(name.substr(2));
    }
    return mustache::context<std::string>::get(name);
  }

 private:
  const mustache::data* strings_;
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
  return RenderWith("layout", page, view, nullptr);
}

Result<std::string> Renderer::RenderPage(std::string_view page, const nlohmann::json& view,
                                         const std::shared_ptr<const nlohmann::json>& strings,
                                         const std::string& strings_key) const {
  auto data = StringsData(strings, strings_key);
  return RenderWith("layout", page, view, data.get());
}

Result<std::string> Renderer::Render(std::string_view name, const nlohmann::json& view) const {
  return RenderWith(name, "", view, nullptr);
}

std::shared_ptr<const void> Renderer::StringsData(
    const std::shared_ptr<const nlohmann::json>& strings, const std::string& key) const {
  auto convert = [&] {
    return std::shared_ptr<const void>(std::make_shared<const mustache::data>(ToData(*strings)));
  };
  if (assets_->from_disk()) return convert();
  std::lock_guard lock(mu_);
  auto& slot = strings_data_[key];
  if (!slot) slot = convert();
  return slot;
}

// The source of `top` with every `{{> NAME}}` replaced by templates/NAME.mustache (and
// `{{> content}}` by the page's template), recursively: one template to parse, and parse once.
Result<std::string> Renderer::Inline(std::string_view name, std::string_view content,
                                     int depth) const {
  if (depth > 8) return Internal("templates include each other too deeply");
  if (!PlainName(name)) return NotFound("no template named '" + std::string(name) + "'");
  auto source = assets_->Get("templates/" + std::string(name) + ".mustache");
  if (!source) return NotFound("no template templates/" + std::string(name) + ".mustache");
  std::string_view text = source->bytes;
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (;;) {
    size_t open = text.find("{{>", pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find("}}", open);
    if (close == std::string_view::npos) break;
    std::string_view inner = text.substr(open + 3, close - open - 3);
    while (!inner.empty() && inner.front() == ' ') inner.remove_prefix(1);
    while (!inner.empty() && inner.back() == ' ') inner.remove_suffix(1);
    std::string partial(inner == "content" ? content : inner);
    if (partial.empty()) return NotFound("no template for {{> content}}");
    auto body = Inline(partial, content, depth + 1);
    if (!body) return body.error();
    out.append(text.substr(pos, open - pos));
    out += *body;
    pos = close + 2;
  }
  out.append(text.substr(pos));
  return out;
}

Result<std::string> Renderer::RenderWith(std::string_view top, std::string_view content,
                                         const nlohmann::json& view,
                                         const void* strings_data) const {
  if (!PlainName(top) || (!content.empty() && !PlainName(content))) {
    return NotFound("no template named '" + std::string(content.empty() ? top : content) + "'");
  }
  std::string key = std::string(top) + "|" + std::string(content);
  // Parsed templates are kept in a pool (each used by one render at a time) unless they are
  // read from disk for development, where every render reads and parses them again.
  std::unique_ptr<mustache::mustache> tmpl;
  if (!assets_->from_disk()) {
    std::lock_guard lock(mu_);
    auto& free = pool_[key];
    if (!free.empty()) {
      tmpl.reset(static_cast<mustache::mustache*>(free.back().release()));
      free.pop_back();
    }
  }
  if (!tmpl) {
    auto source = Inline(top, content, 0);
    if (!source) return source.error();
    tmpl = std::make_unique<mustache::mustache>(*source);
    if (!tmpl->is_valid()) {
      return Internal("templates/" + std::string(top) + ".mustache: " + tmpl->error_message());
    }
  }
  mustache::data data = ToData(view);
  PageContext context(&data, static_cast<const mustache::data*>(strings_data));
  std::string html = tmpl->render(context);
  if (!tmpl->is_valid()) {
    return Internal("rendering " + std::string(top) + ": " + tmpl->error_message());
  }
  if (!assets_->from_disk()) {
    std::lock_guard lock(mu_);
    pool_[key].emplace_back(tmpl.release(), [](void* p) {
      delete static_cast<mustache::mustache*>(p);
    });
  }
  return html;
}

}  // namespace outpost
