// layers/training_checkpoint.h — everything a training run needs to continue
// exactly where it stopped, in one safetensors file.
//
// Training for 20 steps equals training for 10, saving, loading into freshly built
// objects (or a new process) and training 10 more, bit for bit, provided the
// loop draws all its randomness (dropout masks, batch order) from the generators
// handed in here and the model and optimizer are built with the same config.
//
// Inside the file (layers/safetensors.h):
//   tensors   "model.<name>"               every parameter and buffer of the model
//             "optim.<param>.<buffer>"     the optimizer's buffers (Adam's exp_avg, ...)
//   metadata  "step"                       optimizer steps taken = the schedule's position
//             "optim.kind"                 "SGD", "Adam" or "AdamW"
//             "optim.hyper.<name>"         hyperparameters, checked equal on loading
//             "optim.count.<name>"         per-parameter update counts
//             "rng.<name>.seed", "rng.<name>.offset"   each generator's state
//             anything else                the caller's metadata (e.g. the model config)
// Numbers are decimal strings that read back to the same bits.
//
// Loading is all or nothing: the file is read and validated, the model,
// optimizer and generators all checked against it, every tensor checked finite
// and every count in range (a whole number from 0 to 2^53), before anything
// changes.
#pragma once

#include <map>
#include <string>

#include "core/random.h"
#include "layers/module.h"
#include "layers/safetensors.h"
#include "optim/optimizer.h"  // an optimizer sees tensors only, so layers/ may use it

namespace ta {

// The generators a training loop draws from, by name ("dropout", "data").
using NamedGenerators = std::map<std::string, Generator*>;

// Writes the checkpoint atomically (temp file, fsync, rename). Metadata keys must
// not be "step" or start with "optim." or "rng.".
void save_training_checkpoint(const std::string& path, const Module& model, const Optimizer& optimizer,
                              const NamedGenerators& generators, const Metadata& metadata = {});

// Restores the model, the optimizer (buffers, counters, step) and each named
// generator, which must be exactly those saved; returns the caller's metadata.
Metadata load_training_checkpoint(const std::string& path, Module& model, Optimizer& optimizer,
                                  const NamedGenerators& generators);

// Only the model of a training checkpoint, to use what was trained (score it, sample
// from it) without the optimizer: the model's tensors checked and loaded as above,
// the optimizer's state and the generators left unread. Returns all of the file's
// metadata ("step" included).
Metadata load_training_checkpoint_model(const std::string& path, Module& model);

}  // namespace ta
