#include "outpost/base/text.h"

#include <cctype>
#include <ctime>

namespace outpost {

namespace {

// Base letters of U+00C0..U+00FF; "" where the code point has no letter folding (× ÷),
// which then stays as it is.
const char* const kLatin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   // C0
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss", // D0
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   // E0
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y",  // F0
};

// Base letters of U+0100..U+017F as runs: (count, letters).
struct Run {
  int count;
  const char* letters;
};
const Run kLatinExtA[] = {
    {6, "a"}, {8, "c"}, {4, "d"}, {10, "e"}, {8, "g"}, {4, "h"}, {10, "i"}, {2, "ij"},
    {2, "j"}, {3, "k"}, {10, "l"}, {9, "n"}, {6, "o"}, {2, "oe"}, {6, "r"}, {8, "s"},
    {6, "t"}, {12, "u"}, {2, "w"}, {3, "y"}, {6, "z"}, {1, "s"},
};

const char* LatinExtA(char32_t cp) {
  int index = static_cast<int>(cp - 0x100);
  for (const Run& r : kLatinExtA) {
    if (index < r.count) return r.letters;
    index -= r.count;
  }
  return "";
}

bool IsArabicMark(char32_t cp) {
  return (cp >= 0x0610 && cp <= 0x061A) || (cp >= 0x064B && cp <= 0x065F) || cp == 0x0670 ||
         (cp >= 0x06D6 && cp <= 0x06ED) || cp == 0x0640;
}

int Put(const char* ascii, char32_t out[2]) {
  int n = 0;
  for (; ascii[n] && n < 2; ++n) out[n] = static_cast<char32_t>(ascii[n]);
  return n;
}

}  // namespace

char32_t DecodeUtf8(std::string_view s, size_t* pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = *pos, n = s.size();
  unsigned char c = p[i];
  auto cont = [&](size_t k) { return i + k < n && (p[i + k] & 0xC0) == 0x80; };
  if (c < 0x80) {
    *pos = i + 1;
    return c;
  }
  if (c >= 0xC2 && c <= 0xDF && cont(1)) {
    *pos = i + 2;
    return (c & 0x1F) << 6 | (p[i + 1] & 0x3F);
  }
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
    char32_t cp = (c & 0x0F) << 12 | (p[i + 1] & 0x3F) << 6 | (p[i + 2] & 0x3F);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
      *pos = i + 3;
      return cp;
    }
  }
  if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    char32_t cp = (c & 0x07) << 18 | (p[i + 1] & 0x3F) << 12 | (p[i + 2] & 0x3F) << 6 |
                  (p[i + 3] & 0x3F);
    if (cp >= 0x10000 && cp <= 0x10FFFF) {
      *pos = i + 4;
      return cp;
    }
  }
  *pos = i + 1;
  return 0xFFFD;
}

bool IsValidUtf8(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    char32_t cp = DecodeUtf8(s, &pos);
    if (cp == 0xFFFD && !(pos - start == 3 && s.substr(start, 3) == "\xEF\xBF\xBD")) return false;
  }
  return true;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | cp >> 6));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | cp >> 12));
    out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | cp >> 18));
    out->push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string EscapeInvalidUtf8(std::string_view s) {
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    char32_t cp = DecodeUtf8(s, &pos);
    if (cp == 0xFFFD && pos - start == 1) {
      static constexpr char kDigits[] = "0123456789ABCDEF";
      unsigned char b = static_cast<unsigned char>(s[start]);
      out += "\\x";
      out += kDigits[b >> 4];
      out += kDigits[b & 0xF];
    } else {
      out.append(s.substr(start, pos - start));
    }
  }
  return out;
}

std::string SanitizeUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) AppendUtf8(DecodeUtf8(s, &pos), &out);
  return out;
}

std::string SanitizeUtf8(std::string&& s) {
  if (IsValidUtf8(s)) return std::move(s);
  return SanitizeUtf8(std::string_view(s));
}

