#include "viz/png.h"

#include <cstdio>

#include "core/error.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

namespace ta::viz {

Image::Image(int width, int height, Rgb bg) : width_(width), height_(height) {
  TA_CHECK(width > 0 && height > 0, "Image: size must be positive, got ", width, " x ", height);
  pixels_.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < pixels_.size(); i += 3) {
    pixels_[i] = bg.r;
    pixels_[i + 1] = bg.g;
    pixels_[i + 2] = bg.b;
  }
}

void Image::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  uint8_t* p = &pixels_[(static_cast<size_t>(y) * width_ + x) * 3];
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

Rgb Image::get(int x, int y) const {
  TA_CHECK(x >= 0 && y >= 0 && x < width_ && y < height_, "Image::get: (", x, ", ", y, ") is outside ", width_, " x ",
           height_);
  const uint8_t* p = &pixels_[(static_cast<size_t>(y) * width_ + x) * 3];
  return {p[0], p[1], p[2]};
}

void Image::fill_rect(int x0, int y0, int x1, int y1, Rgb c) {
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) set(x, y, c);
}

void Image::paste(const Image& src, int x, int y, int scale) {
  for (int sy = 0; sy < src.height(); ++sy)
    for (int sx = 0; sx < src.width(); ++sx)
      fill_rect(x + sx * scale, y + sy * scale, x + (sx + 1) * scale, y + (sy + 1) * scale, src.get(sx, sy));
}

void write_png(const std::string& path, const Image& image) {
  const std::string tmp = path + ".tmp";
  int ok = stbi_write_png(tmp.c_str(), image.width(), image.height(), 3, image.rgb().data(), image.width() * 3);
  TA_CHECK(ok, "write_png: cannot write '", tmp, "' (does the folder exist and is it writable?)");
  TA_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "write_png: cannot rename '", tmp, "' to '", path, "'");
}

std::string encode_png(const Image& image) {
  std::string bytes;
  const auto append = [](void* out, void* data, int size) {
    static_cast<std::string*>(out)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  const int ok = stbi_write_png_to_func(append, &bytes, image.width(), image.height(), 3, image.rgb().data(),
                                        image.width() * 3);
  TA_CHECK(ok, "encode_png: stb_image_write could not encode a ", image.width(), " x ", image.height(), " image");
  return bytes;
}

}  // namespace ta::viz
