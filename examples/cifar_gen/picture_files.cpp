#include "examples/cifar_gen/picture_files.h"

#include <algorithm>
#include <cstdio>

#include "examples/cifar_gen/pictures.h"
#include "examples/cifar_gen/sampling.h"
#include "examples/common/run_files.h"
#include "viz/text.h"

namespace ta::cifar {

using examples::Flags;

PictureFiles pictures_in(const std::string& folder) {
  return {folder + "/samples.png", folder + "/completions.png", folder + "/attention.png"};
}

namespace {

std::vector<int64_t> all_below(int64_t n) {
  std::vector<int64_t> all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) all[static_cast<size_t>(i)] = i;
  return all;
}

// "temperature 0.9, step 3500": what a sample grid was drawn with.
std::string drawn_with(float temperature, int64_t step) {
  return "temperature " + examples::fmt(temperature) + ", step " + std::to_string(step);
}

}  // namespace

AttentionMapped attention_mapped(const Flags& flags) {
  AttentionMapped m{flags.integer_list("attention-layers"), flags.integer_list("attention-heads"),
                    flags.integer_list("attention-queries")};
  if (m.layers.empty()) m.layers = all_below(flags.integer("layers"));
  if (m.heads.empty()) m.heads = all_below(flags.integer("heads"));
  return m;
}

void write_pictures(const PictureFiles& files, const Flags& flags, TransformerLM& model, const Dataset& test,
                    int64_t step) {
  Generator gen(static_cast<uint64_t>(flags.integer("seed")) + 2);
  const float temperature = static_cast<float>(flags.number("temperature"));
  if (flags.integer("sample") > 0) {
    auto images = generate(model, flags.integer("sample"), {}, 0, temperature, gen);
    const std::string caption = "samples, " + drawn_with(temperature, step);
    examples::write_png_file(files.samples, viz::captioned(grid(images, 8, 3), caption));
    std::printf("wrote %s (%zu samples)\n", files.samples.c_str(), images.size());
  }
  if (const int64_t n = std::min(flags.integer("complete"), test.size()); n > 0) {
    const int64_t half = kTokens / 2;
    std::vector<uint8_t> prefixes;
    for (int64_t i = 0; i < n; ++i) prefixes.insert(prefixes.end(), test.image(i), test.image(i) + half);
    auto pairs = generate(model, n, prefixes, half, temperature, gen);  // completions above originals
    for (int64_t i = 0; i < n; ++i) pairs.emplace_back(test.image(i), test.image(i) + kTokens);
    const std::string caption = "bottom halves completed (top row), originals (bottom row), " + drawn_with(temperature, step);
    examples::write_png_file(files.completions, viz::captioned(grid(pairs, static_cast<int>(n), 3), caption));
    std::printf("wrote %s (top row: model completions of the bottom half; bottom row: originals)\n",
                files.completions.c_str());
  }
  if (flags.boolean("show-attention")) {
    const AttentionMapped m = attention_mapped(flags);
    const std::string caption = "attention, step " + std::to_string(step) + ": a row per query, the image then each layer/head";
    examples::write_png_file(files.attention,
                             viz::captioned(attention_map(model, test.image(0), m.layers, m.heads, m.queries, 3), caption));
    std::printf("wrote %s (per row: a query position; columns: layer/head; red = attention weight)\n",
                files.attention.c_str());
  }
}

}  // namespace ta::cifar
