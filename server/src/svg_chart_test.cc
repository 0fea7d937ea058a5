#include "svg_chart.h"

#include <gtest/gtest.h>

#include <regex>

namespace outpost {
namespace {

BarChartSpec Spec(std::vector<uint64_t> values, bool rtl = false) {
  BarChartSpec spec;
  spec.id = "c1";
  spec.title = "Maths <views>";
  spec.description = "Total: 6";
  spec.rtl = rtl;
  for (size_t i = 0; i < values.size(); ++i) {
    spec.bars.push_back({"d" + std::to_string(i), values[i], "day " + std::to_string(i)});
  }
  return spec;
}

// The x of each bar, in order.
std::vector<double> BarXs(const std::string& svg) {
  std::vector<double> xs;
  std::regex rect(R"re(<rect x="([0-9.]+)")re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), rect); it != std::sregex_iterator();
       ++it) {
    xs.push_back(std::stod((*it)[1]));
  }
  return xs;
}

TEST(SvgChartTest, NiceCeilingIsOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_EQ(NiceCeiling(0), 1u);
  EXPECT_EQ(NiceCeiling(1), 1u);
  EXPECT_EQ(NiceCeiling(3), 5u);
  EXPECT_EQ(NiceCeiling(7), 10u);
  EXPECT_EQ(NiceCeiling(11), 20u);
  EXPECT_EQ(NiceCeiling(200), 200u);
  EXPECT_EQ(NiceCeiling(201), 500u);
  EXPECT_EQ(NiceCeiling(UINT64_MAX), UINT64_MAX);
}

TEST(SvgChartTest, ChartIsANamedScalableImage) {
  std::string svg = BarChartSvg(Spec({1, 2, 3}));
  EXPECT_NE(svg.find(R"(viewBox="0 0 400.0 170.0" width="100%")"), std::string::npos) << svg;
  EXPECT_NE(svg.find(R"(role="img" aria-labelledby="c1-t c1-d")"), std::string::npos);
  EXPECT_NE(svg.find(R"(<title id="c1-t">Maths &lt;views&gt;</title>)"), std::string::npos);
  EXPECT_NE(svg.find(R"(<desc id="c1-d">Total: 6</desc>)"), std::string::npos);
  EXPECT_NE(svg.find("<title>day 2</title>"), std::string::npos);
  EXPECT_EQ(svg.find("style="), std::string::npos);  // no inline style: the CSP forbids it
}

TEST(SvgChartTest, TallestBarReachesTheNiceTop) {
  std::string svg = BarChartSvg(Spec({0, 5, 10}));
  // top = 10: the plot runs from y 10 to 140, so the last bar is 130 high and the first is none.
  EXPECT_NE(svg.find(R"(y="10.0" width=)"), std::string::npos) << svg;
  EXPECT_NE(svg.find(R"(height="130.0")"), std::string::npos);
  EXPECT_NE(svg.find(R"(height="65.0")"), std::string::npos);
  EXPECT_NE(svg.find(R"(height="0.0")"), std::string::npos);
  EXPECT_NE(svg.find(">10</text>"), std::string::npos);
  EXPECT_NE(svg.find(">5</text>"), std::string::npos);
}

TEST(SvgChartTest, OneViewStillShows) {
  std::string svg = BarChartSvg(Spec({1000, 1}));
  EXPECT_NE(svg.find(R"(height="1.0")"), std::string::npos) << svg;
}

TEST(SvgChartTest, RightToLeftRunsTimeFromTheRight) {
  auto ltr = BarXs(BarChartSvg(Spec({1, 2, 3})));
  auto rtl = BarXs(BarChartSvg(Spec({1, 2, 3}, /*rtl=*/true)));
  ASSERT_EQ(ltr.size(), 3u);
  ASSERT_EQ(rtl.size(), 3u);
  EXPECT_LT(ltr[0], ltr[2]);
  EXPECT_GT(rtl[0], rtl[2]);
}

TEST(SvgChartTest, NoBarsIsAnEmptyChartNotACrash) {
  std::string svg = BarChartSvg(Spec({}));
  EXPECT_EQ(BarXs(svg).size(), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace outpost
