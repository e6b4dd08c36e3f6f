#include "layers/linear.h"

#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

Linear::Linear(int64_t in, int64_t out, Generator& gen, Bias has_bias, float init_std)
    : in_features(in), out_features(out) {
  TA_CHECK(in > 0 && out > 0, "Linear: sizes must be positive, got in=", in, " out=", out);
  weight = register_parameter("weight", Tensor::normal(Shape{out, in}, 0.0f, init_std, gen));
  if (has_bias == Bias::Yes) bias = register_parameter("bias", Tensor::zeros(Shape{out}));
}

Tensor Linear::forward(const Tensor& x) const {
  check_input(x);
  return linear(x, weight, bias);
}

Tensor Linear::forward(const Tensor& x, Activation activation) const {
  check_input(x);
  if (const std::optional<EpilogueActivation> fused = fused_activation(activation))
    return linear(x, weight, bias, *fused);
  return activate(activation, linear(x, weight, bias));
}

void Linear::check_input(const Tensor& x) const {
  check_defined(x, "Linear", "x");
  TA_CHECK(x.ndim() >= 1 && x.size(-1) == in_features, "Linear: expected input [..., ", in_features, "], got ",
           x.shape());
}

}  // namespace ta
