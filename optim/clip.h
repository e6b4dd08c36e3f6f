// optim/clip.h — gradient clipping by global norm (Pascanu et al., 2013).
//
// The norm is taken over all gradients together, as one long vector:
//   norm = sqrt(sum over parameters of sum(g^2))
// and when it exceeds max_norm every gradient is scaled by the same factor
//   g <- g * max_norm / (norm + 1e-6)
// so the update keeps its direction and only its length is capped (the 1e-6, as in
// PyTorch's clip_grad_norm_, keeps the division finite). Gradients are never changed
// in place in this framework: each is replaced by a new tensor (p.set_grad).
#pragma once

#include <vector>

#include "core/tensor.h"

namespace ta {

// What to do when the norm is NaN or infinite (a gradient overflowed or a loss was
// NaN): throw a ta::Error saying so, or leave the gradients untouched and return
// the norm so the caller can skip this step (zero_grad and go on).
enum class NonFiniteNorm { Error, Return };

// Clips the gradients of `params` (those without a gradient are skipped) and
// returns their global norm before clipping.
float clip_grad_norm(const std::vector<Tensor>& params, float max_norm,
                     NonFiniteNorm on_non_finite = NonFiniteNorm::Error);

}  // namespace ta
