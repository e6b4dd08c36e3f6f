// layers/checkpoint.cpp — a model's state dict to and from a safetensors file.
#include "layers/checkpoint.h"

#include <algorithm>
#include <cmath>
#include <vector>

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

// Where flat position i sits in a row-major tensor of shape s: "[1, 2]".
static std::string index_text(const Shape& s, int64_t i) {
  std::vector<int64_t> index(s.ndim());
  for (int d = s.ndim() - 1; d >= 0; --d) {
    index[d] = i % s[d];
    i /= s[d];
  }
  std::string text = "[";
  for (size_t d = 0; d < index.size(); ++d) text += cat(d ? ", " : "", index[d]);
  return text + "]";
}

void check_finite(const char* op, const std::string& path, const std::map<std::string, Tensor>& state) {
  std::string problems;
  for (const auto& [name, t] : state) {
    const std::vector<float> values = t.to_vector();
    const auto bad = [](float v) { return !std::isfinite(v); };
    const auto first = std::find_if(values.begin(), values.end(), bad);
    if (first == values.end()) continue;
    const auto count = std::count_if(first, values.end(), bad);
    problems += cat("\n  tensor '", name, "' ", t.shape(), " holds ", count, " NaN or infinite value",
                    count > 1 ? "s" : "", "; the first is ", *first, " at ",
                    index_text(t.shape(), first - values.begin()));
  }
  TA_CHECK(problems.empty(), op, ": '", path, "' holds values that are not finite (a run that diverged?); nothing ",
           "was loaded:", problems);
}

Metadata load_model(const std::string& path, Module& model) {
  SafetensorsContents file = read_safetensors(path);
  check_model_state("load_model", path, model, file.tensors);
  check_finite("load_model", path, file.tensors);
  model.load_state_dict(file.tensors);
  return file.metadata;
}

}  // namespace ta
