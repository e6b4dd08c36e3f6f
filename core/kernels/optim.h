// core/kernels/optim.h — optimizer updates (CPU: core/cpu/optim.cpp, CUDA: core/cuda/optim.cu).
#pragma once

#include "core/backend.h"
#include "core/tensor.h"

namespace ta::kernels {

// In-place optimizer updates of parameter p from gradient g (see core/backend_ops.h for
// the formulas); state tensors (buf, m, v) have p's shape.
void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, float lr, float momentum, float weight_decay,
                SgdMomentum kind);
void adam_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, float lr, float beta1,
                 float beta2, float eps, float weight_decay, WeightDecay decay, int64_t step);
double sum_of_squares(const Tensor& x);

}  // namespace ta::kernels
