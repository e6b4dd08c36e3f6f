// core/kernels/index.h — indexing along an axis (CPU: core/cpu/index.cpp, CUDA: core/cuda/index.cu).
#pragma once

#include "core/backend.h"
#include "core/tensor.h"

namespace ta::kernels {

// Checks that every value of `index` is a whole number in [0, bound).
void check_indices(const Tensor& index, int64_t bound, const char* op);
Tensor index_select(const Tensor& x, int axis, const Tensor& index);
Tensor index_add(const Tensor& dy, int axis, const Tensor& index, const Shape& x_shape);
Tensor gather(const Tensor& x, int axis, const Tensor& index);
Tensor scatter_add(const Tensor& dy, int axis, const Tensor& index, const Shape& x_shape);

}  // namespace ta::kernels
