// core/host_device.h — TA_HOST_DEVICE marks a small inline function that both the
// CPU backend and the CUDA kernels call (the formula is written once): under nvcc it
// is compiled for host and device, elsewhere it is an ordinary inline function.
#pragma once

#if defined(__CUDACC__)
#define TA_HOST_DEVICE __host__ __device__
#else
#define TA_HOST_DEVICE
#endif
