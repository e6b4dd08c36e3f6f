// layers/checkpoint.h — saving and loading a model's weights as a safetensors file.
//
// The file holds every parameter and buffer under its dotted name
// ("blocks.0.attn.q.weight"), so Python reads it with
// safetensors.torch.load_file(path), and the metadata strings carry the model
// config (whatever the caller puts there) so the model can be rebuilt before
// loading: read_safetensors_metadata(path) reads just those.
//
// Loading is all or nothing: the whole file is read and validated, every name
// and shape checked against the model and every value checked finite, before any
// weight changes. A failed load throws a ta::Error naming the file and the
// problem, and the model is exactly as it was.
//
// Why finite: a NaN or an infinity in a weight is the trace of a run that
// diverged; loaded silently, it surfaces steps later as a NaN loss blamed on "a
// gradient". There is no option to load one: the models here hold no buffer that
// is non-finite by design, and read_safetensors (which the format lets hold any
// float) is there to inspect such a file.
//
// Not here: optimizer state, step and RNG state (layers/training_checkpoint.h).
#pragma once

#include <map>
#include <string>

#include "layers/module.h"
#include "layers/safetensors.h"

namespace ta {

void save_model(const std::string& path, const Module& model, const Metadata& metadata = {});

// Loads the weights into `model` and returns the file's metadata.
Metadata load_model(const std::string& path, Module& model);

// Throws (naming `op` and `path`) unless `state` has exactly the model's parameter
// and buffer names with the model's shapes; lists every missing, extra and
// mismatched tensor. Changes nothing: loaders run it before copying anything in.
void check_model_state(const char* op, const std::string& path, const Module& model,
                       const std::map<std::string, Tensor>& state);

// Throws (naming `op` and `path`) when a tensor of `state` holds NaN or infinity,
// naming each such tensor, how many values and where the first one is.
void check_finite(const char* op, const std::string& path, const std::map<std::string, Tensor>& state);

}  // namespace ta
