// autograd/gradcheck.h — comparing backward() with central finite differences.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace ta {

struct GradcheckOptions {
  float eps = 1e-2f;   // finite-difference step (float32 data: not too small)
  float atol = 2e-3f;  // pass when |analytic - numeric| <= atol + rtol * |numeric|
  float rtol = 2e-2f;
  uint64_t seed = 1;   // for the random projection of the output; printed on failure
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // on failure: input, element index, both values, the seed
};

// f maps the inputs to one tensor y. The check uses the scalar L = sum(y * w) for a
// fixed random w, so every output element takes part. For each input that requires
// a gradient and each of its elements i, the analytic dL/dx_i from backward() must
// match (L(x + eps e_i) - L(x - eps e_i)) / (2 eps), with L summed in double.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace ta
