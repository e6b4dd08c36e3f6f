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

#include "attention/sparse_layout.h"
#include "core/flash_options.h"
#include "layers/token_mixer.h"

namespace ta {

struct AttentionConfig {
  std::string name = "softmax";
  int64_t d_model = 128;
  int64_t heads = 4;
  bool causal = true;
  int64_t rotary_dims = 0;  // RoPE dims per head (0: none)
  float init_std = 0.02f;
  // The length-aware scale of softmax-type attention (AttentionScale, attention_core.h):
  // a model trained on train_length tokens; 0: the plain 1/sqrt(d_head). FLASH, whose
  // weights are not a softmax, refuses it (its own scaling is flash_scaling).
  int64_t train_length = 0;
  // nystrom
  int64_t landmarks = 64;
  int64_t nystrom_conv_kernel = 0;
  int64_t nystrom_pinv_iterations = 6;
  // sparse-strided, sparse-fixed, sparse (Sparse Transformer; attention/sparse.h).
  // The stride l is fixed here rather than derived from n at each call: a pattern
  // that changed with n would differ between the full pass and incremental
  // decoding. The paper takes l about sqrt(n); 64 suits n = 3072 (CIFAR-10) to 4096.
  int64_t sparse_block = 32;   // b, the kernel's block size (1..64)
  int64_t sparse_stride = 64;  // l
  int64_t sparse_summary = 8;  // c, the summary positions of each block of the fixed pattern (1..l)
  SparseCombine sparse_combine = SparseCombine::Merged;  // both factors in every head, split by head, or by layer
  int64_t layer = 0;  // this mixer's layer index (SparseCombine::AlternateLayers alternates by it)
  // "sparse": the given patterns (head h uses sparse_patterns[h % size]), or when
  // none are given the union of a sliding window, global tokens and random key
  // blocks per query block (0: none of that kind).
  std::vector<SparsePattern> sparse_patterns = {};
  int64_t sparse_window = 64;
  int64_t sparse_global = 0;
  int64_t sparse_random = 0;
  uint64_t sparse_seed = 0;
  // flash, flash-quad (GAU; attention/gau.h). rotary_dims > 0 puts RoPE on the
  // queries and keys instead of the relative position bias; flash_scaling_length fixes
  // the n of FlashScaling::Length in flash-quad. The benchmark's FLASH model (shared bench
  // README, train_step "flash") is flash with flash_scaling = Length and
  // flash_relative_bias = false (its positions are learned embeddings).
  int64_t flash_expansion = 0;  // e, the width of U and V; 0: 2 d_model
  int64_t flash_s = 128;        // s, the width of the shared base Z
  int64_t flash_chunk = 256;    // c, positions per chunk (flash)
  FlashScaling flash_scaling = FlashScaling::RowCount;  // see core/flash_options.h
  bool flash_relative_bias = true;
  int64_t flash_scaling_length = 0;  // FlashScaling::Length in flash-quad: the n of relu(q.k / n)^2 (0: the input's)  // false with rotary_dims 0: no position signal in the GAU itself
  // performer, performer-relu, performer-reference (FAVOR+; attention/performer.h)
  int64_t performer_features = 256;          // m, random features per layer (shared by its heads)
  bool performer_orthogonal = true;          // orthogonal blocks (false: i.i.d. Gaussian rows)
  int64_t performer_redraw_interval = 1000;  // new features every K training steps (0: never)
  uint64_t performer_seed = 0;               // of the feature draws; 0: one drawn from the model's generator
};

struct AttentionVariant {
  std::string name;
  bool supports_causal, supports_bidirectional;
  std::string description;
  // false: the function has kinks everywhere (ReLU random features: thousands of
  // them), so finite differences need a smaller step than for smooth variants.
  bool smooth = true;
};

const std::vector<AttentionVariant>& attention_variants();
// Builds the named variant; an unknown name or an unsupported mode is a clear error.
std::shared_ptr<TokenMixer> make_attention(const AttentionConfig& config, Generator& gen);

}  // namespace ta
