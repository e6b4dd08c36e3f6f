#include "examples/common/language_model.h"

#include "attention/registry.h"
#include "core/allocator.h"
#include "core/error.h"
#include "examples/common/attention_flags.h"

namespace ta::examples {

LanguageModelOptions language_model_flags(const Flags& f) {
  LanguageModelOptions o;
  o.attention = f.str("attention");
  o.attention_options = attention_options_of(f);
  o.layers = f.integer("layers");
  o.d_model = f.integer("d-model");
  o.heads = f.integer("heads");
  o.d_ff = f.integer("d-ff");
  o.previous_tokens = f.integer("previous-tokens");
  o.dropout = static_cast<float>(f.number("dropout"));
  o.check_inputs = f.str("check-inputs") == "on" ? FiniteCheck::On : FiniteCheck::Off;
  o.seed = static_cast<uint64_t>(f.integer("seed"));
  const std::string device = f.str("device");
  TA_CHECK(device == "cpu" || device == "cuda", "--device must be cpu or cuda, got '", device, "'");
  o.device = device == "cpu" ? Device::CPU : Device::CUDA;
  TA_CHECK(o.d_model % o.heads == 0, "--d-model ", o.d_model, " must be a multiple of --heads ", o.heads);
  return o;
}

void check_memory_for_training(const LanguageModelOptions& o, int64_t batch, int64_t length) {
  const double d = static_cast<double>(o.d_model), vocab = static_cast<double>(o.vocab);
  const double d_ff = o.d_ff > 0 ? static_cast<double>(o.d_ff) : 4 * d, layers = static_cast<double>(o.layers);
  const double params = vocab * d * (o.tie_embeddings ? 1 : 2) + static_cast<double>(o.max_len) * d +
                        layers * (4 * d * d + 2 * d * d_ff);
  const double activations = static_cast<double>(batch) * static_cast<double>(length) * (layers * (6 * d + 2 * d_ff) + 2 * vocab);
  const double bytes = 4 * (4 * params + activations);
  const size_t machine = machine_memory_bytes();
  TA_CHECK(machine == 0 || bytes <= static_cast<double>(machine), "this model (", cat(params / 1e6), " million parameters)",
           " trained on batches of ", batch, " x ", length, " tokens needs at least ", cat(bytes / 1e9),
           " GB of memory, and the machine has ", cat(static_cast<double>(machine) / 1e9),
           " GB: use a smaller --batch, --d-model, --d-ff, --layers or sequence length");
}

std::shared_ptr<TransformerLM> build_language_model(const LanguageModelOptions& o) {
  TA_CHECK(o.heads > 0 && o.d_model % o.heads == 0, "--d-model ", o.d_model, " must be a multiple of --heads ",
           o.heads);
  TransformerConfig c{.vocab_size = o.vocab, .d_model = o.d_model, .n_layers = o.layers, .d_ff = o.d_ff,
                      .max_len = o.max_len, .causal = o.causal, .dropout = o.dropout,
                      .tie_embeddings = o.tie_embeddings, .seed = o.seed, .previous_tokens = o.previous_tokens,
                      .check_inputs = o.check_inputs};
  Generator attention_gen(o.seed + 7);
  AttentionConfig a{.name = o.attention, .d_model = o.d_model, .heads = o.heads, .causal = o.causal,
                    .options = o.attention_options};
  return std::make_shared<TransformerLM>(c, [&](int64_t layer) {
    a.layer = layer;
    return make_attention(a, attention_gen);
  });
}

}  // namespace ta::examples
