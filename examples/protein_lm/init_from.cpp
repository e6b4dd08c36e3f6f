#include "examples/protein_lm/init_from.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "examples/common/attention_flags.h"
#include "examples/common/run_config.h"
#include "examples/common/run_files.h"
#include "examples/common/run_folder.h"
#include "examples/protein_lm/settings.h"
#include "layers/checkpoint.h"

namespace ta::protein {

Metadata InitRecord::metadata() const {
  if (!active()) return {};
  return {{"init.from", from},
          {"init.source_attention", source_attention},
          {"init.source_loss", examples::fmt(source_loss)},
          {"init.before_loss", examples::fmt(before_loss)}};
}

InitRecord InitRecord::from_metadata(const Metadata& meta) {
  InitRecord r;
  const auto text = [&](const char* key) { return meta.count(key) ? meta.at(key) : std::string(); };
  r.from = text("init.from");
  r.source_attention = text("init.source_attention");
  examples::parse_finite_number(text("init.source_loss"), r.source_loss);
  examples::parse_finite_number(text("init.before_loss"), r.before_loss);
  return r;
}

Metadata adopt_source_shape(examples::Flags& flags, const std::string& path) {
  TA_CHECK(examples::file_exists(path), "--init-from: no checkpoint at '", path, "'");
  const Metadata meta = read_safetensors_metadata(path);
  const std::vector<std::string> conflicts =
      examples::take_flags(flags, meta, shape_flags(), {}, "--init-from " + path).conflicts;
  TA_CHECK(conflicts.empty(), conflicts.front(), ": the model's shape and objective come from the --init-from checkpoint ",
           path);
  return meta;
}

namespace {

// The validation loss of the source model, rebuilt with its own attention (NaN
// when the file does not say which).
double source_loss(const SafetensorsContents& file, const std::string& prefix, const Metadata& meta,
                   ModelOptions options, const std::vector<Batch>& eval, const Unigram& unigram) {
  const auto attention = meta.find("flag.attention");
  if (attention == meta.end()) return std::nan("");
  options.attention = attention->second;
  options.attention_options = examples::saved_attention_options(meta, options.attention);
  auto source = build_model(options);
  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : file.tensors)
    if (name.rfind(prefix, 0) == 0) state[name.substr(prefix.size())] = t;
  source->load_state_dict(state);
  return evaluate(*source, eval, unigram).loss();
}

}  // namespace

InitRecord init_from(const std::string& path, const Metadata& source_meta, TransformerLM& model,
                     const ModelOptions& options, const std::vector<Batch>& eval, const Unigram& unigram) {
  const SafetensorsContents file = read_safetensors(path);
  check_finite("--init-from", path, file.tensors);
  std::string prefix;
  for (const auto& [name, t] : file.tensors)
    if (name.rfind("model.", 0) == 0) prefix = "model.";  // a training checkpoint; else a save_model file
  InitRecord r;
  r.from = path;
  r.source_attention = source_meta.count("flag.attention") ? source_meta.at("flag.attention") : "";
  r.source_loss = source_loss(file, prefix, source_meta, options, eval, unigram);
  const std::vector<std::string> unused = load_parameters_by_name(model, file.tensors, prefix, path);
  r.before_loss = evaluate(model, eval, unigram).loss();
  std::printf("init-from %s: %lld parameter tensors loaded by name into a '%s' model; its own %zu buffers kept",
              path.c_str(), static_cast<long long>(model.named_parameters().size()), options.attention.c_str(),
              model.named_buffers().size());
  if (!unused.empty()) std::printf("; %zu tensors of the file unused (e.g. %s)", unused.size(), unused[0].c_str());
  std::printf("\n  valid loss of the source model (%s): %s nats (perplexity %s)\n",
              r.source_attention.empty() ? "attention unknown" : r.source_attention.c_str(),
              examples::fmt(r.source_loss).c_str(), examples::fmt(std::exp(r.source_loss)).c_str());
  std::printf("  valid loss with %s attention, before fine-tuning: %s nats (perplexity %s)\n",
              options.attention.c_str(), examples::fmt(r.before_loss).c_str(),
              examples::fmt(std::exp(r.before_loss)).c_str());
  return r;
}

}  // namespace ta::protein
