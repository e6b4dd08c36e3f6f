#include "core/backend.h"

#include "core/cpu/cpu_backend.h"
#include "core/error.h"

namespace ta {

int64_t BroadcastPlan::numel() const {
  int64_t n = 1;
  for (int i = 0; i < ndim; ++i) n *= shape[i];
  return n;
}

BroadcastPlan make_broadcast_plan(const Shape& out, const Shape* inputs, int n_inputs) {
  // Per input and output dimension: the input's stride, or 0 where it broadcasts.
  BroadcastPlan full;
  full.ndim = out.ndim();
  for (int d = 0; d < out.ndim(); ++d) full.shape[d] = out[d];
  for (int k = 0; k < n_inputs; ++k) {
    const Shape& in = inputs[k];
    Dims st = contiguous_strides(in);
    for (int d = 0; d < out.ndim(); ++d) {
      int id = in.ndim() - out.ndim() + d;
      full.strides[k][d] = (id >= 0 && in[id] != 1) ? st[id] : 0;
    }
  }
  // Drop size-1 dimensions and merge dimension d into the one before it when every
  // operand steps through both as through one (stride[d-1] == stride[d] * shape[d]).
  BroadcastPlan plan;
  for (int d = 0; d < full.ndim; ++d) {
    if (full.shape[d] == 1) continue;
    bool merge = plan.ndim > 0;
    for (int k = 0; k < n_inputs && merge; ++k)
      merge = plan.strides[k][plan.ndim - 1] == full.strides[k][d] * full.shape[d];
    if (merge) {
      plan.shape[plan.ndim - 1] *= full.shape[d];
      for (int k = 0; k < n_inputs; ++k) plan.strides[k][plan.ndim - 1] = full.strides[k][d];
    } else {
      plan.shape[plan.ndim] = full.shape[d];
      for (int k = 0; k < n_inputs; ++k) plan.strides[k][plan.ndim] = full.strides[k][d];
      ++plan.ndim;
    }
  }
  if (plan.ndim == 0) {  // a single element
    plan.ndim = 1;
    plan.shape[0] = out.numel();
    for (int k = 0; k < n_inputs; ++k) plan.strides[k][0] = 0;
  }
  return plan;
}

Backend& cuda_backend();  // core/cuda/, or the stub that throws

namespace {
Backend* overridden[2] = {nullptr, nullptr};  // by Device, for tests
}  // namespace

void override_backend_for_testing(Device d, Backend* b) { overridden[static_cast<int>(d)] = b; }

Backend& backend(Device d) {
  static cpu::CpuBackend cpu_backend;
  if (Backend* b = overridden[static_cast<int>(d)]) return *b;
  if (d == Device::CPU) return cpu_backend;
  return cuda_backend();
}

}  // namespace ta
