// core/cuda/norm.cu — layer norm and RMS norm on the GPU (norm.cuh).
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels/norm.cuh"
#include "core/cuda/launch.h"

namespace ta::cuda {

namespace k = cuda_kernels;

void CudaBackend::layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                             float* rstd, int64_t rows, int64_t dim, float eps, LayerNormKind kind) {
  k::layer_norm(Launcher{}, x, gamma, beta, y, mean, rstd, rows, dim, eps, kind);
}

void CudaBackend::layer_norm_backward(const float* x, const float* gamma, const float* mean, const float* rstd,
                                      const float* dy, float* dx, float* dgamma, float* dbeta, int64_t rows,
                                      int64_t dim, LayerNormKind kind) {
  k::layer_norm_backward(Launcher{}, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, dim, kind);
}

}  // namespace ta::cuda
