// viz/plot.h — line charts as PNG files: training curves, benchmark scaling plots.
//
// A deliberately small plotter: a few named series of (x, y) points, linear or
// log axes, tick labels, axis labels (the y one turned upright), a title, a legend.
// Text: text.h.
#pragma once

#include <string>
#include <vector>

#include "viz/png.h"
#include "viz/text.h"

namespace ta::viz {

// How a series is drawn. Markers: a line through points marked with squares
// (measurements); Line: a line, no marks (a dense series); Thin: a thin line, no
// marks, in a lighter tint (a dense and noisy one behind others, such as the loss
// of every step); Dashed: a dashed line, no marks (a reference level, a baseline).
enum class SeriesStyle { Markers, Line, Thin, Dashed };

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length; non-finite points (and <= 0 on log axes) are skipped
  SeriesStyle style = SeriesStyle::Markers;
};

struct PlotOptions {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  int width = 800, height = 500;
};

// The mean of the last `window` points of `series` (fewer at its start) at each
// of its points: a noisy curve (the loss of every step) made readable.
Series running_mean(const Series& series, size_t window, std::string name);

// Draws the series into an image (a distinct colour each, listed in the legend).
Image plot(const std::vector<Series>& series, const PlotOptions& options);
void write_plot(const std::string& path, const std::vector<Series>& series, const PlotOptions& options);

}  // namespace ta::viz
