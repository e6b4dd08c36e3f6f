#include "viz/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/error.h"

namespace ta::viz {

namespace {

const Rgb kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},  {148, 103, 189},
                        {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
const Rgb kBlack{0, 0, 0}, kGrid{225, 225, 225}, kWhite{255, 255, 255};

// The colour of the k-th series, drawn in `style`: a thin line (a noisy series
// behind others) in a lighter tint, halfway to white.
Rgb colour_of(size_t k, SeriesStyle style) {
  const Rgb c = kPalette[k % (sizeof kPalette / sizeof kPalette[0])];
  if (style != SeriesStyle::Thin) return c;
  const auto half = [](uint8_t v) { return static_cast<uint8_t>((v + 255) / 2); };
  return {half(c.r), half(c.g), half(c.b)};
}

// Maps data values to pixels along one axis (log10 of the value on a log axis).
struct Axis {
  double lo, hi;
  bool log;
  int p0, p1;  // pixel positions of lo and hi
  double t(double v) const { return log ? std::log10(v) : v; }
  int pixel(double v) const { return static_cast<int>(std::lround(p0 + (t(v) - lo) / (hi - lo) * (p1 - p0))); }
};

// A line of `thickness` pixels; with `dash` > 0, drawn `dash` pixels on, `dash` off.
void draw_line(Image& img, int x0, int y0, int x1, int y1, Rgb c, int thickness = 1, int dash = 0) {
  const int steps = std::max(std::abs(x1 - x0), std::abs(y1 - y0));
  for (int s = 0; s <= steps; ++s) {
    if (dash > 0 && (s / dash) % 2 == 1) continue;
    const double f = steps ? static_cast<double>(s) / steps : 0.0;
    const int x = static_cast<int>(std::lround(x0 + f * (x1 - x0))), y = static_cast<int>(std::lround(y0 + f * (y1 - y0)));
    img.fill_rect(x - thickness / 2, y - thickness / 2, x - thickness / 2 + thickness, y - thickness / 2 + thickness, c);
  }
}

std::string tick_label(double v) {
  char buf[32];
  if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-3))
    std::snprintf(buf, sizeof buf, "%.0e", v);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Tick values: powers of ten on a log axis, about 6 round numbers on a linear one.
std::vector<double> ticks(double lo, double hi, bool log) {
  std::vector<double> t;
  if (log) {
    for (double e = std::ceil(lo); e <= std::floor(hi) + 1e-9; ++e) t.push_back(std::pow(10.0, e));
    return t;
  }
  const double raw = (hi - lo) / 6.0, mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / mag < 2 ? 2 * mag : raw / mag < 5 ? 5 * mag : 10 * mag;
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) t.push_back(std::fabs(v) < 1e-12 ? 0 : v);
  return t;
}

bool usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

}  // namespace

