#include "attention/registry.h"

#include <cmath>
#include <functional>

#include "attention/gau.h"
#include "attention/multi_head.h"
#include "attention/nystrom.h"
#include "attention/performer.h"
#include "attention/softmax.h"
#include "attention/sparse.h"
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
  TA_CHECK(c.train_length == 0 || c.train_length >= 2, "attention '", c.name, "': train_length must be 0 (plain ",
           "scale) or at least 2, got ", c.train_length);
  return {1.0f / std::sqrt(static_cast<float>(c.d_model / c.heads)), c.train_length};
}

using Builder = std::function<std::shared_ptr<TokenMixer>(const AttentionConfig&, Generator&)>;

// Multi-head attention whose core runs the block-sparse kernel over `patterns`.
std::shared_ptr<TokenMixer> sparse_attention(const AttentionConfig& c, std::vector<SparsePattern> patterns,
                                             Generator& g) {
  TA_CHECK(static_cast<int64_t>(patterns.size()) <= c.heads, "attention '", c.name, "': ", patterns.size(),
           " patterns split across heads need at least that many heads, got ", c.heads);
  SparseCoreOptions o{std::move(patterns), c.causal, default_scale(c), c.name};
  return std::make_shared<MultiHeadAttention>(mha_options(c), std::make_shared<SparseFusedCore>(o, c.sparse_block), g);
}

// The general layout of "sparse" when the config gives no patterns.
std::vector<SparsePattern> user_layout(const AttentionConfig& c) {
  if (!c.sparse_patterns.empty()) return c.sparse_patterns;
  SparsePattern p;
  if (c.sparse_window > 0) p.factors.push_back(sliding_window(c.sparse_window, c.causal));
  if (c.sparse_global > 0) p.factors.push_back(global_tokens(c.sparse_global, c.causal));
  if (c.sparse_random > 0) p.factors.push_back(random_blocks(c.sparse_block, c.sparse_random, c.sparse_seed, c.causal));
  TA_CHECK(!p.factors.empty(), "attention 'sparse': no layout given (set sparse_patterns, or sparse_window, ",
           "sparse_global or sparse_random above 0)");
  return {p};
}

// The GAU of FLASH (chunk > 0) or FLASH-Quad (chunk 0).
std::shared_ptr<TokenMixer> gau(const AttentionConfig& c, int64_t chunk, Generator& g) {
  TA_CHECK(c.train_length == 0, "attention '", c.name, "': the length-aware scale (train_length ", c.train_length,
           ") is for softmax-type attention; FLASH's squared-ReLU weights are scaled by flash_scaling");
  GatedAttentionUnit::Options o;
  o.d_model = c.d_model;
  o.expansion = c.flash_expansion;
  o.s = c.flash_s;
  o.chunk = chunk;
  o.causal = c.causal;
  o.scaling = c.flash_scaling;
  o.relative_bias = c.flash_relative_bias && c.rotary_dims == 0;
  o.rotary_dims = c.rotary_dims;
  o.scaling_length = c.flash_scaling_length;
  o.init_std = c.init_std;
  return std::make_shared<GatedAttentionUnit>(o, g);
}

// Multi-head attention with a FAVOR+ core. Without a seed in the config, each layer
// takes one from the model's generator, so layers get different features.
std::shared_ptr<TokenMixer> performer(const AttentionConfig& c, FeatureMap map, bool fused, Generator& g) {
  PerformerCore::Options o;
  o.features = c.performer_features;
  o.map = map;
  o.orthogonal = c.performer_orthogonal;
  o.redraw_interval = c.performer_redraw_interval;
  o.fused = fused;
  if (c.performer_seed != 0) {
    o.seed = c.performer_seed;
  } else {
    const auto words = philox4x32(g.seed, g.advance(1));
    o.seed = (static_cast<uint64_t>(words[0]) << 32) | words[1];
  }
  TA_CHECK(c.heads > 0 && c.d_model % c.heads == 0, "attention '", c.name, "': d_model (", c.d_model,
           ") must be a positive multiple of heads (", c.heads, ")");
  auto core = std::make_shared<PerformerCore>(o, default_scale(c), c.d_model / c.heads);
  return std::make_shared<MultiHeadAttention>(mha_options(c), core, g);
}

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
         o.pinv_iterations = c.nystrom_pinv_iterations;
         return std::make_shared<MultiHeadAttention>(mha_options(c),
                                                     std::make_shared<NystromCore>(o, default_scale(c), g), g);
       }},
      {{"sparse-strided", true, true, "Sparse Transformer, strided: previous l + every l-th, block-sparse kernel"},
       [](const AttentionConfig& c, Generator& g) {
         return sparse_attention(
             c, combine_factors(strided_pattern(c.sparse_stride, c.causal), c.sparse_combine, c.layer), g);
       }},
      {{"sparse-fixed", true, true, "Sparse Transformer, fixed: own block of l + c summaries of each, block-sparse"},
       [](const AttentionConfig& c, Generator& g) {
         return sparse_attention(
             c, combine_factors(fixed_pattern(c.sparse_stride, c.sparse_summary, c.causal), c.sparse_combine, c.layer),
             g);
       }},
      {{"sparse", true, true, "block-sparse attention, given layout (default sliding window; global, random)"},
       [](const AttentionConfig& c, Generator& g) { return sparse_attention(c, user_layout(c), g); }},
      {{"flash", true, true, "FLASH: gated attention unit, squared-ReLU attention within chunks + linear across, fused"},
       [](const AttentionConfig& c, Generator& g) { return gau(c, c.flash_chunk, g); }},
      {{"flash-quad", true, true, "FLASH-Quad: gated attention unit, squared-ReLU attention over the whole sequence"},
       [](const AttentionConfig& c, Generator& g) { return gau(c, 0, g); }},
      {{"performer", true, true, "Performer FAVOR+: positive orthogonal random features, fused causal kernel (linear in n)"},
       [](const AttentionConfig& c, Generator& g) { return performer(c, FeatureMap::Positive, true, g); }},
      {{"performer-relu", true, true, "Performer with the ReLU kernel relu(W x) (generalized attention), fused causal kernel",
        /*smooth=*/false},
       [](const AttentionConfig& c, Generator& g) { return performer(c, FeatureMap::Relu, true, g); }},
      {{"performer-reference", true, true, "Performer FAVOR+ from autograd ops (causal: masked n x n product)"},
       [](const AttentionConfig& c, Generator& g) { return performer(c, FeatureMap::Positive, false, g); }},
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
