// core/cuda/elementwise.cu — the one-thread-per-element kernels on the GPU: creation
// and random numbers, unary / binary / where / broadcast / accumulate_rows, optimizer
// updates, and the GEMM epilogue (after cuBLAS). Each member hands the launch plan of
// its kernel header the checked launcher.
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels/creation.cuh"
#include "core/cuda/kernels/elementwise.cuh"
#include "core/cuda/kernels/gemm_epilogue.cuh"
#include "core/cuda/kernels/optim.cuh"
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

void CudaBackend::accumulate_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                                  int64_t rows, int64_t row_len) {
  k::accumulate_rows(Launcher{}, src, src_stride, dst, dst_stride, rows, row_len);
}

void CudaBackend::broadcast_to(const float* x, float* out, const BroadcastPlan& plan) {
  k::broadcast_to(Launcher{}, x, out, plan);
}

void CudaBackend::sgd_update(float* p, const float* g, float* buf, int64_t n, float lr, float momentum,
                             float weight_decay, bool nesterov, bool first_step) {
  k::sgd_update(Launcher{}, p, g, buf, n, SgdHyper{lr, momentum, weight_decay, nesterov, first_step});
}

void CudaBackend::adam_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1,
                              float beta2, float eps, float weight_decay, bool decoupled, float c1, float c2) {
  k::adam_update(Launcher{}, p, g, m, v, n, adam_hyper(lr, beta1, beta2, eps, weight_decay, decoupled, c1, c2));
}

// cuBLAS's product, then the epilogue in one pass over C (gemm_epilogue.cuh).
void CudaBackend::gemm_epilogue(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha,
                                const float* A, int64_t stride_a, const float* B, int64_t stride_b, float beta,
                                float* C, int64_t stride_c, int64_t batch, const GemmEpilogue& epilogue) {
  gemm(ta, tb, M, N, K, alpha, A, stride_a, B, stride_b, beta, C, stride_c, batch);
  if (M == 0 || N == 0 || batch == 0) return;
  if (epilogue.bias || epilogue.pre_activation || epilogue.activation != EpilogueActivation::None)
    k::gemm_epilogue(Launcher{}, C, M, N, stride_c, batch, epilogue);
}

}  // namespace ta::cuda
