#include "layers/activation.h"

#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

Tensor activate(Activation a, const Tensor& x) {
  switch (a) {
    case Activation::Relu: return relu(x);
    case Activation::ReluSquared: return relu_squared(x);
    case Activation::Gelu: return gelu(x, GeluApprox::Erf);
    case Activation::GeluTanh: return gelu(x, GeluApprox::Tanh);
    case Activation::Silu: return silu(x);
  }
  throw Error("activate: unknown activation");
}

std::optional<EpilogueActivation> fused_activation(Activation a) {
  switch (a) {
    case Activation::Relu: return EpilogueActivation::Relu;
    case Activation::Gelu: return EpilogueActivation::GeluErf;
    case Activation::GeluTanh: return EpilogueActivation::GeluTanh;
    case Activation::Silu: return EpilogueActivation::Silu;
    case Activation::ReluSquared: break;
  }
  return std::nullopt;
}

Activation parse_activation(const std::string& name) {
  if (name == "relu") return Activation::Relu;
  if (name == "relu2") return Activation::ReluSquared;
  if (name == "gelu") return Activation::Gelu;
  if (name == "gelu_tanh") return Activation::GeluTanh;
  if (name == "silu") return Activation::Silu;
  throw Error(cat("activation: unknown name '", name, "' (expected relu, relu2, gelu, gelu_tanh or silu)"));
}

}  // namespace ta
