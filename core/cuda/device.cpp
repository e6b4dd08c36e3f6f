// core/cuda/device.cpp — the CUDA device: whether there is one, its memory (a
// caching allocator over cudaMalloc, so that training steps never call
// cudaMalloc/cudaFree), copies to, from and within it, and the backend object.
//
// Everything runs on the default stream, in order. A block given back to the cache
// may be handed out again at once: any kernel still using it was launched earlier
// on the same stream, so it finishes before the new owner's kernels start.
#include <cstddef>
#include <limits>
#include <string>

#include "core/allocator.h"
#include "core/cuda/check.h"
#include "core/cuda/cuda_backend.h"

namespace ta {

namespace {

// How many devices the runtime sees, or why it sees none; asked once.
struct DeviceCount {
  int count = 0;
  std::string why_none;
};

const DeviceCount& device_count() {
  static const DeviceCount probe = [] {
    DeviceCount c;
    cudaError_t status = cudaGetDeviceCount(&c.count);
    if (status != cudaSuccess) {
      c.count = 0;
      c.why_none = cat("cudaGetDeviceCount failed: ", cudaGetErrorString(status));
      (void)cudaGetLastError();  // clear it: this failure is an answer, not an error to report later
    } else if (c.count == 0) {
      c.why_none = "cudaGetDeviceCount found no device";
    }
    return c;
  }();
  return probe;
}

// The cache's raw allocator reports failure as null, so that it can empty itself
// and try again before giving up.
void* device_malloc(size_t bytes) {
  void* p = nullptr;
  if (cudaMalloc(&p, bytes) != cudaSuccess) {
    (void)cudaGetLastError();
    return nullptr;
  }
  return p;
}

void device_free(void* p) { TA_CUDA_CHECK(cudaFree(p)); }

// What the GPU has free now (our cached blocks not included: they are allocated).
CachingAllocator::Capacity device_capacity(const CachingAllocator::Stats& held) {
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
    (void)cudaGetLastError();
    return {std::numeric_limits<size_t>::max(), "the GPU's free memory is unknown (cudaMemGetInfo failed)"};
  }
  return {free_bytes, cat("the GPU has ", format_bytes(free_bytes), " free of ", format_bytes(total_bytes),
                          held.live_bytes ? cat(", and tensors hold ", format_bytes(held.live_bytes)) : "")};
}

}  // namespace

bool cuda_available() { return device_count().count > 0; }

Backend& cuda_backend() {
  TA_CHECK(cuda_available(), "cuda: no usable GPU (", device_count().why_none,
           "); this build has the CUDA backend, but running it needs an NVIDIA GPU and its driver. "
           "Use Device::CPU on this machine");
  static cuda::CudaBackend backend;
  return backend;
}

namespace cuda {

CachingAllocator& device_allocator() {
  // Never destroyed: tensors held in static objects may be freed after main returns.
  static CachingAllocator* a = new CachingAllocator("GPU", device_malloc, device_free, device_capacity);
  return *a;
}

float* CudaBackend::allocate(int64_t n) { return static_cast<float*>(device_allocator().allocate(float_bytes(n))); }
void CudaBackend::deallocate(float* p, int64_t n) { device_allocator().deallocate(p, float_bytes(n)); }

void CudaBackend::copy_from_host(const float* host, float* dst, int64_t n) {
  if (n > 0) TA_CUDA_CHECK(cudaMemcpy(dst, host, float_bytes(n), cudaMemcpyHostToDevice));
}

void CudaBackend::copy_to_host(const float* src, float* host, int64_t n) {
  if (n > 0) TA_CUDA_CHECK(cudaMemcpy(host, src, float_bytes(n), cudaMemcpyDeviceToHost));
}

void CudaBackend::synchronize() { TA_CUDA_CHECK(cudaDeviceSynchronize()); }

void CudaBackend::copy(const float* src, float* dst, int64_t n) {
  if (n > 0 && src != dst) TA_CUDA_CHECK(cudaMemcpyAsync(dst, src, float_bytes(n), cudaMemcpyDeviceToDevice));
}

// A rows x row_len block between two row-strided buffers is exactly what
// cudaMemcpy2D copies (its pitches in bytes).
void CudaBackend::copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t rows,
                            int64_t row_len) {
  if (rows == 0 || row_len == 0) return;
  TA_CUDA_CHECK(cudaMemcpy2DAsync(dst, float_bytes(dst_stride), src, float_bytes(src_stride), float_bytes(row_len),
                                  static_cast<size_t>(rows), cudaMemcpyDeviceToDevice));
}

}  // namespace cuda
}  // namespace ta
