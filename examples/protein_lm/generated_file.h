// examples/protein_lm/generated_file.h — sequences sampled from a causal model as a
// FASTA file (what --generate, --prompt, --temperature, --top-k and --gen-length
// ask for), written at the end of a training run into its folder and by
// --sample-from wherever --output says. Each record's description says how it was
// drawn: length, attention, step of the model, temperature, top-k, prompt.
#pragma once

#include <cstdint>
#include <string>

#include "examples/common/flags.h"
#include "layers/transformer.h"

namespace ta::protein {

// Samples --generate sequences from `model` (with `attention`, at `step`), all
// drawn from one generator seeded --seed + 2 (the same flags and model give the
// same file), and writes them to `path`; returns how many were written (a
// sequence that ends at once after an empty prompt is left out; none: no file).
int64_t write_generated(const std::string& path, const examples::Flags& flags, const std::string& attention,
                        TransformerLM& model, int64_t step);

}  // namespace ta::protein
