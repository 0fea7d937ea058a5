#include "route_pattern.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

namespace outpost::http {
namespace {

// Checks RoutePattern against std::regex_match on `path`: the same answer and the same groups.
void ExpectSameAsRegex(const std::string& pattern, const std::string& path) {
  std::smatch want;
  bool matched = std::regex_match(path, want, std::regex(pattern));
  Captures got;
  ASSERT_EQ(RoutePattern(pattern).Match(path, &got), matched) << pattern << " on " << path;
  if (!matched) return;
  ASSERT_EQ(got.size(), want.size()) << pattern << " on " << path;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i], want[i].str()) << pattern << " on " << path << " group " << i;
  }
}

// Paths made of the characters the patterns care about, some of them at random.
std::vector<std::string> Paths() {
  std::vector<std::string> paths = {"", "/", "/c/", "/c/ch", "/c/ch/", "/c/ch/a.html",
                                    "/c/ch//x", "/c/CH/a", "/c/ch/a\nb", "/c/ch/a\rb",
                                    "/c/ch/\xc3\xa9l\xc3\xa8ve.html", std::string("/c/ch/a\0b", 9),
                                    "/t/ch", "/t/ch/", "/t/ch/u/v/", "/t/ch\n", "/t/", "/t//x",
                                    "/blob/" + std::string(64, 'a'), "/blob/" + std::string(63, 'a'),
                                    "/blob/" + std::string(65, 'a'), "/lang/fr", "/lang/f",
                                    "/lang/" + std::string(17, 'a'), "/static/x.css", "/search"};
  std::mt19937 random(13);
  const std::string alphabet = "/ctbalngsx-09AZ.\n\r?\xc3";
  for (int i = 0; i < 3000; ++i) {
    std::string path = i % 3 == 0 ? "/c/" : (i % 3 == 1 ? "/t/" : "/");
    for (size_t n = random() % 12; n > 0; --n) path += alphabet[random() % alphabet.size()];
    paths.push_back(path);
  }
  return paths;
}

TEST(RoutePatternTest, ThePlainFormsAreMatchedByHandExactlyAsStdRegexMatchesThem) {
  for (const char* pattern : {"/", "/search", R"(/t/([a-z0-9-]+)/?(.*))", R"(/c/([a-z0-9-]+)/(.+))",
                              R"(/static/(.+))", R"(/blob/([0-9a-f]{64}))",
                              R"(/lang/([a-zA-Z-]{2,16}))", "/t/?", R"(/c/?([a-z]*))"}) {
    EXPECT_TRUE(RoutePattern(pattern).by_hand()) << pattern;
    for (const std::string& path : Paths()) ExpectSameAsRegex(pattern, path);
  }
}

// Where taking each run as far as it goes could miss a match std::regex finds by backtracking,
// or the pattern uses more than the plain forms, std::regex answers.
TEST(RoutePatternTest, PatternsThatNeedBacktrackingOrMoreSyntaxAreLeftToStdRegex) {
  for (const char* pattern : {R"(/c/([a-z/]+)/(.+))", R"(/t/([a-z0-9-]+)/?(.+))",
                              R"(/x/(.*)/y)", R"(/t/?/)", R"(/a/([a-z]+)([0-9]+))",
                              R"(/b/(\d+))", R"(/e/(a|b))", R"(/f/[a-z]+)", R"(/g/([^/]+))",
                              R"(^/h$)", R"(/i/(.+)?)"}) {
    EXPECT_FALSE(RoutePattern(pattern).by_hand()) << pattern;
    for (const std::string& path : Paths()) ExpectSameAsRegex(pattern, path);
  }
}

TEST(RoutePatternTest, APatternStdRegexRefusesIsRefused) {
  EXPECT_THROW(RoutePattern("/c/([a-z"), std::regex_error);
}

}  // namespace
}  // namespace outpost::http
