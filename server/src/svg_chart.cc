// BarChartSvg (svg_chart.h): a value axis with three grid lines (0, half, top), one bar per
// entry, and the first, middle and last labels under the axis, in a 400 x 170 viewBox.
#include "svg_chart.h"

#include <algorithm>
#include <cstdio>

namespace outpost {

namespace {

constexpr double kWidth = 400, kHeight = 170;
constexpr double kAxisSpace = 52;           // beside the plot, for the value labels
constexpr double kTop = 10, kBottom = 140;  // the plot's top and its base line
constexpr const char* kBarColour = "#0b6e7f";  // the pages' accent: 5.9:1 on white
constexpr const char* kTextColour = "#333";
constexpr const char* kGridColour = "#c9d4d6";

std::string Escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

struct Frame {
  double plot_left, plot_right;  // the bars' span
  double axis_x;                 // where the value labels are anchored
  const char* anchor;            // their text-anchor
  bool rtl;
};

Frame FrameOf(bool rtl) {
  if (rtl) return {4, kWidth - kAxisSpace, kWidth - kAxisSpace + 6, "start", true};
  return {kAxisSpace, kWidth - 4, kAxisSpace - 6, "end", false};
}

std::string Text(double x, double y, const char* anchor, const std::string& text) {
  return "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" text-anchor=\"" + anchor +
         "\" font-size=\"16\" fill=\"" + kTextColour + "\">" + Escape(text) + "</text>";
}

// Grid lines and value labels at 0, top / 2 and top.
std::string Grid(const Frame& f, uint64_t top) {
  std::string out = "<g class=\"grid\" aria-hidden=\"true\">";
  for (uint64_t step = 0; step <= 2; ++step) {
    double y = kBottom - (kBottom - kTop) * static_cast<double>(step) / 2;
    out += "<line x1=\"" + Num(f.plot_left) + "\" x2=\"" + Num(f.plot_right) + "\" y1=\"" +
           Num(y) + "\" y2=\"" + Num(y) + "\" stroke=\"" + kGridColour + "\"/>";
    uint64_t value = top * step / 2;
    if (step == 1 && top % 2 != 0) continue;  // no half label that is not a whole number
    out += Text(f.axis_x, y + 4, f.anchor, std::to_string(value));
  }
  return out + "</g>";
}

// The left edge of bar `i` of `n` (the first on the right when right to left).
double BarLeft(const Frame& f, size_t i, size_t n, double slot) {
  size_t pos = f.rtl ? n - 1 - i : i;
  return f.plot_left + slot * static_cast<double>(pos);
}

std::string Bars(const Frame& f, const std::vector<ChartBar>& bars, uint64_t top) {
  std::string out = "<g class=\"bars\">";
  double slot = (f.plot_right - f.plot_left) / static_cast<double>(std::max<size_t>(bars.size(), 1));
  double gap = std::min(slot * 0.2, 4.0);
  for (size_t i = 0; i < bars.size(); ++i) {
    double h = (kBottom - kTop) * static_cast<double>(bars[i].value) / static_cast<double>(top);
    if (bars[i].value > 0) h = std::max(h, 1.0);  // one view still shows
    out += "<rect x=\"" + Num(BarLeft(f, i, bars.size(), slot) + gap / 2) + "\" y=\"" +
           Num(kBottom - h) + "\" width=\"" + Num(slot - gap) + "\" height=\"" + Num(h) +
           "\" fill=\"" + kBarColour + "\"><title>" + Escape(bars[i].tip) + "</title></rect>";
  }
  return out + "</g>";
}

// The first, middle and last labels, centred under their bars (the ends kept inside).
std::string Labels(const Frame& f, const std::vector<ChartBar>& bars) {
  std::string out = "<g class=\"labels\" aria-hidden=\"true\">";
  size_t n = bars.size();
  if (n == 0) return out + "</g>";
  double slot = (f.plot_right - f.plot_left) / static_cast<double>(n);
  std::vector<size_t> shown = {0};
  if (n > 2) shown.push_back(n / 2);
  if (n > 1) shown.push_back(n - 1);
  for (size_t i : shown) {
    double x = BarLeft(f, i, n, slot) + slot / 2;
    x = std::clamp(x, f.plot_left + 22, f.plot_right - 22);
    out += Text(x, kHeight - 8, "middle", bars[i].label);
  }
  return out + "</g>";
}

}  // namespace

uint64_t NiceCeiling(uint64_t max) {
  uint64_t power = 1;
  while (true) {
    for (uint64_t m : {1, 2, 5}) {
      if (m * power >= max) return m * power;
    }
    if (power > UINT64_MAX / 100) return max;
    power *= 10;
  }
}

std::string BarChartSvg(const BarChartSpec& spec) {
  uint64_t max = 0;
  for (const ChartBar& b : spec.bars) max = std::max(max, b.value);
  uint64_t top = NiceCeiling(max);
  Frame f = FrameOf(spec.rtl);
  std::string id = Escape(spec.id);
  std::string out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    Num(kWidth) + " " + Num(kHeight) +
                    "\" width=\"100%\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\" "
                    "aria-labelledby=\"" + id + "-t " + id + "-d\">";
  out += "<title id=\"" + id + "-t\">" + Escape(spec.title) + "</title>";
  out += "<desc id=\"" + id + "-d\">" + Escape(spec.description) + "</desc>";
  out += Grid(f, top) + Bars(f, spec.bars, top) + Labels(f, spec.bars);
  return out + "</svg>";
}

std::string DailyViewsChart(BarChartSpec spec, const nlohmann::json& daily,
                            const std::function<std::string(uint64_t)>& views_text) {
  for (const nlohmann::json& d : daily) {
    std::string day = d.value("day", "");
    uint64_t views = d.value("views", uint64_t{0});
    spec.bars.push_back({day.size() > 5 ? day.substr(5) : day, views, day + ": " + views_text(views)});
  }
  return BarChartSvg(spec);
}

}  // namespace outpost
