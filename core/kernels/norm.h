// core/kernels/norm.h — layer norm and RMS norm (CPU: core/cpu/norm.cpp, CUDA: core/cuda/norm.cu).
#pragma once

#include <vector>

#include "core/backend.h"
#include "core/tensor.h"

namespace ta::kernels {

// LayerNorm / RMSNorm over the last axis; gamma, beta may be undefined. Returns
// {y, mean, rstd} (the last two per row, for the backward).
struct NormResult {
  Tensor y, mean, rstd;
};
NormResult layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, LayerNormKind kind);
// Returns {dx, dgamma, dbeta} (dgamma, dbeta undefined when gamma, beta were).
std::vector<Tensor> layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                        const Tensor& rstd, const Tensor& dy, LayerNormKind kind);

}  // namespace ta::kernels
