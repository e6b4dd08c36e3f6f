// core/cuda/loss.cu — the fused cross-entropy on the GPU (loss.cuh).
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels/loss.cuh"
#include "core/cuda/launch.h"

namespace ta::cuda {

namespace k = cuda_kernels;

void CudaBackend::cross_entropy(const float* logits, const float* targets, float* loss, float* lse, int64_t rows,
                                int64_t classes, int64_t ignore_index) {
  k::cross_entropy(Launcher{}, logits, targets, loss, lse, rows, classes, ignore_index);
}

void CudaBackend::cross_entropy_backward(const float* logits, const float* targets, const float* lse,
                                         const float* scale, float* dlogits, int64_t rows, int64_t classes,
                                         int64_t ignore_index) {
  k::cross_entropy_backward(Launcher{}, logits, targets, lse, scale, dlogits, rows, classes, ignore_index);
}

}  // namespace ta::cuda
