// layers/activation.h — the activation functions a layer can be configured with.
#pragma once

#include <string>

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
// Parses "relu", "relu2", "gelu", "gelu_tanh", "silu"; throws listing the names.
Activation parse_activation(const std::string& name);

}  // namespace ta
