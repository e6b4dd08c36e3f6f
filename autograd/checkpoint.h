// autograd/checkpoint.h — gradient checkpointing of a block.
#pragma once

#include <functional>

#include "core/random.h"
#include "core/tensor.h"

namespace ta {

// y = f(x), with f's intermediate tensors recomputed in backward instead of stored.
// Gradients (to x and to any parameter f uses) equal those of calling f directly.
// If f draws random numbers (dropout), pass the generator it draws from so the
// recomputation sees the same numbers.
Tensor checkpoint(const std::function<Tensor(const Tensor&)>& f, const Tensor& x, Generator* gen = nullptr);

}  // namespace ta
