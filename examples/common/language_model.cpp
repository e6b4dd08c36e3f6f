#include "examples/common/language_model.h"

#include "attention/registry.h"
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
  o.dropout = static_cast<float>(f.number("dropout"));
  o.seed = static_cast<uint64_t>(f.integer("seed"));
  const std::string device = f.str("device");
  TA_CHECK(device == "cpu" || device == "cuda", "--device must be cpu or cuda, got '", device, "'");
  o.device = device == "cpu" ? Device::CPU : Device::CUDA;
  return o;
}

std::shared_ptr<TransformerLM> build_language_model(const LanguageModelOptions& o) {
  TA_CHECK(o.heads > 0 && o.d_model % o.heads == 0, "--d-model ", o.d_model, " must be a multiple of --heads ",
           o.heads);
  TransformerConfig c;
  c.vocab_size = o.vocab;
  c.d_model = o.d_model;
  c.n_layers = o.layers;
  c.d_ff = o.d_ff;
  c.max_len = o.max_len;
  c.causal = o.causal;
  c.dropout = o.dropout;
  c.seed = o.seed;
  c.tie_embeddings = o.tie_embeddings;
  c.check_inputs = o.check_inputs;
  Generator attention_gen(o.seed + 7);
  AttentionConfig a;
  a.name = o.attention;
  a.d_model = o.d_model;
  a.heads = o.heads;
  a.causal = o.causal;
  a.options = o.attention_options;
  return std::make_shared<TransformerLM>(c, [&](int64_t layer) {
    a.layer = layer;
    return make_attention(a, attention_gen);
  });
}

}  // namespace ta::examples
