// core/cuda/cuda_backend.h — the CUDA implementation of the operations in core/backend_ops.h.
//
// Built only when nvcc is found (see the Makefile; otherwise core/cuda/cuda_stub.cpp
// stands in). Kernel bodies live in core/cuda/kernels/<concern>.cuh (the fused
// attention's in core/cuda/attention/kernels/<family>.cuh), each with its launch plan
// (which kernels, what grid), so that the tests run the same plans under the SIMT
// emulation of tests/cuda/simt.h; a .cu file only hands each plan the checked
// launcher of launch.h. One file per concern, as on the CPU (core/README.md):
//   device.cpp       memory (caching allocator over cudaMalloc), copy and copy_rows
//                    (cudaMemcpy), device detection and the backend object
//   matmul.cu        cuBLAS (the row-major convention is stated there), then the
//                    epilogue kernel of matmul.cuh
//   elementwise.cu   creation.cuh (fill, arange, Philox random numbers) and elementwise.cuh
//   reduce.cu, norm.cu, loss.cu, optim.cu, index.cu, movement.cu
//   attention/       dense.cu, block_sparse.cu, flash.cu (with the GAU's scale-offset),
//                    performer.cu: the fused attention cores
// All work goes to the default stream, in order; copies to the host wait for it.
#pragma once

#include "core/allocator.h"
#include "core/backend.h"

namespace ta::cuda {

// The device memory cache behind CudaBackend::allocate (blocks reused by size).
CachingAllocator& device_allocator();

class CudaBackend final : public Backend {
 public:
  Device device() const override { return Device::CUDA; }
  void synchronize() override;

#define TA_BACKEND_OP(kind, ret, name, params, args) ret name params override;
#include "core/backend_ops.h"
#undef TA_BACKEND_OP
};

}  // namespace ta::cuda
