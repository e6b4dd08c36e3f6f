// layers/checkpoint.cpp — a model's state dict to and from a safetensors file.
#include "layers/checkpoint.h"

#include "core/error.h"

namespace ta {

void save_model(const std::string& path, const Module& model, const Metadata& metadata) {
  write_safetensors(path, model.state_dict(), metadata);
}

void check_model_state(const char* op, const std::string& path, const Module& model,
                       const std::map<std::string, Tensor>& state) {
  const std::string problems = model.state_dict_mismatches(state, "in the file");
  TA_CHECK(problems.empty(), op, ": '", path, "' does not match the model; nothing was loaded:", problems);
}

Metadata load_model(const std::string& path, Module& model) {
  SafetensorsContents file = read_safetensors(path);
  check_model_state("load_model", path, model, file.tensors);
  model.load_state_dict(file.tensors);
  return file.metadata;
}

}  // namespace ta
