// viz/text.h — text in pictures: labels, titles and captions, drawn with
// stb_easy_font (Debian's libstb-dev), a tiny bitmap font made of rectangles
// (about 6 x 12 pixels a character at scale 1).
#pragma once

#include <string>

#include "viz/png.h"

namespace ta::viz {

// Draws `text` with its top-left corner at (x, y), `scale` pixels per font unit.
void draw_text(Image& image, int x, int y, const std::string& text, Rgb color, int scale = 1);
// The same text turned a quarter turn counter-clockwise (read from bottom to top,
// as a y axis label is), its bounding box's top-left corner at (x, y).
void draw_text_up(Image& image, int x, int y, const std::string& text, Rgb color, int scale = 1);
int text_width(const std::string& text, int scale = 1);
int text_height(const std::string& text, int scale = 1);

// `image` under a white band holding `caption` (the picture widened when the
// caption is wider than it).
Image captioned(const Image& image, const std::string& caption, int scale = 1);

}  // namespace ta::viz
