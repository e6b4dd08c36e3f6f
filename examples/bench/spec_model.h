// examples/bench/spec_model.h — the model shapes of ../shared/bench/README.md's
// training-step spec, shared by the workloads that build models from them
// ("train-step", "layer").
#pragma once

#include <cstdint>
#include <string>

#include "attention/registry.h"

namespace bench {

constexpr int64_t kSpecModel = 256, kSpecHeads = 4, kSpecFfn = 1024;

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
  ta::AttentionConfig a;
  a.name = name;
  a.d_model = kSpecModel;
  a.heads = kSpecHeads;
  a.causal = true;
  set_if_declared(a, "flash-scaling", "length");
  set_if_declared(a, "flash-relative-bias", "false");
  return a;
}

}  // namespace bench
