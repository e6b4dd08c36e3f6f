#include "examples/cifar_gen/sampling.h"

#include <algorithm>
#include <cmath>

#include "autograd/node.h"
#include "core/error.h"
#include "examples/cifar_gen/cifar_data.h"

namespace ta::cifar {

uint8_t sample_token(const float* logits, float temperature, Generator& gen) {
  TA_CHECK(temperature > 0, "sampling: --temperature must be positive, got ", temperature);
  const float m = *std::max_element(logits, logits + 256);
  double total = 0, p[256];
  for (int c = 0; c < 256; ++c) total += (p[c] = std::exp((logits[c] - m) / temperature));
  double u = gen.next_uniform() * total;
  for (int c = 0; c < 256; ++c) {
    u -= p[c];
    if (u <= 0) return static_cast<uint8_t>(c);
  }
  return 255;
}

std::vector<std::vector<uint8_t>> generate(TransformerLM& model, int64_t count, const std::vector<uint8_t>& prefixes,
                                           int64_t prefix, float temperature, Generator& gen) {
  TA_CHECK(count > 0, "generate: count must be positive, got ", count);
  TA_CHECK(prefix >= 0 && prefix < kTokens && static_cast<int64_t>(prefixes.size()) >= count * prefix,
           "generate: a prefix of ", prefix, " tokens needs ", count * prefix, " prefix tokens, got ", prefixes.size());
  NoGradGuard no_grad;
  const bool was_training = model.training();
  model.eval();
  std::vector<std::vector<uint8_t>> images(count, std::vector<uint8_t>(kTokens));
  auto states = model.start_decoding(count);
  std::vector<float> next(count, static_cast<float>(kStartToken));
  for (int64_t t = 0; t < kTokens; ++t) {
    const std::vector<float> z = model.step(Tensor::from_vector(next, Shape{count}, model.device()), states).to_vector();
    for (int64_t i = 0; i < count; ++i) {
      const uint8_t token = t < prefix ? prefixes[i * prefix + t] : sample_token(&z[i * kVocab], temperature, gen);
      images[i][t] = token;
      next[i] = token;
    }
  }
  if (was_training) model.train();
  return images;
}

}  // namespace ta::cifar
