// viz/plot.h — line charts as PNG files: training curves, benchmark scaling plots.
//
// A deliberately small plotter: a few named series of (x, y) points, linear or
// log axes, tick labels, a legend. Text is drawn with stb_easy_font (Debian's
// libstb-dev), a tiny bitmap font made of rectangles.
#pragma once

#include <string>
#include <vector>

#include "viz/png.h"

namespace ta::viz {

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length; non-finite points (and <= 0 on log axes) are skipped
};

struct PlotOptions {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  int width = 800, height = 500;
};

// Draws the series into an image (a distinct colour each, listed in the legend).
Image plot(const std::vector<Series>& series, const PlotOptions& options);
void write_plot(const std::string& path, const std::vector<Series>& series, const PlotOptions& options);

// Draws `text` with its top-left corner at (x, y), `scale` pixels per font unit.
void draw_text(Image& image, int x, int y, const std::string& text, Rgb color, int scale = 1);
int text_width(const std::string& text, int scale = 1);

}  // namespace ta::viz
