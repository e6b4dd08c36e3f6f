// examples/cifar_gen/model.h — the image model and its score.
//
// A decoder Transformer (layers/transformer.h) over the 3072 tokens of an image,
// its token mixer any causal variant of the attention registry. The input
// vocabulary is the 256 values plus the start token; the score is over the 256
// values only, so a model that knows nothing (all logits equal) scores exactly
// log2 256 = 8 bits per dim.
#pragma once

#include <memory>
#include <string>

#include "examples/cifar_gen/cifar_data.h"
#include "examples/common/language_model.h"
#include "layers/transformer.h"

namespace ta::cifar {

// The shape, attention and seed; build_model sets the vocabulary (257), the length
// (3072) and causal attention.
struct ModelOptions : examples::LanguageModelOptions {
  bool smooth_values = false;         // value embeddings start smooth in the value
  bool factorized_positions = false;  // positions start as row + column + channel vectors
};

// Throws a clear error, listing the causal variants, for a variant without a
// causal mode (build_model checks it too).
void check_causal(const std::string& attention);
std::shared_ptr<TransformerLM> build_model(ModelOptions options);

// Mean negative log-likelihood in nats per sub-pixel:
//   loss = mean_t -ln softmax(z_t[0..255])[target_t]
// logits [batch, 3072, 257] (the start token's logit is left out), targets [batch, 3072].
Tensor pixel_loss(const Tensor& logits, const Tensor& targets);

// Nats to bits: bits per dim = nats / ln 2.
constexpr double kLn2 = 0.69314718055994531;
inline double bits_per_dim(double nats) { return nats / kLn2; }

// Bits per dim of the model on the first `count` images of `data` (eval mode, no
// gradients), in batches of `batch` images. In a run of several processes
// (examples/common/data_parallel.h) each scores its own block of the images and
// the sums are added over the processes: every process calls it.
double evaluate_bpd(TransformerLM& model, const Dataset& data, int64_t count, int64_t batch);

}  // namespace ta::cifar
