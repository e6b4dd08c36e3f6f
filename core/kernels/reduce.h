// core/kernels/reduce.h — kernels along an axis: reductions, softmax, cumulative sums (CPU:
// core/cpu/reduce.cpp, CUDA: core/cuda/reduce.cu).
#pragma once

#include "core/backend.h"
#include "core/tensor.h"

namespace ta::kernels {

// y = op over `axis` of x; the axis is kept with size 1 (KeepDims::Yes) or removed.
Tensor reduce(ReduceOp op, const Tensor& x, int axis, KeepDims keep);
// The reverse of broadcasting: sums x over the dimensions where `shape` has size 1
// or is missing, giving a tensor of `shape` (the gradient of broadcast_to).
Tensor sum_to(const Tensor& x, const Shape& shape);
Tensor softmax(const Tensor& x, int axis, SoftmaxForm form);
Tensor softmax_backward(const Tensor& y, const Tensor& dy, int axis, SoftmaxForm form);
Tensor cumsum(const Tensor& x, int axis, ScanDirection direction);

}  // namespace ta::kernels
