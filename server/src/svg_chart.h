// A bar chart as an inline SVG element, drawn on the box (the console's usage page): no chart
// library, no script, nothing fetched.
//
// The SVG scales to its container (a viewBox, width 100%), so it fits a 320 px phone; it is an
// image with a name and a description (role="img", aria-labelledby its <title> and <desc>),
// each bar has a <title> (its tooltip), and the page gives the same figures as a table beside
// it. Right to left (Arabic), time runs from right to left: the first bar is on the right and
// the value axis on the right. Colours come from presentation attributes and classes (the
// pages' Content-Security-Policy allows no inline style).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace outpost {

struct ChartBar {
  std::string label;  // under the axis (the first, middle and last are shown): "12-07"
  uint64_t value = 0;
  std::string tip;    // the bar's <title>: "2026-12-07: 12 views"
};

struct BarChartSpec {
  std::string id;           // unique on the page: the ids of <title> and <desc> derive from it
  std::string title;        // the chart's accessible name
  std::string description;  // its accessible description ("Total: 53 views over 30 days")
  std::vector<ChartBar> bars;
  bool rtl = false;
};

// The <svg> element, escaped for HTML (titles and labels are text, never markup).
std::string BarChartSvg(const BarChartSpec& spec);

// The top of the value axis for a largest value `max`: 1, 2 or 5 times a power of ten, at
// least `max` (and at least 1).
uint64_t NiceCeiling(uint64_t max);

}  // namespace outpost