Image plot(const std::vector<Series>& series, const PlotOptions& o) {
  Image img(o.width, o.height);
  const int left = 80, right = o.width - 20, top = 40, bottom = o.height - 60;
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  for (const Series& s : series) {
    TA_CHECK(s.x.size() == s.y.size(), "plot: series '", s.name, "' has ", s.x.size(), " x values and ", s.y.size(),
             " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!usable(s.x[i], o.log_x) || !usable(s.y[i], o.log_y)) continue;
      Axis probe{0, 1, o.log_x, 0, 1};
      xlo = std::min(xlo, probe.t(s.x[i]));
      xhi = std::max(xhi, probe.t(s.x[i]));
      Axis probe_y{0, 1, o.log_y, 0, 1};
      ylo = std::min(ylo, probe_y.t(s.y[i]));
      yhi = std::max(yhi, probe_y.t(s.y[i]));
    }
  }
  if (!std::isfinite(xlo)) xlo = 0, xhi = 1, ylo = 0, yhi = 1;  // nothing to draw: empty axes
  if (xhi - xlo < 1e-12) xlo -= 0.5, xhi += 0.5;
  if (yhi - ylo < 1e-12) ylo -= 0.5, yhi += 0.5;
  const double ypad = 0.05 * (yhi - ylo);
  ylo -= ypad, yhi += ypad;
  const Axis ax{xlo, xhi, o.log_x, left, right}, ay{ylo, yhi, o.log_y, bottom, top};

  for (double t : ticks(xlo, xhi, o.log_x)) {
    const int px = ax.pixel(o.log_x ? t : t);
    draw_line(img, px, top, px, bottom, kGrid);
    const std::string label = tick_label(t);
    draw_text(img, px - text_width(label) / 2, bottom + 6, label, kBlack);
  }
  for (double t : ticks(ylo, yhi, o.log_y)) {
    const int py = ay.pixel(t);
    draw_line(img, left, py, right, py, kGrid);
    const std::string label = tick_label(t);
    draw_text(img, left - 6 - text_width(label), py - 3, label, kBlack);
  }
  draw_line(img, left, top, left, bottom, kBlack);
  draw_line(img, left, bottom, right, bottom, kBlack);
  const int title_scale = text_width(o.title, 2) <= o.width - 20 ? 2 : 1;  // a long title in the small font
  draw_text(img, (o.width - text_width(o.title, title_scale)) / 2, 10, o.title, kBlack, title_scale);
  draw_text(img, (left + right - text_width(o.x_label)) / 2, bottom + 30, o.x_label, kBlack);
  draw_text_up(img, 8, (top + bottom - text_width(o.y_label)) / 2, o.y_label, kBlack);

  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const Rgb c = colour_of(k, s.style);
    const int thickness = s.style == SeriesStyle::Thin ? 1 : 2, dash = s.style == SeriesStyle::Dashed ? 6 : 0;
    int px = -1, py = -1;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!usable(s.x[i], o.log_x) || !usable(s.y[i], o.log_y)) {
        px = -1;
        continue;
      }
      const int x = ax.pixel(s.x[i]), y = ay.pixel(s.y[i]);
      if (px >= 0) draw_line(img, px, py, x, y, c, thickness, dash);
      if (s.style == SeriesStyle::Markers) img.fill_rect(x - 2, y - 2, x + 3, y + 3, c);
      px = x, py = y;
    }
  }
  // The legend, top right over a white box: each series' mark, then its name.
  int legend_width = 0;
  for (const Series& s : series) legend_width = std::max(legend_width, 26 + text_width(s.name));
  const int lx = right - 10 - legend_width;
  img.fill_rect(lx - 6, top + 2, right - 4, top + 10 + static_cast<int>(series.size()) * 14, kWhite);
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const Rgb c = colour_of(k, s.style);
    const int ly = top + 8 + static_cast<int>(k) * 14;
    if (s.style == SeriesStyle::Markers)
      img.fill_rect(lx, ly, lx + 14, ly + 8, c);
    else
      draw_line(img, lx, ly + 4, lx + 14, ly + 4, c, s.style == SeriesStyle::Thin ? 1 : 2,
                s.style == SeriesStyle::Dashed ? 4 : 0);
    draw_text(img, lx + 20, ly, s.name, kBlack);
  }
  return img;
}

Series running_mean(const Series& series, size_t window, std::string name) {
  TA_CHECK(window > 0, "running_mean: the window must hold at least one point");
  Series mean{std::move(name), series.x, std::vector<double>(series.y.size()), SeriesStyle::Line};
  double sum = 0;
  for (size_t i = 0; i < series.y.size(); ++i) {
    sum += series.y[i];
    if (i >= window) sum -= series.y[i - window];
    mean.y[i] = sum / static_cast<double>(std::min(i + 1, window));
  }
  return mean;
}

void write_plot(const std::string& path, const std::vector<Series>& series, const PlotOptions& options) {
  write_png(path, plot(series, options));
}

}  // namespace ta::viz
