// core/cuda/cuda_stub.cpp — compiled when nvcc is not found: the CUDA device exists in
// the API, and every use of it says clearly that this build cannot run it.
#include "core/backend.h"
#include "core/error.h"

namespace ta {

bool cuda_available() { return false; }

Backend& cuda_backend() {
  throw Error(
      "cuda: this build has no CUDA backend (nvcc was not found when it was built); "
      "use Device::CPU, or rebuild on a machine with the CUDA toolkit");
}

}  // namespace ta
