// examples/bench/spec_model.h — the model shapes of ../shared/bench/README.md's
// training-step spec, shared by the workloads that build models from them
// ("train-step", "layer").
#pragma once

#include <cstdint>
#include <string>

#include "attention/registry.h"

namespace bench {

constexpr int64_t kSpecModel = 256, kSpecHeads = 4, kSpecFfn = 1024;

// The mixer config of the spec's models: d_model 256, 4 heads, causal; GAU variants
// (flash, flash-quad) with the length-aware scaling and no relative bias, i.e. the
// spec's FLASH layer, whose positions come from learned embeddings.
inline ta::AttentionConfig spec_attention_config(const std::string& name) {
  ta::AttentionConfig a;
  a.name = name;
  a.d_model = kSpecModel;
  a.heads = kSpecHeads;
  a.causal = true;
  a.flash_scaling = ta::FlashScaling::Length;
  a.flash_relative_bias = false;
  return a;
}

}  // namespace bench
