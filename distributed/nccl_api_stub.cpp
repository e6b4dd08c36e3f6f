// distributed/nccl_api_stub.cpp — compiled when the build has no CUDA toolkit with
// NCCL (or no MPI to bootstrap it): CUDA tensors cannot be reduced across
// processes, and asking says so.
#include "core/error.h"
#include "distributed/nccl_api.h"
#include "distributed/world.h"

namespace ta::dist {

namespace {
const char* kWhy =
    "this build has no NCCL (it needs nvcc with NCCL in the CUDA toolkit, and MPI, when it is built); "
    "train on Device::CPU, or rebuild on a machine with both";
}

std::unique_ptr<NcclApi> make_nccl_api() { throw Error(cat("distributed: CUDA tensors across processes: ", kWhy)); }

void bind_local_gpu() { throw Error(cat("bind_local_gpu: ", kWhy)); }

}  // namespace ta::dist
