#include "outpost/content/metadata.h"

#include <algorithm>
#include <sstream>
#include <toml++/toml.h>

#include "outpost/content/catalog.h"
#include "outpost/base/text.h"

namespace outpost {

namespace {

constexpr size_t kMaxLabelBytes = 1024;

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

bool IsLabelledField(std::string_view field) {
  for (const char* f : kLabelledFields) {
    if (field == f) return true;
  }
  return false;
}

// A BCP 47-like tag: 1 to 35 of A-Z a-z 0-9 '-' '_'; lower-cased, '_' as '-'.
std::optional<std::string> LabelLanguage(std::string_view tag) {
  if (tag.empty() || tag.size() > 35) return std::nullopt;
  std::string out;
  for (char c : tag) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return std::nullopt;
    out += c == '_' ? '-' : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

// [labels.FIELD."VALUE"] with LANGUAGE = "LABEL" lines, for one value.
Status ReadValueLabels(const toml::table& table, const std::string& file, const std::string& where,
                       const std::string& field, const std::string& value,
                       std::vector<ValueLabel>* out) {
  for (const auto& [k, label] : table) {
    std::string key(k.str());
    auto language = LabelLanguage(key);
    if (!language) {
      return InvalidArgument(Where(file, label) + ": \"" + where + "." + key +
                             "\": a label's key is a language tag such as en, fr or ar");
    }
    std::optional<std::string> text;
    OUTPOST_RETURN_IF_ERROR(ReadString(label, file, where + "." + key, &text));
    if (text->empty() || text->size() > kMaxLabelBytes) {
      return InvalidArgument(Where(file, label) + ": \"" + where + "." + key + "\" must be 1 to " +
                             std::to_string(kMaxLabelBytes) + " bytes");
    }
    out->push_back({field, value, *language, *text});
  }
  return Status::Ok();
}

Status ReadLabels(const toml::node& node, const std::string& file, std::vector<ValueLabel>* out) {
  if (!node.is_table()) return InvalidArgument(Where(file, node) + ": [labels] must be a table");
  for (const auto& [f, values] : *node.as_table()) {
    std::string field(f.str());
    if (!IsLabelledField(field) || !values.is_table()) {
      return InvalidArgument(Where(file, values) + ": unknown table [labels." + field +
                             "] (expected [labels.grade], [labels.subject] or [labels.license])");
    }
    for (const auto& [v, languages] : *values.as_table()) {
      std::string value(v.str()), where = "labels." + field + ".\"" + value + "\"";
      if (!languages.is_table() || value.empty() || !IsValidUtf8(value)) {
        return InvalidArgument(Where(file, languages) + ": [" + where +
                               "] must be a table of LANGUAGE = \"LABEL\" for a non-empty value");
      }
      OUTPOST_RETURN_IF_ERROR(
          ReadValueLabels(*languages.as_table(), file, where, field, value, out));
    }
  }
  std::sort(out->begin(), out->end());
  for (size_t i = 1; i < out->size(); ++i) {
    const ValueLabel &a = (*out)[i - 1], &b = (*out)[i];
    if (a.field == b.field && a.value == b.value && a.language == b.language) {
      return InvalidArgument(file + ": [labels." + a.field + ".\"" + a.value +
                             "\"] gives language " + a.language + " twice");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string ValueKey(std::string_view value) {
  std::string out;
  bool gap = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '_' || c == '-') {
      gap = true;
      continue;
    }
    if (gap && !out.empty()) out += '-';
    gap = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

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
    } else if (key == "labels") {
      if (!is_root) {
        return InvalidArgument(Where(file, value) +
                               ": [labels] belongs in the outpost.toml at the channel's root");
      }
      OUTPOST_RETURN_IF_ERROR(ReadLabels(value, file, &meta.labels));
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
                             "\" (expected [channel], [topic], [files.\"NAME\"] or [labels])");
    }
  }
  return meta;
}

}  // namespace outpost
