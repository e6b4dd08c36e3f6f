// examples/common/language_model.h — the Transformer language model of the
// example programs: layers/transformer.h with the token mixer of every layer built
// by name from the attention registry.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "examples/common/flags.h"
#include "layers/transformer.h"

namespace ta::examples {

struct LanguageModelOptions {
  std::string attention = "softmax";  // a registry name (attention/registry.h)
  std::map<std::string, std::string> attention_options;  // the variant's own options by name (the defaults if absent)
  int64_t vocab = 256, max_len = 1024;
  bool causal = true;
  int64_t layers = 2, d_model = 64, heads = 2, d_ff = 0;  // d_ff 0: 4 d_model
  int64_t previous_tokens = 0;  // TransformerConfig::previous_tokens
  float dropout = 0.0f;
  uint64_t seed = 1;           // initialization and dropout; the attention's draws use seed + 7
  bool tie_embeddings = false;  // the output head is the token embedding matrix
  Device device = Device::CPU;  // where the example moves the model once built (--device)
  FiniteCheck check_inputs = FiniteCheck::Off;  // TransformerConfig::check_inputs
};

// The options that the example programs' flags of the same names set: --attention
// and its option flags (attention_flags.h), --layers, --d-model, --heads, --d-ff,
// --dropout, --seed, --device (the rest keep their defaults); d-model must be a
// multiple of heads.
LanguageModelOptions language_model_flags(const Flags& flags);

// Learned positions, pre-norm blocks; throws a clear error when d_model is not a
// multiple of heads, or the variant is unknown or lacks the causal/bidirectional mode.
std::shared_ptr<TransformerLM> build_language_model(const LanguageModelOptions& options);

// Throws before anything is built when training this model on batches of `batch`
// rows of `length` tokens needs more memory than the machine has, by a lower bound
// (4-byte floats):
//   parameters P = vocab d + max_len d + layers (4 d^2 + 2 d d_ff) (+ vocab d untied)
//   training  >= 4 P (weights, gradients, two Adam moments)
//              + batch length (layers (6 d + 2 d_ff) + 2 vocab)  (activations kept
//                for backward: the block's input, q, k, v, the attention output and
//                its projection, the feed-forward's two hidden vectors; the logits
//                and their gradient)
// The real need is larger, so a refused shape could never have trained.
void check_memory_for_training(const LanguageModelOptions& options, int64_t batch, int64_t length);

}  // namespace ta::examples
