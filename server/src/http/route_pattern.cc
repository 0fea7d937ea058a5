#include "route_pattern.h"

#include <limits>

namespace outpost::http {

namespace {

constexpr size_t kUnbounded = std::numeric_limits<size_t>::max();

bool IsMeta(char c) { return std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos; }

// A class `[...]` of characters and ranges from `pos` (after the '['); false for anything
// else (negation, escapes, an empty class). `pos` ends after the ']'.
bool ParseClass(const std::string& p, size_t* pos, std::bitset<256>* set) {
  size_t i = *pos;
  if (i < p.size() && (p[i] == '^' || p[i] == ']')) return false;
  for (; i < p.size() && p[i] != ']'; ++i) {
    unsigned char lo = static_cast<unsigned char>(p[i]), hi = lo;
    if (lo == '\\' || lo == '[') return false;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = static_cast<unsigned char>(p[i + 2]);
      if (hi == '\\' || hi == '[' || hi < lo) return false;
      i += 2;
    }
    for (unsigned c = lo; c <= hi; ++c) set->set(c);
  }
  if (i >= p.size()) return false;
  *pos = i + 1;
  return true;
}

// A number of digits from `pos`; false if none.
bool ParseCount(const std::string& p, size_t* pos, size_t* n) {
  size_t i = *pos, value = 0;
  for (; i < p.size() && p[i] >= '0' && p[i] <= '9' && i - *pos < 6; ++i) value = value * 10 + (p[i] - '0');
  if (i == *pos) return false;
  *pos = i;
  *n = value;
  return true;
}

// `+`, `*`, `{n}` or `{n,m}` from `pos`, into min and max.
bool ParseQuantifier(const std::string& p, size_t* pos, size_t* min, size_t* max) {
  if (*pos >= p.size()) return false;
  char q = p[(*pos)++];
  if (q == '+' || q == '*') {
    *min = q == '+' ? 1 : 0;
    *max = kUnbounded;
    return true;
  }
  if (q != '{' || !ParseCount(p, pos, min)) return false;
  *max = *min;
  if (*pos < p.size() && p[*pos] == ',') {
    ++*pos;
    if (!ParseCount(p, pos, max) || *max < *min) return false;
  }
  return *pos < p.size() && p[(*pos)++] == '}' && *max > 0;
}

}  // namespace

RoutePattern::RoutePattern(const std::string& pattern) : regex_(pattern) {
  by_hand_ = Compile(pattern) && Deterministic();
  if (!by_hand_) pieces_.clear();
}

// The pieces of `pattern`, or false when it is not of the forms matched by hand.
bool RoutePattern::Compile(const std::string& p) {
  for (size_t i = 0; i < p.size();) {
    Piece piece;
    if (p[i] == '(') {
      piece.run = true;
      ++i;
      if (i < p.size() && p[i] == '.') {
        piece.set.set();
        piece.set.reset('\n');
        piece.set.reset('\r');
        ++i;
      } else if (i >= p.size() || p[i] != '[' || !ParseClass(p, &++i, &piece.set)) {
        return false;
      }
      if (!ParseQuantifier(p, &i, &piece.min, &piece.max)) return false;
      if (i >= p.size() || p[i++] != ')') return false;
    } else if (IsMeta(p[i])) {
      return false;
    } else {
      piece.c = p[i++];
      if (i < p.size() && p[i] == '?') {
        piece.optional = true;
        ++i;
      }
    }
    pieces_.push_back(piece);
  }
  return true;
}

// True when taking each run and each optional character as far as it goes finds the match
// std::regex would, or shows there is none (header comment).
bool RoutePattern::Deterministic() const {
  auto has = [](const Piece& run, char c) { return run.set.test(static_cast<unsigned char>(c)); };
  // The last piece, a run that may be empty, has no bound and takes every character of `run`.
  auto takes_all_of = [&](size_t i, const Piece* run) {
    const Piece& last = pieces_[i];
    return last.run && i + 1 == pieces_.size() && last.min == 0 && last.max == kUnbounded &&
           (!run || (last.set & run->set) == run->set);
  };
  for (size_t i = 0; i + 1 < pieces_.size(); ++i) {
    const Piece& piece = pieces_[i];
    const Piece& next = pieces_[i + 1];
    const Piece* before = i > 0 && pieces_[i - 1].run ? &pieces_[i - 1] : nullptr;
    if (piece.run) {
      // A run stops at a character it does not take, which the next piece must then take.
      if (next.run || has(piece, next.c)) return false;
      if (next.optional && i + 2 < pieces_.size()) {
        const Piece& after = pieces_[i + 2];
        if (after.run ? !takes_all_of(i + 2, &piece) : has(piece, after.c)) return false;
      }
    } else if (piece.optional) {
      // Skipping the character must never be what finds a match.
      bool next_cannot_take_it = next.run ? !has(next, piece.c) : next.c != piece.c;
      if (!next_cannot_take_it && !takes_all_of(i + 1, before)) return false;
    }
  }
  return true;
}

bool RoutePattern::MatchByHand(std::string_view path, Captures* groups) const {
  groups->clear();
  groups->push_back(path);
  size_t at = 0;
  for (const Piece& piece : pieces_) {
    if (!piece.run) {
      if (at < path.size() && path[at] == piece.c) {
        ++at;
      } else if (!piece.optional) {
        return false;
      }
      continue;
    }
    size_t start = at;
    while (at < path.size() && at - start < piece.max &&
           piece.set.test(static_cast<unsigned char>(path[at]))) {
      ++at;
    }
    if (at - start < piece.min) return false;
    groups->push_back(path.substr(start, at - start));
  }
  return at == path.size();
}

bool RoutePattern::Match(std::string_view path, Captures* groups) const {
  if (by_hand_) {
    if (MatchByHand(path, groups)) return true;
    groups->clear();
    return false;
  }
  std::match_results<std::string_view::const_iterator> m;
  groups->clear();
  if (!std::regex_match(path.begin(), path.end(), m, regex_)) return false;
  for (const auto& group : m) {
    groups->push_back(group.matched ? path.substr(group.first - path.begin(), group.length())
                                    : std::string_view());
  }
  return true;
}

}  // namespace outpost::http
