// examples/cifar_gen/checkpoint_modes.h — cifar_gen with a trained model instead of
// training one (examples/common/checkpoint_mode.h has the way through both modes):
//
//   build/cifar_gen --evaluate CHECKPOINT [--data DIR | --test-file FILE] [--images N] [--output FILE]
//       test bits/dim of the checkpoint's model on the first N test images (all by
//       default), printed and written as JSON;
//   build/cifar_gen --sample-from CHECKPOINT [--sample N] [--complete N] [--show-attention]
//                   [--seed S] [--temperature T] [--output FOLDER]
//       samples.png, completions.png and attention.png in FOLDER, drawn as at the end
//       of the run (the same flags give the same pictures).
#pragma once

#include "examples/common/checkpoint_mode.h"
#include "examples/common/flags.h"

namespace ta::cifar {

// --evaluate, --sample-from, --output, and --images and --test-file.
void add_cifar_checkpoint_mode_flags(examples::Flags& flags);
examples::CheckpointModes cifar_checkpoint_modes();

}  // namespace ta::cifar
