// attention/registry.h — every attention variant by name.
//
// Examples choose a variant with one flag: make_attention({"softmax", ...}). A new
// variant is one file implementing TokenMixer (or an AttentionCore for
// MultiHeadAttention) plus one line in the table in registry.cpp; the conformance
// suite (tests/attention) then checks it automatically.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/token_mixer.h"

namespace ta {

struct AttentionConfig {
  std::string name = "softmax";
  int64_t d_model = 128;
  int64_t heads = 4;
  bool causal = true;
  int64_t rotary_dims = 0;  // RoPE dims per head (0: none)
  float init_std = 0.02f;
  int64_t train_length = 0;  // > 0: length-aware scale log(n)/log(train_length)/sqrt(d_head)
  // nystrom
  int64_t landmarks = 64;
  int64_t nystrom_conv_kernel = 0;
};

struct AttentionVariant {
  std::string name;
  bool supports_causal, supports_bidirectional;
  std::string description;
};

const std::vector<AttentionVariant>& attention_variants();
// Builds the named variant; an unknown name or an unsupported mode is a clear error.
std::shared_ptr<TokenMixer> make_attention(const AttentionConfig& config, Generator& gen);

}  // namespace ta
