// The Range header is read left to right in four steps: the unit ("bytes"), '=', one
// range-spec (first-pos, '-', last-pos, either number optional but not both), the end. Any
// step that fails makes the header malformed, and a malformed header is ignored (kFull).
#include "byte_range.h"

#include <limits>

namespace outpost {

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// A cursor over the header value.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool AtEnd() const { return pos_ == s_.size(); }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool Eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  // Matches `word` (lower case) ignoring the case of the input.
  bool EatWord(std::string_view word) {
    if (s_.size() - pos_ < word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      char c = s_[pos_ + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != word[i]) return false;
    }
    pos_ += word.size();
    return true;
  }
  // Reads decimal digits, saturating at 2^64-1. False (nothing consumed) if there are none.
  bool EatNumber(uint64_t& value) {
    size_t start = pos_;
    value = 0;
    for (; pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; ++pos_) {
      uint64_t digit = static_cast<uint64_t>(s_[pos_] - '0');
      value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
    }
    return pos_ > start;
  }
  bool Contains(char c) const { return s_.find(c, pos_) != std::string_view::npos; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

ByteRange Full() { return {}; }
ByteRange Unsatisfiable() { return {ByteRange::Kind::kUnsatisfiable, 0, 0}; }
ByteRange Partial(uint64_t first, uint64_t last) {
  return {ByteRange::Kind::kPartial, first, last};
}

// "bytes=-N": the last N bytes.
ByteRange Suffix(uint64_t n, uint64_t size) {
  if (n == 0) return Unsatisfiable();
  if (size == 0) return Full();
  return Partial(n >= size ? 0 : size - n, size - 1);
}

// "bytes=A-" (open) or "bytes=A-B".
ByteRange FromFirst(uint64_t first, bool has_last, uint64_t last, uint64_t size) {
  if (has_last && last < first) return Full();  // malformed
  if (first >= size) return Unsatisfiable();
  return Partial(first, has_last && last < size - 1 ? last : size - 1);
}

}  // namespace

ByteRange ByteRange::Parse(std::string_view header, uint64_t size) {
  Scanner in(header);
  in.SkipSpace();
  if (!in.EatWord("bytes")) return Full();
  in.SkipSpace();
  if (!in.Eat('=')) return Full();
  if (in.Contains(',')) return Full();  // several ranges: answered whole (see the header)
  in.SkipSpace();
  uint64_t first = 0, last = 0;
  bool has_first = in.EatNumber(first);
  in.SkipSpace();
  if (!in.Eat('-')) return Full();
  in.SkipSpace();
  bool has_last = in.EatNumber(last);
  in.SkipSpace();
  if (!in.AtEnd()) return Full();
  if (has_first) return FromFirst(first, has_last, last, size);
  if (has_last) return Suffix(last, size);
  return Full();  // "bytes=-"
}

uint64_t ByteRange::Length(uint64_t size) const {
  switch (kind) {
    case Kind::kFull: return size;
    case Kind::kPartial: return last - first + 1;
    case Kind::kUnsatisfiable: return 0;
  }
  return 0;
}

std::string ByteRange::ContentRange(uint64_t size) const {
  switch (kind) {
    case Kind::kFull: return {};
    case Kind::kPartial:
      return "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
             std::to_string(size);
    case Kind::kUnsatisfiable: return "bytes */" + std::to_string(size);
  }
  return {};
}

}  // namespace outpost
