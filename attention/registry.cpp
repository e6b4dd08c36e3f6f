#include "attention/registry.h"

#include <cmath>
#include <functional>

#include "attention/multi_head.h"
#include "attention/nystrom.h"
#include "attention/softmax.h"
#include "core/error.h"

namespace ta {

namespace {

MultiHeadAttention::Options mha_options(const AttentionConfig& c) {
  MultiHeadAttention::Options o;
  o.d_model = c.d_model;
  o.heads = c.heads;
  o.causal = c.causal;
  o.rotary_dims = c.rotary_dims;
  o.init_std = c.init_std;
  return o;
}

AttentionScale default_scale(const AttentionConfig& c) {
  return {1.0f / std::sqrt(static_cast<float>(c.d_model / c.heads)), c.train_length};
}

using Builder = std::function<std::shared_ptr<TokenMixer>(const AttentionConfig&, Generator&)>;

struct Entry {
  AttentionVariant info;
  Builder build;
};

// The registry: one line per variant.
const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = {
      {{"softmax", true, true, "exact softmax attention, fused tiled kernel (memory linear in n)"},
       [](const AttentionConfig& c, Generator& g) {
         return std::make_shared<MultiHeadAttention>(mha_options(c),
                                                     std::make_shared<SoftmaxFusedCore>(default_scale(c)), g);
       }},
      {{"softmax-reference", true, true, "exact softmax attention from autograd ops (n x n scores)"},
       [](const AttentionConfig& c, Generator& g) {
         return std::make_shared<MultiHeadAttention>(mha_options(c),
                                                     std::make_shared<SoftmaxReferenceCore>(default_scale(c)), g);
       }},
      {{"nystrom", false, true, "Nystromformer: landmark approximation with iterative pseudo-inverse"},
       [](const AttentionConfig& c, Generator& g) {
         NystromCore::Options o;
         o.landmarks = c.landmarks;
         o.heads = c.heads;
         o.conv_kernel = c.nystrom_conv_kernel;
         return std::make_shared<MultiHeadAttention>(mha_options(c),
                                                     std::make_shared<NystromCore>(o, default_scale(c), g), g);
       }},
  };
  return table;
}

}  // namespace

const std::vector<AttentionVariant>& attention_variants() {
  static const std::vector<AttentionVariant> infos = [] {
    std::vector<AttentionVariant> v;
    for (const Entry& e : entries()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

std::shared_ptr<TokenMixer> make_attention(const AttentionConfig& config, Generator& gen) {
  std::string known;
  for (const Entry& e : entries()) {
    if (e.info.name == config.name) {
      TA_CHECK(config.causal ? e.info.supports_causal : e.info.supports_bidirectional, "attention '", config.name,
               "' has no ", (config.causal ? "causal" : "bidirectional"), " mode");
      return e.build(config, gen);
    }
    known += (known.empty() ? "" : ", ") + e.info.name;
  }
  throw Error(cat("attention: unknown variant '", config.name, "' (registered: ", known, ")"));
}

}  // namespace ta
