// core/cuda/launch.h — how the backend starts a kernel: the one <<<>>> launch of the
// backend's own kernels, each followed by its check.
//
// The launch plans in core/cuda/kernels/*.cuh (which kernel, what grid) take the
// launcher as an argument. The backend passes ta::cuda::Launcher; the tests pass
// simt::Launcher (tests/cuda/simt.h), which has the same call signature and runs
// the same plan under the SIMT emulation. Nvcc only.
#pragma once

#include <cstddef>
#include <utility>

#include "core/cuda/check.h"

namespace ta::cuda {

struct Launcher {
  // kernel<<<grid, block, smem>>>(args...) on the default stream; an empty grid
  // (nothing to do) launches nothing.
  template <class... Params, class... Args>
  void operator()(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, Args&&... args) const {
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
    kernel<<<grid, block, smem>>>(std::forward<Args>(args)...);
    TA_CUDA_CHECK_LAUNCH();
  }
};

}  // namespace ta::cuda
