// examples/protein_lm/init_from.h — --init-from: a new run that starts from the
// parameters of another run's checkpoint, in a model with this run's attention
// (the Performer paper's softmax -> FAVOR+ swap).
//
// The model's shape and objective come from the source (shape_flags() in
// settings.h; a conflicting one given on the command line is an Error naming both);
// the source model is rebuilt with its own attention to measure its validation
// loss, then its parameters are loaded by name into the new model, whose own
// buffers stay (model.h: load_parameters_by_name). A source holding NaN or
// infinity is refused, naming the tensor.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "examples/common/flags.h"
#include "examples/protein_lm/data.h"
#include "examples/protein_lm/model.h"
#include "layers/safetensors.h"

namespace ta::protein {

// What the run reports about its start, stored in its checkpoints ("init.*").
struct InitRecord {
  std::string from, source_attention;
  // Validation loss (nats) on the first --eval-seqs sequences; NaN when unknown.
  double source_loss = std::numeric_limits<double>::quiet_NaN(), before_loss = source_loss;
  bool active() const { return !from.empty(); }
  Metadata metadata() const;
  static InitRecord from_metadata(const Metadata& meta);
};

// Takes the source's shape flags into `flags`; returns the source's metadata.
Metadata adopt_source_shape(examples::Flags& flags, const std::string& path);

// Loads the source's parameters into `model` (built with `options`), measuring
// the loss on `eval` of the source model and of `model` before any training.
InitRecord init_from(const std::string& path, const Metadata& source_meta, TransformerLM& model,
                     const ModelOptions& options, const std::vector<Batch>& eval, const Unigram& unigram);

}  // namespace ta::protein