int FoldCodePoint(char32_t cp, char32_t out[2]) {
  if (cp < 0x80) {
    out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    return 1;
  }
  if (cp >= 0xC0 && cp <= 0xFF) {
    const char* base = kLatin1[cp - 0xC0];
    if (*base) return Put(base, out);
  } else if (cp >= 0x100 && cp <= 0x17F) {
    return Put(LatinExtA(cp), out);
  } else if (cp >= 0x300 && cp <= 0x36F) {
    return 0;  // combining diacritical marks
  } else if (cp >= 0x391 && cp <= 0x3A9) {
    out[0] = cp + 0x20;  // Greek capitals
    return 1;
  } else if (cp >= 0x410 && cp <= 0x42F) {
    out[0] = cp + 0x20;  // Cyrillic capitals
    return 1;
  } else if (cp >= 0x400 && cp <= 0x40F) {
    out[0] = cp + 0x50;
    return 1;
  } else if (cp >= 0x600 && cp <= 0x6FF) {
    if (IsArabicMark(cp)) return 0;
    switch (cp) {
      case 0x0622: case 0x0623: case 0x0625: case 0x0671: out[0] = 0x0627; return 1;
      case 0x0649: out[0] = 0x064A; return 1;
      case 0x0629: out[0] = 0x0647; return 1;
      default: break;
    }
  }
  out[0] = cp;
  return 1;
}

std::string FoldForSearch(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  char32_t folded[2];
  while (pos < s.size()) {
    char32_t cp = DecodeUtf8(s, &pos);
    int n = FoldCodePoint(cp, folded);
    for (int i = 0; i < n; ++i) AppendUtf8(folded[i], &out);
  }
  return out;
}

bool IsWordCodePoint(char32_t cp) {
  // ASCII inline: the search index asks this of every character it indexes.
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
  if (cp == 0xA0 || cp == 0xAB || cp == 0xBB || cp == 0xB7 || cp == 0xBF || cp == 0xA1) {
    return false;  // nbsp « » · ¿ ¡
  }
  if (cp >= 0x80 && cp <= 0xBF) return false;           // Latin-1 punctuation and symbols
  if (cp == 0xD7 || cp == 0xF7) return false;            // × ÷
  if (cp == 0x060C || cp == 0x061B || cp == 0x061F || cp == 0x066A || cp == 0x066B ||
      cp == 0x066C || cp == 0x066D || cp == 0x06D4) {
    return false;                                        // Arabic punctuation
  }
  if (cp >= 0x2000 && cp <= 0x206F) return false;        // general punctuation, spaces
  if (cp >= 0x3000 && cp <= 0x303F) return false;        // CJK punctuation
  if (cp == 0xFEFF || cp == 0xFFFD) return false;
  return true;
}

std::string ReadableTitle(std::string_view name, bool strip_extension) {
  std::string s(name);
  if (strip_extension) {
    for (const char* double_ext : {".exercise.json"}) {
      std::string_view de(double_ext);
      if (s.size() > de.size() && s.compare(s.size() - de.size(), de.size(), de) == 0) {
        s.resize(s.size() - de.size());
        strip_extension = false;
      }
    }
  }
  if (strip_extension) {
    size_t dot = s.rfind('.');
    if (dot != std::string::npos && dot > 0) s.resize(dot);
  }
  // Drop a leading order number: "01-", "1_", "02 ", "3. ".
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i > 0 && i < s.size() && (s[i] == '-' || s[i] == '_' || s[i] == ' ' || s[i] == '.')) {
    size_t j = i + 1;
    while (j < s.size() && s[j] == ' ') ++j;
    if (j < s.size()) s.erase(0, j);
  }
  for (char& c : s) {
    if (c == '_' || c == '-') c = ' ';
  }
  // Collapse runs of spaces.
  std::string out;
  for (char c : s) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 32);
  return out.empty() ? std::string(name) : out;
}

std::string ChannelIdFromName(std::string_view name) {
  std::string out;
  for (char c : FoldForSearch(name)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (ok) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
    if (out.size() >= 64) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

bool IsValidChannelId(std::string_view id) {
  if (id.empty() || id.size() > 64 || id.front() == '-') return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string UtcMinute(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace outpost
