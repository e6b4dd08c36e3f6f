// examples/cifar_gen/pictures.h — drawing what the CIFAR-10 model shows: images
// (samples, completions) in grids, and maps of where its attention looks.
#pragma once

#include <string>
#include <vector>

#include "attention/multi_head.h"
#include "layers/transformer.h"
#include "viz/png.h"

namespace ta::cifar {

// An image of 3072 tokens drawn at `scale` pixels per pixel.
viz::Image token_image(const uint8_t* tokens, int scale = 1);

// A grid of images, `columns` per row, with a 2-pixel white gap.
viz::Image grid(const std::vector<std::vector<uint8_t>>& images, int columns, int scale);

// For each (layer, head, query position): the image with the pixels the query
// attends to tinted red by weight (the three sub-pixel weights of a pixel summed),
// the query pixel marked green, and pixels after it greyed out. One row per query.
viz::Image attention_map(TransformerLM& model, const uint8_t* image_tokens, const std::vector<int64_t>& layers,
                         const std::vector<int64_t>& heads, const std::vector<int64_t>& queries, int scale);
// The multi-head attention of each of `layers`; an Error, before any training, for
// a layer or head the model does not have or a mixer without q and k.
std::vector<MultiHeadAttention*> check_attention_map(TransformerLM& model, const std::vector<int64_t>& layers,
                                                     const std::vector<int64_t>& heads);

}  // namespace ta::cifar
