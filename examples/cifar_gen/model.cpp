#include "examples/cifar_gen/model.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "attention/registry.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "examples/common/data_parallel.h"
#include "examples/common/language_model.h"

namespace ta::cifar {

// A standard normal number (Box-Muller).
static double normal(Generator& gen) {
  const double u1 = std::max(1e-12, static_cast<double>(gen.next_uniform())), u2 = gen.next_uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

// Row v of the value embedding becomes random Fourier features of v,
//   e_v[j] = s cos(w_j v / 255 + b_j),  w_j ~ N(0, sigma^2),  b_j ~ U(0, 2 pi),
// so that e_u . e_v ~ (s^2 d / 2) exp(-sigma^2 ((u - v) / 255)^2 / 2): values a few
// apart start alike (sigma = 32: a width of about 8 values), and s = 0.02 sqrt 2
// keeps the usual 0.02 spread. The start token's row stays as drawn.
static void smooth_value_embeddings(Embedding& values, uint64_t seed) {
  Generator gen(seed);
  const int64_t d = values.weight.size(1);
  float* e = values.weight.data();
  const double sigma = 32, s = 0.02 * std::sqrt(2.0);
  for (int64_t j = 0; j < d; ++j) {
    const double w = sigma * normal(gen), b = 2 * std::numbers::pi * gen.next_uniform();
    for (int64_t v = 0; v < 256; ++v) e[v * d + j] = static_cast<float>(s * std::cos(w * v / 255 + b));
  }
}

// The learned position table starts as the sum of a row, a column and a channel
// vector of the token each position predicts (input position p predicts token p:
// pixel p / 3, channel p % 3), each N(0, 0.02^2 / 3): the Sparse Transformer's
// factorized position embeddings, here only the starting point of the free table.
static void factorized_positions(LearnedPositions& positions, uint64_t seed) {
  Generator gen(seed);
  const int64_t d = positions.weight.size(1);
  const double s = 0.02 / std::sqrt(3.0);
  std::vector<double> rows(kSide * d), cols(kSide * d), channels(kChannels * d);
  for (auto* part : {&rows, &cols, &channels})
    for (double& x : *part) x = s * normal(gen);
  float* w = positions.weight.data();
  for (int64_t p = 0; p < kTokens; ++p) {
    const int64_t row = p / kChannels / kSide, col = p / kChannels % kSide, channel = p % kChannels;
    for (int64_t j = 0; j < d; ++j)
      w[p * d + j] = static_cast<float>(rows[row * d + j] + cols[col * d + j] + channels[channel * d + j]);
  }
}

void check_causal(const std::string& attention) {
  std::string causal;
  bool fits = false;
  for (const AttentionVariant& v : attention_variants())
    if (v.supports_causal) {
      causal += (causal.empty() ? "" : ", ") + v.name;
      fits = fits || v.name == attention;
    }
  TA_CHECK(fits, "--attention: '", attention, "' is not a causal variant of the registry; an image model ",
           "predicts each sub-pixel from the ones before, so it needs one of: ", causal);
}

std::shared_ptr<TransformerLM> build_model(ModelOptions o) {
  check_causal(o.attention);
  o.vocab = kVocab;  // the 256 values and the start token
  o.max_len = kTokens;
  o.causal = true;
  auto model = examples::build_language_model(o);
  if (o.smooth_values) smooth_value_embeddings(*model->tokens, o.seed + 11);
  if (o.factorized_positions) factorized_positions(*model->learned_positions, o.seed + 12);
  model->to(o.device);  // a clear error here without a CUDA build or GPU
  return model;
}

Tensor pixel_loss(const Tensor& logits, const Tensor& targets) {
  TA_CHECK(logits.ndim() == 3 && logits.size(2) == kVocab, "pixel_loss: expected logits [batch, n, ", kVocab,
           "], got ", logits.shape());
  return cross_entropy(narrow(logits, 2, 0, kVocab - 1), targets);
}

double evaluate_bpd(TransformerLM& model, const Dataset& data, int64_t count, int64_t batch) {
  NoGradGuard no_grad;
  const bool was_training = model.training();
  model.eval();
  count = std::min(count, data.size());
  TA_CHECK(count > 0 && batch > 0, "evaluate_bpd: need at least one image and a positive batch");
  const dist::RowRange mine = examples::rows_of_this_process(count);
  const int64_t end = mine.begin + mine.count;
  double total = 0.0;
  for (int64_t start = mine.begin; start < end; start += batch) {
    std::vector<int64_t> idx;
    for (int64_t i = start; i < std::min(end, start + batch); ++i) idx.push_back(i);
    Tensor inputs, targets;
    make_batch(data, idx, inputs, targets);
    total += pixel_loss(model.forward(inputs.to(model.device())), targets.to(model.device())).item() * static_cast<double>(idx.size());
  }
  if (was_training) model.train();
  return bits_per_dim(dist::sum_over_ranks(total) / static_cast<double>(count));
}

}  // namespace ta::cifar
