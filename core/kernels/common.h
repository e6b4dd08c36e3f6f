// core/kernels/common.h — what the tensor-level kernels share.
//
// Each tensor-level kernel (core/kernels/<concern>.h, core/attention/<family>.h) checks
// its arguments, throwing ta::Error that names the op, what it got and what it
// expected, allocates the output on the inputs' device and runs the device's backend
// operation (core/backend_ops.h). autograd/ builds the differentiable ops on top of
// them; nothing above core/ touches raw memory.
#pragma once

#include <initializer_list>

#include "core/backend.h"
#include "core/tensor.h"

namespace ta::kernels {

// The device all tensors share; throws naming `op` when they differ.
Device common_device(std::initializer_list<const Tensor*> ts, const char* op);

inline Backend& backend_of(const Tensor& t) { return backend(t.device()); }

// Reads [outer, n, inner] around `axis` of shape s, the view of the backend's
// operations along an axis.
struct AxisView {
  int64_t outer, n, inner;
  AxisView(const Shape& s, int axis) : outer(s.outer(axis)), n(s[axis]), inner(s.inner(axis)) {}
};

}  // namespace ta::kernels
