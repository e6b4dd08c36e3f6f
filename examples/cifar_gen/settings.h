// examples/cifar_gen/settings.h — cifar_gen's flags, what they allow, and the
// options they make: which flags a run stores and which may change when it
// resumes, the model and the training read from them.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "examples/cifar_gen/model.h"
#include "examples/common/flags.h"

namespace ta::cifar {

// Every flag of the program, the attention registry's included.
examples::Flags program_flags();

// Files a run writes in --out besides log.csv and the checkpoints.
std::vector<std::string> output_files();
// Flags that may differ when a run resumes: how long and how often, threads and
// device, and what is drawn at the end.
std::set<std::string> changeable_flags();

// The model the flags ask for (the training's: examples::train_options);
// cross-flag problems (d-model not a multiple of heads, a non-causal attention,
// more memory than the machine has) are Errors here, before any data is read.
ModelOptions model_options(const examples::Flags& flags);

}  // namespace ta::cifar
