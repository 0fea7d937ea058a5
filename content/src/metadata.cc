#include "outpost/content/metadata.h"

#include <sstream>
#include <toml++/toml.h>

#include "outpost/content/catalog.h"
#include "outpost/base/text.h"

namespace outpost {

namespace {

std::string Where(const std::string& file, const toml::node& node) {
  std::ostringstream out;
  out << file;
  if (node.source().begin.line) out << ":" << node.source().begin.line;
  return out.str();
}

Status ReadString(const toml::node& value, const std::string& file, const std::string& key,
                  std::optional<std::string>* out) {
  auto s = value.value<std::string>();
  if (!value.is_string() || !s) {
    return InvalidArgument(Where(file, value) + ": \"" + key + "\" must be a string");
  }
  if (!IsValidUtf8(*s)) return InvalidArgument(Where(file, value) + ": \"" + key + "\" is not UTF-8");
  *out = *s;
  return Status::Ok();
}

Status ReadEntry(const toml::table& table, const std::string& file, const std::string& where,
                 bool allow_order, EntryMeta* meta, std::vector<std::string>* order) {
  for (const auto& [k, value] : table) {
    std::string key(k.str());
    std::optional<std::string>* field = nullptr;
    if (key == "title") field = &meta->title;
    else if (key == "description") field = &meta->description;
    else if (key == "language") field = &meta->language;
    else if (key == "grade") field = &meta->grade;
    else if (key == "subject") field = &meta->subject;
    else if (key == "license") field = &meta->license;
    else if (key == "author") field = &meta->author;
    else if (key == "thumbnail") field = &meta->thumbnail;
    else if (key == "kind") field = &meta->kind;
    if (field) {
      OUTPOST_RETURN_IF_ERROR(ReadString(value, file, where + "." + key, field));
      continue;
    }
    if (key == "hidden") {
      if (!value.is_boolean()) {
        return InvalidArgument(Where(file, value) + ": \"" + where + ".hidden\" must be true or false");
      }
      meta->hidden = *value.value<bool>();
    } else if (key == "order") {
      if (!allow_order || !value.is_array()) {
        return InvalidArgument(Where(file, value) + ": \"" + where + "." + key +
                               "\" must be a list of names in [topic]");
      }
      for (const auto& item : *value.as_array()) {
        auto s = item.value<std::string>();
        if (!item.is_string() || !s) {
          return InvalidArgument(Where(file, item) + ": \"" + where + ".order\" must list names");
        }
        order->push_back(*s);
      }
    } else {
      return InvalidArgument(Where(file, value) + ": unknown key \"" + where + "." + key + "\"");
    }
  }
  if (meta->kind && !KindFromName(*meta->kind)) {
    return InvalidArgument(file + ": \"" + where + ".kind\" is \"" + *meta->kind +
                           "\"; it must be one of video, audio, document, image, html, app, "
                           "exercise, other");
  }
  return Status::Ok();
}

}  // namespace

Result<FolderMeta> ParseFolderMeta(std::string_view text, const std::string& file, bool is_root) {
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << file << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return InvalidArgument(out.str());
  }
  FolderMeta meta;
  for (const auto& [k, value] : root) {
    std::string key(k.str());
    if (key == "channel") {
      if (!is_root) {
        return InvalidArgument(Where(file, value) +
                               ": [channel] belongs in the outpost.toml at the channel's root");
      }
      if (!value.is_table()) return InvalidArgument(Where(file, value) + ": [channel] must be a table");
      toml::table channel = *value.as_table();
      if (auto* id = channel.get("id")) {
        std::optional<std::string> s;
        OUTPOST_RETURN_IF_ERROR(ReadString(*id, file, "channel.id", &s));
        if (!IsValidChannelId(*s)) {
          return InvalidArgument(Where(file, *id) + ": channel id \"" + *s +
                                 "\" must be 1 to 64 characters of a-z, 0-9 and '-'");
        }
        meta.channel_id = s;
        channel.erase("id");
      }
      OUTPOST_RETURN_IF_ERROR(ReadEntry(channel, file, "channel", false, &meta.channel, nullptr));
    } else if (key == "topic") {
      if (!value.is_table()) return InvalidArgument(Where(file, value) + ": [topic] must be a table");
      OUTPOST_RETURN_IF_ERROR(
          ReadEntry(*value.as_table(), file, "topic", true, &meta.topic, &meta.order));
    } else if (key == "files") {
      if (!value.is_table()) return InvalidArgument(Where(file, value) + ": [files] must be a table");
      for (const auto& [name, entry] : *value.as_table()) {
        std::string n(name.str());
        if (!entry.is_table()) {
          return InvalidArgument(Where(file, entry) + ": [files.\"" + n + "\"] must be a table");
        }
        OUTPOST_RETURN_IF_ERROR(
            ReadEntry(*entry.as_table(), file, "files." + n, false, &meta.files[n], nullptr));
      }
    } else {
      return InvalidArgument(Where(file, value) + ": unknown table or key \"" + key +
                             "\" (expected [channel], [topic] or [files.\"NAME\"])");
    }
  }
  return meta;
}

}  // namespace outpost
