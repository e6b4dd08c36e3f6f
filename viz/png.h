// viz/png.h — writing pictures: an RGB image buffer and a PNG writer.
//
// Everything the project draws (sample grids, attention maps, sparse layouts, the
// curves of a training run) ends as an Image written with write_png. PNG encoding
// is stb_image_write (Debian's libstb-dev), the well-kept single-header standard.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ta::viz {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

class Image {
 public:
  Image(int width, int height, Rgb background = {255, 255, 255});
  int width() const { return width_; }
  int height() const { return height_; }
  // Pixels outside the image are ignored, so drawing code need not clip.
  void set(int x, int y, Rgb c);
  Rgb get(int x, int y) const;
  void fill_rect(int x0, int y0, int x1, int y1, Rgb c);  // [x0, x1) x [y0, y1)
  // Copies `src` with its top-left corner at (x, y), each pixel as a scale x scale block.
  void paste(const Image& src, int x, int y, int scale = 1);
  const std::vector<uint8_t>& rgb() const { return pixels_; }

 private:
  int width_, height_;
  std::vector<uint8_t> pixels_;  // row-major, 3 bytes per pixel
};

// Writes `image` to `path` (via a temporary file and a rename); throws ta::Error
// naming the path when it cannot.
void write_png(const std::string& path, const Image& image);
// The bytes of the PNG file of `image`, for writers that check every byte they
// write (the example programs' examples/common/atomic_file.h).
std::string encode_png(const Image& image);

}  // namespace ta::viz
