// core/cuda/reduce.cu — the kernels along an axis on the GPU: reductions, softmax,
// cumulative sums (reduce.cuh).
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels/reduce.cuh"
#include "core/cuda/launch.h"

namespace ta::cuda {

namespace k = cuda_kernels;

void CudaBackend::reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  k::reduce(Launcher{}, op, x, y, outer, n, inner);
}

void CudaBackend::softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, SoftmaxForm form) {
  k::softmax(Launcher{}, x, y, outer, n, inner, form);
}

void CudaBackend::softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t n,
                                   int64_t inner, SoftmaxForm form) {
  k::softmax_backward(Launcher{}, y, dy, dx, outer, n, inner, form);
}

void CudaBackend::cumsum(const float* x, float* y, int64_t outer, int64_t n, int64_t inner,
                         ScanDirection direction) {
  k::cumsum(Launcher{}, x, y, outer, n, inner, direction);
}

}  // namespace ta::cuda
