// core/cuda/optim.cu — optimizer updates and the sum of squares on the GPU (optim.cuh).
#include <vector>

#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels/optim.cuh"
#include "core/cuda/launch.h"
#include "core/scratch.h"

namespace ta::cuda {

namespace k = cuda_kernels;

void CudaBackend::sgd_update(float* p, const float* g, float* buf, int64_t n, float lr, float momentum,
                             float weight_decay, SgdMomentum kind) {
  k::sgd_update(Launcher{}, p, g, buf, n, SgdHyper{lr, momentum, weight_decay, kind == SgdMomentum::Nesterov});
}

void CudaBackend::adam_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1,
                              float beta2, float eps, float weight_decay, WeightDecay decay, float c1, float c2) {
  k::adam_update(Launcher{}, p, g, m, v, n, adam_hyper(lr, beta1, beta2, eps, weight_decay, decay, c1, c2));
}

// Per-block partial sums on the device, added on the host in block order.
double CudaBackend::sum_of_squares(const float* x, int64_t n) {
  const int64_t blocks = k::sum_of_squares_blocks(n);
  const int64_t floats = blocks * static_cast<int64_t>(sizeof(double) / sizeof(float));
  Scratch device_partial(*this, floats);
  k::sum_of_squares_partials(Launcher{}, x, n, reinterpret_cast<double*>(device_partial.data()));
  std::vector<double> partial(static_cast<size_t>(blocks));
  copy_to_host(device_partial.data(), reinterpret_cast<float*>(partial.data()), floats);
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace ta::cuda
