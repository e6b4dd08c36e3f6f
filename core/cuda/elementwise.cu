// core/cuda/elementwise.cu — the one-thread-per-element kernels on the GPU: creation
// and random numbers (creation.cuh), unary ops and their derivatives, and the broadcasting
// binary ops, where and broadcast_to (elementwise.cuh).
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels/creation.cuh"
#include "core/cuda/kernels/elementwise.cuh"
#include "core/cuda/launch.h"

namespace ta::cuda {

namespace k = cuda_kernels;

void CudaBackend::fill(float* out, int64_t n, float value) { k::fill(Launcher{}, out, n, value); }

void CudaBackend::arange(float* out, int64_t n, float start, float step) { k::arange(Launcher{}, out, n, start, step); }

void CudaBackend::random_uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
  k::random_uniform(Launcher{}, out, n, seed, offset, lo, hi);
}

void CudaBackend::random_normal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
  k::random_normal(Launcher{}, out, n, seed, offset, mean, std);
}

void CudaBackend::unary(UnaryOp op, const float* x, float* y, int64_t n, float param) {
  k::unary(Launcher{}, op, x, y, n, param);
}

void CudaBackend::unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n,
                                 float param) {
  k::unary_backward(Launcher{}, op, x, y, dy, dx, n, param);
}

void CudaBackend::binary(BinaryOp op, const float* a, const float* b, float* out, const BroadcastPlan& plan) {
  k::binary(Launcher{}, op, a, b, out, plan);
}

void CudaBackend::where(const float* mask, const float* a, const float* b, float* out, const BroadcastPlan& plan) {
  k::where(Launcher{}, mask, a, b, out, plan);
}

void CudaBackend::broadcast_to(const float* x, float* out, const BroadcastPlan& plan) {
  k::broadcast_to(Launcher{}, x, out, plan);
}

}  // namespace ta::cuda
