// core/kernels/matmul.h — matrix products (CPU: core/cpu/matmul.cpp and its GEMM in
// core/cpu/gemm/, CUDA: core/cuda/matmul.cu).
#pragma once

#include "core/backend.h"
#include "core/tensor.h"

namespace ta::kernels {

// a [..., M, K] @ b [..., K, N] with transpose flags and broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b, Transpose ta, Transpose tb);
// A fully connected layer with its activation fused into the GEMM
// (gemm_epilogue in core/backend_ops.h): y = act(x W^T + b) for x [..., in], weight [out, in] and bias
// [out] (or undefined), act = None for the plain layer; bias and activation are applied
// to each tile of the product as it is written, so neither costs a pass over the output
// of its own. With PreActivation::Keep, pre = x W^T + b too (what the activation's
// backward reads); with Drop, pre is undefined.
enum class PreActivation { Drop, Keep };
struct LinearOutput {
  Tensor y, pre;
};
LinearOutput linear(const Tensor& x, const Tensor& weight, const Tensor& bias, EpilogueActivation activation,
                    PreActivation keep);

}  // namespace ta::kernels
