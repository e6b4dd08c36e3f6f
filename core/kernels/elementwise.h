// core/kernels/elementwise.h — element-wise kernels on tensors (CPU: core/cpu/elementwise.cpp, CUDA:
// core/cuda/elementwise.cu; the per-element formulas: core/elementwise_math.h).
#pragma once

#include "core/backend.h"
#include "core/tensor.h"

namespace ta::kernels {

Tensor unary(UnaryOp op, const Tensor& x, float param, const char* name);
Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, float param);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const char* name);
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);
Tensor broadcast_to(const Tensor& x, const Shape& shape);

}  // namespace ta::kernels
