// layers/linear.h — y = x W^T + b, the affine map of every projection.
#pragma once

#include "layers/activation.h"
#include "layers/module.h"

namespace ta {

// Whether a layer adds a learned bias b.
enum class Bias { Yes, No };
inline Bias bias_if(bool on) { return on ? Bias::Yes : Bias::No; }  // from an options struct's flag

class Linear : public Module {
 public:
  // W ~ N(0, init_std^2) stored [out, in] (PyTorch's layout, so weights load either
  // way); b = 0. See layers/init.h for other initializations.
  Linear(int64_t in_features, int64_t out_features, Generator& gen, Bias bias = Bias::Yes, float init_std = 0.02f);

  // x [..., in] -> [..., out]: one GEMM (W read transposed, no copy) whose epilogue
  // adds the bias as it writes each tile (ta::linear).
  Tensor forward(const Tensor& x) const;
  // activation(x W^T + b), the activation applied by the same GEMM as it writes each
  // tile of the product (ta::linear with an EpilogueActivation) where it has that form
  // (fused_activation: all but ReluSquared, which runs after the product).
  Tensor forward(const Tensor& x, Activation activation) const;

  int64_t in_features, out_features;
  Tensor weight;  // [out, in]
  Tensor bias;    // [out], or undefined

 private:
  void check_input(const Tensor& x) const;
};

}  // namespace ta
