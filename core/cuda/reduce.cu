// core/cuda/reduce.cu — the kernels along an axis on the GPU: reductions, softmax,
// cumulative sums, cross-entropy, layer / RMS norm, and the sum of squares.
#include <vector>

#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels/loss.cuh"
#include "core/cuda/kernels/norm.cuh"
#include "core/cuda/kernels/reduce.cuh"
#include "core/cuda/kernels/scratch.h"
#include "core/cuda/launch.h"

namespace ta::cuda {

namespace k = cuda_kernels;

void CudaBackend::reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  k::reduce(Launcher{}, op, x, y, outer, n, inner);
}

void CudaBackend::softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  k::softmax(Launcher{}, x, y, outer, n, inner, log);
}

void CudaBackend::softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t n,
                                   int64_t inner, bool log) {
  k::softmax_backward(Launcher{}, y, dy, dx, outer, n, inner, log);
}

void CudaBackend::cumsum(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool reverse) {
  k::cumsum(Launcher{}, x, y, outer, n, inner, reverse);
}

void CudaBackend::cross_entropy(const float* logits, const float* targets, float* loss, float* lse, int64_t rows,
                                int64_t classes, int64_t ignore_index) {
  k::cross_entropy(Launcher{}, logits, targets, loss, lse, rows, classes, ignore_index);
}

void CudaBackend::cross_entropy_backward(const float* logits, const float* targets, const float* lse,
                                         const float* scale, float* dlogits, int64_t rows, int64_t classes,
                                         int64_t ignore_index) {
  k::cross_entropy_backward(Launcher{}, logits, targets, lse, scale, dlogits, rows, classes, ignore_index);
}

void CudaBackend::layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                             float* rstd, int64_t rows, int64_t dim, float eps, bool subtract_mean) {
  k::layer_norm(Launcher{}, x, gamma, beta, y, mean, rstd, rows, dim, eps, subtract_mean);
}

void CudaBackend::layer_norm_backward(const float* x, const float* gamma, const float* mean, const float* rstd,
                                      const float* dy, float* dx, float* dgamma, float* dbeta, int64_t rows,
                                      int64_t dim, bool subtract_mean) {
  k::layer_norm_backward(Launcher{}, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, dim, subtract_mean);
}

// Per-block partial sums on the device, added on the host in block order.
double CudaBackend::sum_of_squares(const float* x, int64_t n) {
  const int64_t blocks = k::sum_of_squares_blocks(n);
  const int64_t floats = blocks * static_cast<int64_t>(sizeof(double) / sizeof(float));
  k::Scratch device_partial(*this, floats);
  k::sum_of_squares_partials(Launcher{}, x, n, reinterpret_cast<double*>(device_partial.data()));
  std::vector<double> partial(static_cast<size_t>(blocks));
  copy_to_host(device_partial.data(), reinterpret_cast<float*>(partial.data()), floats);
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace ta::cuda
