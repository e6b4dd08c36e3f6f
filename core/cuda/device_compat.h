// core/cuda/device_compat.h — the first include of every kernel-body header
// (core/cuda/kernels/*.cuh).
//
// Kernel bodies compile two ways: by nvcc for the GPU (through core/cuda/*.cu), and
// by the host compiler under the SIMT emulation of tests/cuda/simt.h, which the
// tests include first. This header picks the right definitions for each:
//
//   TA_DYNAMIC_SHARED(T, name)   declares `T* name`, the block's dynamic shared
//                                memory (the launch's third <<<>>> argument).
//
// Under nvcc the dynamic shared array is declared once as bytes, aligned for any
// type, and reinterpreted, because every `extern __shared__` array of a kernel
// names the same memory and CUDA rejects the same name declared with two types.
#pragma once

#if defined(__CUDACC__)
#include <cuda_runtime.h>
#define TA_DYNAMIC_SHARED(T, name)                                              \
  extern __shared__ __align__(16) unsigned char ta_dynamic_shared_bytes[];      \
  T* name = reinterpret_cast<T*>(ta_dynamic_shared_bytes)
#elif defined(TA_SIMT_EMULATION)
#define TA_DYNAMIC_SHARED(T, name) T* name = simt::dynamic_shared<T>()
#else
#error "core/cuda/kernels/*.cuh compile under nvcc, or as host code after tests/cuda/simt.h (the SIMT emulation used by the tests): include tests/cuda/simt.h first"
#endif
