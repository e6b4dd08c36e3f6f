// examples/bench/spec_model.h — the model shapes of ../shared/bench/README.md's
// training-step spec, shared by the workloads that build models from them
// ("train-step", "layer", "data-parallel"): the mixers' config, the whole model,
// and its fixed random batch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "attention/gau.h"
#include "attention/registry.h"
#include "core/random.h"
#include "examples/bench/bench.h"
#include "layers/transformer.h"

namespace bench {

constexpr int64_t kSpecModel = 256, kSpecHeads = 4, kSpecFfn = 1024;
constexpr int64_t kSpecVocab = 256, kSpecBatch = 4, kSpecSeq = 1024;
constexpr int64_t kSpecBlocks = 4, kSpecGauLayers = 8;  // multi-head blocks with FFN; GAU layers without

// Sets option `name` of the config's variant when that variant declares it: the
// spec fixes some settings (a sparse stride, FLASH's scaling) for whichever
// variants have them.
inline void set_if_declared(ta::AttentionConfig& a, const std::string& name, const std::string& value) {
  for (const ta::OptionSpec& s : ta::find_attention_variant(a.name).options)
    if (s.name == name) a.options[name] = value;
}

// The mixer config of the spec's models: d_model 256, 4 heads, causal; GAU variants
// (flash, flash-quad) with the length-aware scaling and no relative bias, i.e. the
// spec's FLASH layer, whose positions come from learned embeddings.
inline ta::AttentionConfig spec_attention_config(const std::string& name) {
  ta::AttentionConfig a{.name = name, .d_model = kSpecModel, .heads = kSpecHeads, .causal = true};
  set_if_declared(a, "flash-scaling", "length");
  set_if_declared(a, "flash-relative-bias", "false");
  return a;
}

// Throws a UsageError naming `option` unless every name is a registered variant
// with a causal mode (the training-step models are decoders).
inline void check_causal_variants(const std::vector<std::string>& names, const std::string& option) {
  const auto& registered = ta::attention_variants();
  for (const std::string& name : names) {
    bool ok = false;
    for (const auto& r : registered) ok = ok || (r.name == name && r.supports_causal);
    if (ok) continue;
    std::string known;
    for (const auto& r : registered)
      if (r.supports_causal) known += (known.empty() ? "" : ", ") + r.name;
    throw UsageError(option + ": '" + name + "' is not a registered causal variant (" + known + ")");
  }
}

// Whether the variant is a Gated Attention Unit (flash, flash-quad), which replaces
// both the attention and the feed-forward of a block.
inline bool is_gau_variant(const std::string& name) {
  ta::Generator probe_gen(0);
  const std::shared_ptr<ta::TokenMixer> mixer = ta::make_attention(spec_attention_config(name), probe_gen);
  return std::dynamic_pointer_cast<ta::GatedAttentionUnit>(mixer) != nullptr;
}

// The spec's training-step model for the variant: token embedding + learned
// positions, pre-LayerNorm blocks, final LayerNorm, untied head. Multi-head
// variants: 4 blocks of attention + FFN 1024; GAU variants: 8 GAU layers without
// feed-forward. Weights from seed 0, the mixers' from a generator of seed 7.
inline std::shared_ptr<ta::TransformerLM> spec_lm(const std::string& name) {
  const bool gau = is_gau_variant(name);
  ta::TransformerConfig c{.vocab_size = kSpecVocab, .d_model = kSpecModel,
                          .n_layers = gau ? kSpecGauLayers : kSpecBlocks, .d_ff = kSpecFfn, .max_len = kSpecSeq,
                          .causal = true, .feed_forward = !gau, .seed = 0};
  ta::Generator attention_gen(7);
  return std::make_shared<ta::TransformerLM>(c, [&](int64_t layer) {
    ta::AttentionConfig a = spec_attention_config(name);
    a.layer = layer;
    return ta::make_attention(a, attention_gen);
  });
}

// A fixed batch of random tokens from `seed`: inputs and next-token targets
// [4, 1024], cut from 4 rows of 1025 tokens.
inline std::pair<ta::Tensor, ta::Tensor> spec_batch(uint64_t seed, ta::Device device) {
  ta::Generator gen(seed);
  std::vector<float> in, out;
  for (int64_t b = 0; b < kSpecBatch; ++b) {
    std::vector<float> row(kSpecSeq + 1);
    for (float& t : row)
      t = static_cast<float>(std::min<int64_t>(kSpecVocab - 1, static_cast<int64_t>(gen.next_uniform() * kSpecVocab)));
    in.insert(in.end(), row.begin(), row.end() - 1);
    out.insert(out.end(), row.begin() + 1, row.end());
  }
  return {ta::Tensor::from_vector(in, {kSpecBatch, kSpecSeq}, device),
          ta::Tensor::from_vector(out, {kSpecBatch, kSpecSeq}, device)};
}

}  // namespace bench
