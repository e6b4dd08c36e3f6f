// examples/protein_lm/settings.h — protein_lm's flags, what they allow, and the
// options they make: which flags a run stores and which may change when it
// resumes, the model read from them, and the checks across flags that can be
// made before any data is read.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "examples/common/flags.h"
#include "examples/protein_lm/model.h"

namespace ta::protein {

// FAVOR+, the paper's choice for its protein models.
constexpr const char* kDefaultAttention = "performer";

// Every flag of the program, the attention registry's included.
examples::Flags program_flags();

// Files a run writes in --out besides log.csv and the checkpoints.
std::vector<std::string> output_files();
// Flags that may differ when a run resumes: how long and how often, threads and
// device, evaluation sizes, and what is sampled at the end.
std::set<std::string> changeable_flags();
// Flags that fix the shape of the model, which --init-from takes from its source.
const std::vector<std::string>& shape_flags();

// The model the flags ask for (the training's: examples::train_options). Errors
// here, before the data is read: d-model not a multiple of heads, an attention
// without the objective's mode, more memory than the machine has, a prompt longer
// than a generated sequence may be.
ModelOptions model_options(const examples::Flags& flags);

}  // namespace ta::protein
