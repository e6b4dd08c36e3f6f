// tests/viz/test_viz.cpp — text in pictures (viz/text.h) and how the plotter draws
// its series (viz/plot.h): captions above pictures, upright axis labels, dashed
// reference lines, running means.
#include <doctest/doctest.h>

#include <string>

#include "core/error.h"
#include "viz/plot.h"
#include "viz/text.h"

using namespace ta::viz;

namespace {

bool is_white(Rgb c) { return c.r == 255 && c.g == 255 && c.b == 255; }

// The smallest box [x0, x1) x [y0, y1) holding every pixel that is not white.
struct Box {
  int x0, y0, x1, y1;
};
Box ink(const Image& img) {
  Box b{img.width(), img.height(), 0, 0};
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x)
      if (!is_white(img.get(x, y))) b = {std::min(b.x0, x), std::min(b.y0, y), std::max(b.x1, x + 1), std::max(b.y1, y + 1)};
  return b;
}

// The most runs of colour `c` on one row of the plot's area, left of the legend.
int most_runs(const Image& img, Rgb c, const PlotOptions& o) {
  int most = 0;
  for (int y = 40; y < o.height - 60; ++y) {
    int runs = 0;
    bool in_run = false;
    for (int x = 100; x < o.width - 300; ++x) {
      const Rgb p = img.get(x, y);
      const bool on = p.r == c.r && p.g == c.g && p.b == c.b;
      runs += on && !in_run;
      in_run = on;
    }
    most = std::max(most, runs);
  }
  return most;
}

}  // namespace

TEST_CASE("viz text: a caption goes above the picture, widening it when longer; upright text reads bottom to top") {
  Image picture(20, 10, {10, 200, 30});
  const std::string caption = "temperature 0.9, step 3500";
  const Image out = captioned(picture, caption);
  const int band = out.height() - picture.height();
  CHECK(out.width() == text_width(caption) + 8);
  CHECK(band == text_height(caption) + 8);
  for (int y = 0; y < picture.height(); ++y)
    for (int x = 0; x < picture.width(); ++x) CHECK(out.get(x, band + y).g == 200);  // the picture, unchanged, below
  const Box text = ink(captioned(Image(400, 10), caption));
  CHECK(text.y1 <= band);  // the caption stays in its band
  CHECK(text.x1 - text.x0 > 3 * (text.y1 - text.y0));
  CHECK(captioned(Image(400, 10), caption).width() == 400);  // a wide picture keeps its width

  Image up(100, 200);
  const std::string label = "bits per dim";
  draw_text_up(up, 10, 20, label, {0, 0, 0});
  const Box turned = ink(up);
  CHECK(turned.y1 - turned.y0 > 3 * (turned.x1 - turned.x0));  // tall and narrow
  CHECK(turned.y0 >= 20);
  CHECK(turned.y1 <= 20 + text_width(label));
  CHECK(turned.x0 >= 10);
  Image flat(200, 50);  // the same letters, lying down
  draw_text(flat, 0, 0, label, {0, 0, 0});
  CHECK(ink(flat).x1 - ink(flat).x0 == turned.y1 - turned.y0);
}

TEST_CASE("viz plot: a dashed series is drawn in dashes, a marked one in one stroke") {
  PlotOptions o;
  o.title = "a title";
  const Rgb first{31, 119, 180};  // the palette's first colour: the first series'
  const Series data{"data", {0, 10}, {0, 0.5}};  // below the baseline, never crossing it
  CHECK(most_runs(plot({Series{"baseline", {0, 10}, {1, 1}, SeriesStyle::Dashed}, data}, o), first, o) >= 10);
  CHECK(most_runs(plot({Series{"baseline", {0, 10}, {1, 1}}, data}, o), first, o) == 1);
}

TEST_CASE("viz plot: the running mean of a series averages its last points, fewer at its start") {
  const Series steps{"loss", {1, 2, 3, 4, 5}, {1, 2, 3, 4, 9}};
  const Series mean = running_mean(steps, 2, "mean of 2");
  CHECK(mean.x == steps.x);
  CHECK(mean.y == std::vector<double>{1, 1.5, 2.5, 3.5, 6.5});
  CHECK(mean.name == "mean of 2");
  CHECK(running_mean(steps, 10, "all").y.back() == doctest::Approx(19.0 / 5));
  CHECK_THROWS_AS(running_mean(steps, 0, "none"), ta::Error);
}
