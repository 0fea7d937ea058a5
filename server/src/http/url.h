// Percent-encoding for URLs the server writes into pages and redirects (RFC 3986: unreserved
// characters stay, every other byte becomes %XX).
#pragma once

#include <string>
#include <string_view>

namespace outpost {

// With keep_slash, '/' stays too (for paths); without it, for query values.
inline std::string PercentEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace outpost
