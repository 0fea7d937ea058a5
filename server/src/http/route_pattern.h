// A route's pattern: a std::regex (ECMAScript) over the whole percent-decoded path, as the
// routes are written, matched without std::regex when it has one of the plain forms the routes
// use, so that a request for a file costs no regex.
//
// The forms matched by hand are sequences of
//   - a character, or a character then `?` (optional);
//   - a group of one class run: `([a-z0-9-]+)`, `([0-9a-f]{64})`, `([a-zA-Z-]{2,16})`, `(.+)`,
//     `(.*)` (a class of characters and ranges, or `.`, which is every character but \n and \r
//     as in ECMAScript), with `+`, `*`, `{n}` or `{n,m}`;
// and only where taking each run as long as it goes gives what std::regex's backtracking gives:
// a run that is not last is followed by a character outside its class (optional or not), and
// an optional character after a run is followed by the end, a character outside the run's
// class, or a last unbounded run that may be empty and takes every character of the first.
// Any other pattern is matched with std::regex. RoutePatternTest checks both agree.
//
// Thread-safety: const after construction; Match may be called from any thread.
#pragma once

#include <bitset>
#include <cstddef>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "http_message.h"

namespace outpost::http {

class RoutePattern {
 public:
  // Throws std::regex_error for a pattern std::regex refuses.
  explicit RoutePattern(const std::string& pattern);

  // True if `path` matches whole; then `groups` holds views into `path`: [0] the whole path,
  // [1].. the capture groups.
  bool Match(std::string_view path, Captures* groups) const;

  // True when Match needs no std::regex.
  bool by_hand() const { return by_hand_; }

 private:
  struct Piece {
    bool run = false;         // a class run (a group), else one character
    char c = 0;               // the character
    bool optional = false;    // the character is followed by `?`
    std::bitset<256> set;     // the run's class
    size_t min = 1, max = 1;  // the run's length
  };
  bool Compile(const std::string& pattern);
  bool Deterministic() const;
  bool MatchByHand(std::string_view path, Captures* groups) const;

  std::regex regex_;
  std::vector<Piece> pieces_;
  bool by_hand_ = false;
};

}  // namespace outpost::http
