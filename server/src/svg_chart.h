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
#include <functional>
#include <nlohmann/json.hpp>
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

// A chart of views per day: `spec` (its id, title, description and direction) with one bar
// per entry of `daily`, a JSON array of {"day": "2026-12-07", "views": 12}, oldest first, as
// the usage figures give them; each bar labelled "12-07", with the tip "2026-12-07: " +
// views_text(views). The box's usage page and the hub's draw their charts with it.
std::string DailyViewsChart(BarChartSpec spec, const nlohmann::json& daily,
                            const std::function<std::string(uint64_t)>& views_text);

// The top of the value axis for a largest value `max`: 1, 2 or 5 times a power of ten, at
// least `max` (and at least 1).
uint64_t NiceCeiling(uint64_t max);

}  // namespace outpost
