#include "outpost/content/sniff.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include "outpost/base/text.h"

namespace outpost {

namespace {

struct ExtensionKind {
  const char* ext;
  NodeKind kind;
  const char* mime;
  bool asset;
};

const ExtensionKind kExtensions[] = {
    {"mp4", NodeKind::kVideo, "video/mp4", false},
    {"m4v", NodeKind::kVideo, "video/mp4", false},
    {"webm", NodeKind::kVideo, "video/webm", false},
    {"mkv", NodeKind::kVideo, "video/x-matroska", false},
    {"ogv", NodeKind::kVideo, "video/ogg", false},
    {"mov", NodeKind::kVideo, "video/quicktime", false},
    {"mp3", NodeKind::kAudio, "audio/mpeg", false},
    {"wav", NodeKind::kAudio, "audio/wav", false},
    {"ogg", NodeKind::kAudio, "audio/ogg", false},
    {"oga", NodeKind::kAudio, "audio/ogg", false},
    {"opus", NodeKind::kAudio, "audio/ogg", false},
    {"flac", NodeKind::kAudio, "audio/flac", false},
    {"m4a", NodeKind::kAudio, "audio/mp4", false},
    {"pdf", NodeKind::kDocument, "application/pdf", false},
    {"epub", NodeKind::kDocument, "application/epub+zip", false},
    {"odt", NodeKind::kDocument, "application/vnd.oasis.opendocument.text", false},
    {"docx", NodeKind::kDocument,
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", false},
    {"pptx", NodeKind::kDocument,
     "application/vnd.openxmlformats-officedocument.presentationml.presentation", false},
    {"txt", NodeKind::kDocument, "text/plain; charset=utf-8", false},
    {"png", NodeKind::kImage, "image/png", false},
    {"jpg", NodeKind::kImage, "image/jpeg", false},
    {"jpeg", NodeKind::kImage, "image/jpeg", false},
    {"gif", NodeKind::kImage, "image/gif", false},
    {"webp", NodeKind::kImage, "image/webp", false},
    {"svg", NodeKind::kImage, "image/svg+xml", false},
    {"html", NodeKind::kHtml, "text/html; charset=utf-8", false},
    {"htm", NodeKind::kHtml, "text/html; charset=utf-8", false},
    {"xhtml", NodeKind::kHtml, "application/xhtml+xml", false},
    {"zip", NodeKind::kOther, "application/zip", false},
    {"vtt", NodeKind::kOther, "text/vtt; charset=utf-8", true},
    {"css", NodeKind::kOther, "text/css; charset=utf-8", true},
    {"js", NodeKind::kOther, "text/javascript; charset=utf-8", true},
    {"mjs", NodeKind::kOther, "text/javascript; charset=utf-8", true},
    {"map", NodeKind::kOther, "application/json", true},
    {"json", NodeKind::kOther, "application/json", false},
    {"woff", NodeKind::kOther, "font/woff", true},
    {"woff2", NodeKind::kOther, "font/woff2", true},
    {"ttf", NodeKind::kOther, "font/ttf", true},
    {"otf", NodeKind::kOther, "font/otf", true},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool StartsWith(std::span<const uint8_t> head, std::string_view magic, size_t at = 0) {
  return head.size() >= at + magic.size() &&
         std::memcmp(head.data() + at, magic.data(), magic.size()) == 0;
}

const ExtensionKind* ByExtension(std::string_view ext) {
  for (const auto& e : kExtensions) {
    if (ext == e.ext) return &e;
  }
  return nullptr;
}

KindGuess Guess(const char* ext) {
  const ExtensionKind* e = ByExtension(ext);
  return {e->kind, e->asset, e->mime};
}

// The start of the file with leading whitespace and a UTF-8 BOM skipped, lower-cased.
std::string TextStart(std::span<const uint8_t> head) {
  size_t i = 0;
  if (StartsWith(head, "\xEF\xBB\xBF")) i = 3;
  while (i < head.size() && std::isspace(head[i])) ++i;
  return Lower(std::string_view(reinterpret_cast<const char*>(head.data()) + i, head.size() - i));
}

std::optional<KindGuess> FromContent(std::span<const uint8_t> head, std::string_view ext) {
  if (StartsWith(head, "%PDF-")) return Guess("pdf");
  if (StartsWith(head, "\x89PNG\r\n\x1a\n")) return Guess("png");
  if (StartsWith(head, "\xFF\xD8\xFF")) return Guess("jpg");
  if (StartsWith(head, "GIF87a") || StartsWith(head, "GIF89a")) return Guess("gif");
  if (StartsWith(head, "RIFF") && StartsWith(head, "WEBP", 8)) return Guess("webp");
  if (StartsWith(head, "RIFF") && StartsWith(head, "WAVE", 8)) return Guess("wav");
  if (StartsWith(head, "fLaC")) return Guess("flac");
  if (StartsWith(head, "ID3")) return Guess("mp3");
  if (StartsWith(head, "ftyp", 4)) {
    bool audio = StartsWith(head, "M4A ", 8);
    return Guess(audio ? "m4a" : (ext == "mov" ? "mov" : "mp4"));
  }
  if (StartsWith(head, "\x1A\x45\xDF\xA3")) return Guess(ext == "mkv" ? "mkv" : "webm");
  if (StartsWith(head, "OggS")) return Guess(ext == "ogv" ? "ogv" : (ext == "opus" ? "opus" : "ogg"));
  std::string text = TextStart(head);
  if (text.starts_with("<!doctype html") || text.starts_with("<html")) return Guess("html");
  if (text.starts_with("<svg") ||
      (text.starts_with("<?xml") && text.find("<svg") != std::string::npos)) {
    return Guess("svg");
  }
  return std::nullopt;
}

}  // namespace

KindGuess DetectKind(std::string_view file_name, std::span<const uint8_t> head) {
  std::string name = Lower(file_name);
  if (EndsWith(name, ".exercise.json")) {
    return {NodeKind::kExercise, false, "application/json"};
  }
  size_t dot = name.rfind('.');
  std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
  const ExtensionKind* by_ext = ByExtension(ext);
  // Assets keep their extension's kind: a .js file that starts with "<html" is still a script.
  if (by_ext && by_ext->asset) return {by_ext->kind, true, by_ext->mime};
  if (auto by_content = FromContent(head, ext)) return *by_content;
  if (by_ext) return {by_ext->kind, by_ext->asset, by_ext->mime};
  return {NodeKind::kOther, false, "application/octet-stream"};
}

bool ZipHasIndexHtml(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  off_t size = ::lseek(fd, 0, SEEK_END);
  // The end-of-central-directory record is 22 bytes plus a comment of up to 65535.
  size_t tail_len = static_cast<size_t>(std::min<off_t>(size, 22 + 65535));
  std::vector<uint8_t> tail(tail_len);
  bool found = false;
  auto le16 = [](const uint8_t* p) { return static_cast<uint32_t>(p[0] | p[1] << 8); };
  auto le32 = [](const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
  };
  if (size >= 22 && ::pread(fd, tail.data(), tail_len, size - static_cast<off_t>(tail_len)) ==
                        static_cast<ssize_t>(tail_len)) {
    for (size_t i = tail_len - 22 + 1; i-- > 0;) {
      if (le32(&tail[i]) != 0x06054b50) continue;
      uint32_t cd_size = le32(&tail[i + 12]), cd_offset = le32(&tail[i + 16]);
      if (cd_size > (64u << 20) || static_cast<off_t>(cd_offset) + cd_size > size) break;
      std::vector<uint8_t> cd(cd_size);
      if (::pread(fd, cd.data(), cd_size, cd_offset) != static_cast<ssize_t>(cd_size)) break;
      for (size_t p = 0; p + 46 <= cd.size() && le32(&cd[p]) == 0x02014b50;) {
        size_t name_len = le16(&cd[p + 28]), extra = le16(&cd[p + 30]), comment = le16(&cd[p + 32]);
        if (p + 46 + name_len > cd.size()) break;
        std::string_view entry(reinterpret_cast<const char*>(&cd[p + 46]), name_len);
        if (entry == "index.html") found = true;
        p += 46 + name_len + extra + comment;
      }
      break;
    }
  }
  ::close(fd);
  return found;
}

namespace {

struct Entity {
  const char* name;
  char32_t cp;
};
const Entity kEntities[] = {
    {"amp", '&'},     {"lt", '<'},       {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
    {"nbsp", 0xA0},   {"copy", 0xA9},    {"laquo", 0xAB},   {"raquo", 0xBB},   {"eacute", 0xE9},
    {"egrave", 0xE8}, {"ecirc", 0xEA},   {"euml", 0xEB},    {"agrave", 0xE0},  {"acirc", 0xE2},
    {"ccedil", 0xE7}, {"icirc", 0xEE},   {"iuml", 0xEF},    {"ocirc", 0xF4},   {"ugrave", 0xF9},
    {"ucirc", 0xFB},  {"Eacute", 0xC9},  {"Egrave", 0xC8},  {"Agrave", 0xC0},  {"Ccedil", 0xC7},
    {"oelig", 0x153}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"hellip", 0x2026}, {"rsquo", 0x2019},
    {"lsquo", 0x2018}, {"rdquo", 0x201D}, {"ldquo", 0x201C}, {"deg", 0xB0},
};

// The character an entity at s[i] ('&') names, and where it ends (its ';'); 0 if none.
char32_t DecodeEntity(std::string_view s, size_t i, size_t* semi_out) {
  size_t semi = s.find(';', i);
  if (semi == std::string_view::npos || semi - i > 10) return 0;
  std::string_view ent = s.substr(i + 1, semi - i - 1);
  char32_t cp = 0;
  if (ent.size() > 1 && ent[0] == '#') {
    bool hex = ent[1] == 'x' || ent[1] == 'X';
    cp = static_cast<char32_t>(
        std::strtoul(std::string(ent.substr(hex ? 2 : 1)).c_str(), nullptr, hex ? 16 : 10));
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  } else {
    for (const auto& e : kEntities) {
      if (ent == e.name) cp = e.cp;
    }
  }
  *semi_out = semi;
  return cp;
}

inline bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }  // C locale

// Decodes entities and collapses whitespace. Runs of plain characters are copied whole: this
// reads every byte of every page an import takes in.
void AppendText(std::string_view s, std::string* out, size_t max) {
  size_t i = 0;
  while (i < s.size() && out->size() < max) {
    size_t run = i;
    while (run < s.size() && s[run] != '&' && !IsSpace(s[run])) ++run;
    if (run > i) {
      out->append(s.data() + i, std::min(run - i, max - out->size()));
      i = run;
      continue;
    }
    if (IsSpace(s[i])) {
      if (!out->empty() && out->back() != ' ') out->push_back(' ');
      ++i;
      continue;
    }
    size_t semi = 0;
    char32_t cp = DecodeEntity(s, i, &semi);
    if (!cp) {
      out->push_back('&');
      ++i;
      continue;
    }
    if (cp == 0xA0) cp = ' ';
    if (cp != ' ' || (!out->empty() && out->back() != ' ')) AppendUtf8(cp, out);
    i = semi + 1;
  }
}

// Value of attribute `name` inside a tag's text, or "".
std::string Attribute(std::string_view tag, std::string_view name) {
  std::string lower = Lower(tag);
  size_t pos = 0;
  while ((pos = lower.find(name, pos)) != std::string::npos) {
    bool starts = pos > 0 && std::isspace(static_cast<unsigned char>(lower[pos - 1]));
    size_t eq = pos + name.size();
    while (eq < lower.size() && lower[eq] == ' ') ++eq;
    if (starts && eq < lower.size() && lower[eq] == '=') {
      size_t v = eq + 1;
      while (v < tag.size() && tag[v] == ' ') ++v;
      if (v < tag.size() && (tag[v] == '"' || tag[v] == '\'')) {
        size_t end = tag.find(tag[v], v + 1);
        if (end != std::string_view::npos) return std::string(tag.substr(v + 1, end - v - 1));
      } else {
        size_t end = v;
        while (end < tag.size() && !std::isspace(static_cast<unsigned char>(tag[end])) &&
               tag[end] != '>') {
          ++end;
        }
        return std::string(tag.substr(v, end - v));
      }
    }
    pos = eq;
  }
  return "";
}

// Where "</name" (any case) starts at or after `from`, within 1 MiB; the end of `html` if not.
size_t FindClosingTag(std::string_view html, size_t from, std::string_view name) {
  size_t limit = std::min(html.size(), from + (size_t{1} << 20));
  for (size_t lt = html.find("</", from); lt != std::string_view::npos && lt < limit;
       lt = html.find("</", lt + 1)) {
    if (lt + 2 + name.size() > limit) break;
    bool same = true;
    for (size_t k = 0; k < name.size() && same; ++k) {
      same = std::tolower(static_cast<unsigned char>(html[lt + 2 + k])) == name[k];
    }
    if (same) return lt;
  }
  return html.size();
}

}  // namespace

HtmlInfo ParseHtml(std::string_view html, size_t max_text) {
  HtmlInfo info;
  info.text.reserve(std::min(html.size(), max_text));  // grown once, not doubled and copied
  std::string title_raw;
  bool in_title = false, in_body_text = true;
  size_t i = 0;
  while (i < html.size()) {
    size_t lt = html.find('<', i);
    std::string_view text = html.substr(i, lt == std::string_view::npos ? lt : lt - i);
    if (in_title) {
      title_raw.append(text);
    } else if (in_body_text) {
      AppendText(text, &info.text, max_text);
    }
    if (lt == std::string_view::npos) break;
    if (html.substr(lt, 4) == "<!--") {
      size_t end = html.find("-->", lt + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    size_t gt = html.find('>', lt);
    if (gt == std::string_view::npos) break;
    std::string_view tag = html.substr(lt + 1, gt - lt - 1);
    std::string tag_name;
    for (char c : tag) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '!') {
        tag_name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else {
        break;
      }
    }
    i = gt + 1;
    if (tag_name == "html" && info.language.empty()) info.language = Attribute(tag, "lang");
    if (tag_name == "title") in_title = true;
    if (tag_name == "/title") in_title = false;
    if (tag_name == "head") in_body_text = false;
    if (tag_name == "/head" || tag_name == "body") in_body_text = true;
    for (const char* raw : {"script", "style", "noscript", "template"}) {
      if (tag_name == raw) i = FindClosingTag(html, i, raw);
    }
    // Block-level tags separate words.
    if (!info.text.empty() && info.text.back() != ' ') info.text.push_back(' ');
  }
  AppendText(title_raw, &info.title, 1024);
  while (!info.title.empty() && info.title.back() == ' ') info.title.pop_back();
  while (!info.text.empty() && info.text.back() == ' ') info.text.pop_back();
  if (!info.text.empty() && info.text.front() == ' ') info.text.erase(0, 1);
  if (info.text.size() > max_text) info.text.resize(max_text);
  // Held until the version commits: give back what markup left unused.
  if (info.text.capacity() > info.text.size() + info.text.size() / 4) info.text.shrink_to_fit();
  // Pages in other encodings, or text cut mid-character, must not put bad UTF-8 in the catalog.
  info.text = SanitizeUtf8(std::move(info.text));
  info.title = SanitizeUtf8(std::move(info.title));
  info.language = SanitizeUtf8(std::move(info.language));
  return info;
}

}  // namespace outpost
