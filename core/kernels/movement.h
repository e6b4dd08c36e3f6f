// core/kernels/movement.h — kernels that move data: views, permutations, slices, concatenation,
// in-place writes (CPU: core/cpu/movement.cpp, CUDA: core/cuda/movement.cu).
#pragma once

#include <vector>

#include "core/backend.h"
#include "core/tensor.h"

namespace ta::kernels {

// A view of x's storage with a new shape of the same size (x is contiguous).
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor permute(const Tensor& x, const std::vector<int>& order);
Tensor narrow(const Tensor& x, int axis, int64_t start, int64_t length);
Tensor concat(const std::vector<Tensor>& xs, int axis);

// Overwrites dst's values with src's (same shape and device), in place: every handle
// to dst sees the change. For loading weights; ops never write into their inputs.
void assign(const Tensor& dst, const Tensor& src);

// dst += src in place (same shapes), and dst's slice [start, start + len) along `axis`
// += src, whose shape is dst's with len along axis. Only for a buffer no one else
// holds: the backward pass's own gradient sums (autograd/engine.cpp). `op` names the
// caller in errors.
void add_into(const Tensor& dst, const Tensor& src, const char* op);
void add_into_slice(const Tensor& dst, const Tensor& src, int axis, int64_t start, const char* op);

}  // namespace ta::kernels
