// layers/init.h — weight initializations, each with the reason it is used.
//
// All of them overwrite a parameter's values in place (every handle sees them) and
// draw from an explicit Generator, so a model built from a seed is reproducible.
#pragma once

#include "core/random.h"
#include "core/tensor.h"

namespace ta::init {

// N(0, std^2). With std = 0.02 (BERT, GPT-2) the logits and residual updates of a
// freshly built Transformer start small and of similar size at any width.
void normal_(const Tensor& t, float std, Generator& gen);

// Xavier/Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)), for a
// weight stored [fan_out, fan_in]. Keeps the variance of activations (forward) and
// of gradients (backward) roughly constant through a layer (Glorot & Bengio 2010).
void xavier_uniform_(const Tensor& weight, Generator& gen, float gain = 1.0f);

void zeros_(const Tensor& t);
void ones_(const Tensor& t);
void fill_(const Tensor& t, float value);

// Multiplies t by `factor` in place. The residual-branch scaling of deep models:
// the output projection of each residual branch is scaled by 1/sqrt(2N) for N
// layers (GPT-2; the Sparse Transformer scales its residual branches the same
// way), because the residual stream is a sum of 2N branch outputs and its
// variance would otherwise grow with depth.
void scale_(const Tensor& t, float factor);

}  // namespace ta::init
