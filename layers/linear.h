// layers/linear.h — y = x W^T + b, the affine map of every projection.
#pragma once

#include "layers/module.h"

namespace ta {

class Linear : public Module {
 public:
  // W ~ N(0, init_std^2) stored [out, in] (PyTorch's layout, so weights load either
  // way); b = 0. See layers/init.h for other initializations.
  Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias = true, float init_std = 0.02f);

  // x [..., in] -> [..., out]: one GEMM (W read transposed, no copy) that adds onto
  // the bias rows (ta::linear).
  Tensor forward(const Tensor& x) const;

  int64_t in_features, out_features;
  Tensor weight;  // [out, in]
  Tensor bias;    // [out], or undefined
};

}  // namespace ta
