// layers/activation.h — the activation functions a layer can be configured with.
#pragma once

#include <optional>
#include <string>

#include "core/backend.h"
#include "core/tensor.h"

namespace ta {

enum class Activation {
  Relu,         // max(x, 0)
  ReluSquared,  // relu(x)^2 (So et al., Primer; FLASH's attention weights)
  Gelu,         // x Phi(x), exact erf form (BERT, GPT-2)
  GeluTanh,     // the tanh approximation of GELU
  Silu,         // x sigmoid(x), a.k.a. swish
};

Tensor activate(Activation a, const Tensor& x);
// The same function as a GEMM epilogue (linear(x, W, b, act) in autograd/ops.h applies
// it while writing the product), or none: ReluSquared has no fused form.
std::optional<EpilogueActivation> fused_activation(Activation a);
// Parses "relu", "relu2", "gelu", "gelu_tanh", "silu"; throws listing the names.
Activation parse_activation(const std::string& name);

}  // namespace ta
