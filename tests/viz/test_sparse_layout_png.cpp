// tests/viz/test_sparse_layout_png.cpp — the picture of a block-sparse layout
// (viz/sparse_layout_png.h): a PNG of n x n positions at the pixels asked for, and a
// clear error when the file cannot be written.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "attention/sparse_layout.h"
#include "core/error.h"
#include "viz/sparse_layout_png.h"

using namespace ta;

TEST_CASE("render_layout_png draws an n x n picture of the layout") {
  namespace fs = std::filesystem;
  const fs::path path = fs::temp_directory_path() / "tinyattn_test_sparse_layout.png";
  auto layout = build_block_layout({strided_pattern(3, Causality::Causal)}, 10, 10, 4);
  render_layout_png(*layout, path.string(), 0, 4);
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::vector<unsigned char> head(24);
  in.read(reinterpret_cast<char*>(head.data()), 24);
  auto be32 = [&](int at) { return (head[at] << 24) | (head[at + 1] << 16) | (head[at + 2] << 8) | head[at + 3]; };
  CHECK(head[1] == 'P');
  CHECK(be32(16) == 40);  // IHDR width: 10 keys x 4 pixels
  CHECK(be32(20) == 40);  // height: 10 queries x 4 pixels
  in.close();
  fs::remove(path);
  CHECK_THROWS_AS(render_layout_png(*layout, "/nonexistent-dir/x.png"), Error);
}
