// viz/sparse_layout_png.h — a picture of a block-sparse attention layout
// (attention/sparse_layout.h): which query reads which key, and which block each
// pair is computed in.
#pragma once

#include <cstdint>
#include <string>

#include "attention/sparse_layout.h"

namespace ta {

// Draws which query attends to which key, for the docs and for checking a layout by
// eye: query rows top to bottom, keys left to right, `pixels` pixels per position
// (positions are binned instead when the picture would pass 2048 pixels). Allowed
// pairs are colored by the part that computes them (blue, orange, green, purple);
// pairs inside active blocks that the masks drop are light grey (work the kernel
// does for nothing); the rest is white. Throws ta::Error when the file cannot be written.
void render_layout_png(const BlockSparseLayout& layout, const std::string& path, int64_t pattern = 0,
                       int pixels = 4);

}  // namespace ta
