// examples/cifar_gen/checkpoint_modes.h — cifar_gen with a trained model instead of
// training one (examples/common/checkpoint_mode.h has what both programs share):
//
//   build/cifar_gen --evaluate CHECKPOINT [--data DIR | --test-file FILE] [--images N] [--output FILE]
//       test bits/dim of the checkpoint's model on the first N test images (all by
//       default), printed and written as JSON;
//   build/cifar_gen --sample-from CHECKPOINT [--sample N] [--complete N] [--show-attention]
//                   [--seed S] [--temperature T] [--output FOLDER]
//       samples.png, completions.png and attention.png in FOLDER, drawn as at the end
//       of the run (the same flags give the same pictures).
#pragma once

#include "examples/common/flags.h"

namespace ta::cifar {

// --evaluate, --sample-from, --output and this program's flags of those modes
// (--images, --test-file).
void add_cifar_checkpoint_mode_flags(examples::Flags& flags);

// Each returns the exit status.
int evaluate_checkpoint(examples::Flags& flags);
int sample_from_checkpoint(examples::Flags& flags);

}  // namespace ta::cifar
