// viz/sparse_layout_png.cpp — draws a block-sparse layout part by part: the pairs
// that active blocks compute but the masks drop first, in grey, then the allowed
// pairs over them in the colour of their part.
#include "viz/sparse_layout_png.h"

#include <algorithm>

#include "core/error.h"
#include "viz/png.h"

namespace ta {

void render_layout_png(const BlockSparseLayout& layout, const std::string& path, int64_t pattern, int pixels) {
  TA_CHECK(pattern >= 0 && pattern < static_cast<int64_t>(layout.patterns.size()), "render_layout_png: pattern ",
           pattern, " outside 0..", static_cast<int64_t>(layout.patterns.size()) - 1);
  TA_CHECK(pixels >= 1, "render_layout_png: pixels per position must be at least 1, got ", pixels);
  constexpr int64_t kMaxSide = 2048;
  const int64_t n = std::max<int64_t>(1, std::max(layout.n_q, layout.n_k)), b = layout.block;
  const int64_t bin = (n + kMaxSide - 1) / kMaxSide;              // positions per pixel
  const int64_t scale = bin > 1 ? 1 : std::min<int64_t>(pixels, kMaxSide / n);  // pixels per position
  const int64_t width = (layout.n_k + bin - 1) / bin * scale, height = (layout.n_q + bin - 1) / bin * scale;
  viz::Image image(static_cast<int>(std::max<int64_t>(1, width)), static_cast<int>(std::max<int64_t>(1, height)));
  const viz::Rgb kWhite{255, 255, 255}, kMasked{215, 215, 215};
  const viz::Rgb kParts[] = {{31, 78, 160}, {230, 120, 20}, {40, 150, 60}, {130, 60, 160}};
  auto paint = [&](int64_t row, int64_t key, viz::Rgb c, bool only_on_white) {
    const int x = static_cast<int>(key / bin * scale), y = static_cast<int>(row / bin * scale);
    if (only_on_white) {
      const viz::Rgb now = image.get(x, y);
      if (now.r != kWhite.r || now.g != kWhite.g || now.b != kWhite.b) return;
    }
    image.fill_rect(x, y, x + static_cast<int>(scale), y + static_cast<int>(scale), c);
  };
  // Pass 0 greys the masked pairs, pass 1 colors the allowed ones over them.
  for (int pass = 0; pass < 2; ++pass) {
    const auto& parts = layout.patterns[pattern].parts;
    for (size_t p = 0; p < parts.size(); ++p) {
      const BlockSparseLayout::Part& part = parts[p];
      const int64_t n_rows = static_cast<int64_t>(part.queries.size()), n_cols = static_cast<int64_t>(part.keys.size());
      for (int64_t I = 0; I + 1 < static_cast<int64_t>(part.row_begin.size()); ++I)
        for (int64_t a = part.row_begin[I]; a < part.row_begin[I + 1]; ++a) {
          const int64_t J = part.col[a], rows = std::min(b, n_rows - I * b), cols = std::min(b, n_cols - J * b);
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) {
              const bool ok = part.mask[a] < 0 || ((part.masks[part.mask[a] * b + r] >> c) & 1u);
              if (ok == (pass == 1))
                paint(part.queries[I * b + r], part.keys[J * b + c], ok ? kParts[std::min<size_t>(p, 3)] : kMasked,
                      !ok);
            }
        }
    }
  }
  viz::write_png(path, image);
}

}  // namespace ta
