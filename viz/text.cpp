#include "viz/text.h"

#include <algorithm>
#include <functional>

#include <stb/stb_easy_font.h>

namespace ta::viz {

namespace {

// Calls `quad(x0, y0, x1, y1)` for each rectangle of the font that `text` is made
// of, in font units from the text's top-left corner.
void for_each_quad(const std::string& text, const std::function<void(int, int, int, int)>& quad) {
  static char buffer[99999];  // vertex data: 4 vertices of 16 bytes per quad
  const int quads = stb_easy_font_print(0, 0, const_cast<char*>(text.c_str()), nullptr, buffer, sizeof buffer);
  for (int q = 0; q < quads; ++q) {
    const float* v0 = reinterpret_cast<const float*>(buffer + q * 64);
    const float* v2 = reinterpret_cast<const float*>(buffer + q * 64 + 32);
    quad(static_cast<int>(v0[0]), static_cast<int>(v0[1]), static_cast<int>(v2[0]), static_cast<int>(v2[1]));
  }
}

}  // namespace

int text_width(const std::string& text, int scale) {
  return stb_easy_font_width(const_cast<char*>(text.c_str())) * scale;
}

int text_height(const std::string& text, int scale) {
  return stb_easy_font_height(const_cast<char*>(text.c_str())) * scale;
}

void draw_text(Image& image, int x, int y, const std::string& text, Rgb color, int scale) {
  for_each_quad(text, [&](int x0, int y0, int x1, int y1) {
    image.fill_rect(x + x0 * scale, y + y0 * scale, x + x1 * scale, y + y1 * scale, color);
  });
}

// A quarter turn counter-clockwise: the font point (u, v) of a text w units wide
// lands at (v, w - u) from the corner.
void draw_text_up(Image& image, int x, int y, const std::string& text, Rgb color, int scale) {
  const int w = stb_easy_font_width(const_cast<char*>(text.c_str()));
  for_each_quad(text, [&](int x0, int y0, int x1, int y1) {
    image.fill_rect(x + y0 * scale, y + (w - x1) * scale, x + y1 * scale, y + (w - x0) * scale, color);
  });
}

Image captioned(const Image& image, const std::string& caption, int scale) {
  const int margin = 4 * scale, band = text_height(caption, scale) + 2 * margin;
  Image out(std::max(image.width(), text_width(caption, scale) + 2 * margin), image.height() + band);
  draw_text(out, margin, margin, caption, {0, 0, 0}, scale);
  out.paste(image, 0, band);
  return out;
}

}  // namespace ta::viz
