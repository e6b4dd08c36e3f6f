// examples/cifar_gen/sampling.h — new images from the model, one sub-pixel at a
// time with incremental decoding (TransformerLM::start_decoding / step: a KV cache,
// or running sums for Performer), from scratch or continuing given top halves.
#pragma once

#include <cstdint>
#include <vector>

#include "core/random.h"
#include "layers/transformer.h"

namespace ta::cifar {

// Draws a value ~ softmax(logits[0..255] / temperature) with one uniform number u
// from `gen`: the first c whose cumulative probability reaches u. logits holds the
// model's 257 outputs; the start token (256) is never drawn.
uint8_t sample_token(const float* logits, float temperature, Generator& gen);

// `count` images of 3072 tokens. The first `prefix` tokens of image i are
// prefixes[i * prefix ...] (prefixes may be empty when prefix = 0); each later
// token is drawn with sample_token, images in order within a position.
std::vector<std::vector<uint8_t>> generate(TransformerLM& model, int64_t count, const std::vector<uint8_t>& prefixes,
                                           int64_t prefix, float temperature, Generator& gen);

}  // namespace ta::cifar
