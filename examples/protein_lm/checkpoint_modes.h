// examples/protein_lm/checkpoint_modes.h — protein_lm with a trained model instead
// of training one (examples/common/checkpoint_mode.h has the way through both modes):
//
//   build/protein_lm --evaluate CHECKPOINT [--data PATH] [--test-file FASTA] [--output FILE]
//       accuracy and perplexity of the checkpoint's model on every sequence of the
//       test split of --data (or of the FASTA file), next to the unigram baseline of
//       the training split of --data (both --data: the run's unless given), printed
//       and written as JSON;
//   build/protein_lm --sample-from CHECKPOINT [--generate N] [--prompt P] [--seed S]
//                    [--temperature T] [--top-k K] [--gen-length L] [--output FILE]
//       sequences from a causal model as FASTA, drawn as at the end of the run (the
//       same flags give the same file).
#pragma once

#include "examples/common/checkpoint_mode.h"
#include "examples/common/flags.h"

namespace ta::protein {

// --evaluate, --sample-from, --output, and --test-file.
void add_protein_checkpoint_mode_flags(examples::Flags& flags);
examples::CheckpointModes protein_checkpoint_modes();

}  // namespace ta::protein
