// core/cuda/cuda_backend.h — the CUDA implementation of the operations in core/backend_ops.h.
//
// Built only when nvcc is found (see the Makefile; otherwise core/cuda/cuda_stub.cpp
// stands in). Kernel bodies live in core/cuda/kernels/<topic>.cuh, each with its
// launch plan (which kernels, what grid), so that the tests run the same plans
// under the SIMT emulation of tests/cuda/simt.h; a .cu file only hands each plan the
// checked launcher of launch.h. The .cu files group several topics, because every
// nvcc unit costs build time:
//   device.cpp       memory (caching allocator over cudaMalloc), host/device copies,
//                    copy_rows, device detection and the backend object
//   gemm.cpp         cuBLAS (the row-major convention is stated there)
//   elementwise.cu   one thread per element: creation.cuh (fill, arange, Philox
//                    random numbers), elementwise.cuh, optim.cuh (optimizer updates),
//                    gemm_epilogue.cuh (bias and activation after cuBLAS)
//   reduce.cu        along an axis: reduce.cuh (reductions, softmax, cumsum, sum of
//                    squares), loss.cuh (cross-entropy), norm.cuh (layer / RMS norm)
//   index.cu         index.cuh: index_select / index_add / gather / scatter_add, permute
//   attention.cu, block_sparse_attention.cu, flash.cu (with the GAU's scale-offset),
//   performer.cu     the fused attention cores
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
