// tests/distributed/test_nccl_logic.cpp — the NCCL path without a GPU: the real
// NCCL calls (distributed/nccl_api_cuda.cpp) replaced by a stand-in that does the
// same collectives with MPI, on a fake CUDA device whose memory is host memory (the
// CPU kernels behind Device::CUDA, as in tests/fake_cuda.h). Checked: the bootstrap
// (rank 0 alone makes the unique id; every rank joins with rank 0's bytes, the world
// size and its own rank), broadcast_from_root on CUDA tensors going through NCCL,
// and GradientReducer on CUDA tensors: equal bit for bit to the CPU path over MPI,
// every buffer handed to NCCL living in device memory, and not one copy to the host
// more than the plain backward makes. What this cannot check is the real calls: the
// streams, the events and NCCL itself have not run (no GPU was available).
#include <doctest/doctest.h>

#ifdef TA_WITH_MPI
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "core/cpu/cpu_backend.h"
#include "distributed/communicator.h"
#include "distributed/nccl_communicator.h"
#include "distributed/reducer.h"
#include "distributed/replicas.h"
#include "tests/distributed/dist_testing.h"

namespace {

using ta::Device;
using ta::Tensor;
namespace dist = ta::dist;
using namespace ta::testing;

// What the stand-in saw.
struct NcclLog {
  int unique_id_calls = 0;
  dist::NcclApi::UniqueId joined_with{};
  int world = -1, rank = -1;
  std::vector<const float*> reduced, broadcast;  // the buffers handed over
  int compute_waits = 0;
};

// The NCCL calls done with MPI on the fake device's (host) memory, synchronously.
class MpiStandInForNccl final : public dist::NcclApi {
 public:
  explicit MpiStandInForNccl(NcclLog& log) : log_(log) {}
  UniqueId unique_id() override {
    ++log_.unique_id_calls;
    UniqueId id{};
    std::snprintf(id.data(), id.size(), "nccl id of process %d", static_cast<int>(::getpid()));
    return id;
  }
  void init(int world, const UniqueId& id, int rank) override {
    log_.joined_with = id;
    log_.world = world;
    log_.rank = rank;
  }
  void all_reduce_sum(float* data, int64_t n) override {
    log_.reduced.push_back(data);
    MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  }
  void broadcast(float* data, int64_t n) override {
    log_.broadcast.push_back(data);
    MPI_Bcast(data, static_cast<int>(n), MPI_FLOAT, 0, MPI_COMM_WORLD);
  }
  void compute_waits_for_communication() override { ++log_.compute_waits; }

 private:
  NcclLog& log_;
};

// A fake GPU that knows which memory is its own and counts copies to the host.
class CountingFakeGpu final : public ta::cpu::CpuBackend {
 public:
  int copies_to_host = 0;
  Device device() const override { return Device::CUDA; }
  float* allocate(int64_t n) override {
    float* p = CpuBackend::allocate(n);
    blocks_[p] = n;
    return p;
  }
  void deallocate(float* p, int64_t n) override {
    blocks_.erase(p);
    CpuBackend::deallocate(p, n);
  }
  void copy_to_host(const float* src, float* host, int64_t n) override {
    ++copies_to_host;
    CpuBackend::copy_to_host(src, host, n);
  }
  bool owns(const float* p) const {
    auto it = blocks_.upper_bound(const_cast<float*>(p));
    if (it == blocks_.begin()) return false;
    --it;
    return p >= it->first && p < it->first + it->second;
  }

 private:
  std::map<float*, int64_t> blocks_;
};

// The fake GPU behind Device::CUDA and an NCCL communicator over the stand-in
// behind its collectives, for the life of the object (every CUDA tensor must be gone
// before it is).
struct FakeGpuWithNccl {
  CountingFakeGpu gpu;
  NcclLog log;
  std::unique_ptr<dist::NcclCommunicator> nccl;
  FakeGpuWithNccl() {
    ta::override_backend_for_testing(Device::CUDA, &gpu);
    nccl = std::make_unique<dist::NcclCommunicator>(std::make_unique<MpiStandInForNccl>(log));
    dist::override_communicator_for_testing(Device::CUDA, nccl.get());
  }
  ~FakeGpuWithNccl() {
    dist::override_communicator_for_testing(Device::CUDA, nullptr);
    ta::override_backend_for_testing(Device::CUDA, nullptr);
  }
};

}  // namespace

TEST_CASE("nccl logic: the bootstrap sends rank 0's unique id over MPI; every rank joins with it") {
  if (!two_ranks()) return;
  FakeGpuWithNccl f;
  CHECK(f.log.unique_id_calls == (dist::rank() == 0 ? 1 : 0));
  CHECK(f.log.world == 2);
  CHECK(f.log.rank == dist::rank());
  CHECK(f.nccl->size() == 2);
  std::vector<char> all(2 * f.log.joined_with.size());  // both ranks' ids, gathered independently
  MPI_Allgather(f.log.joined_with.data(), static_cast<int>(f.log.joined_with.size()), MPI_CHAR, all.data(),
                static_cast<int>(f.log.joined_with.size()), MPI_CHAR, MPI_COMM_WORLD);
  const std::string id0(all.data()), id1(all.data() + f.log.joined_with.size());
  CHECK(id0 == id1);
  CHECK(id0.rfind("nccl id of process ", 0) == 0);
}

TEST_CASE("nccl logic: broadcast and the reducer on CUDA tensors go through NCCL on device memory, equal to MPI") {
  if (!two_ranks()) return;
  // The CPU path over MPI: the reference.
  std::vector<Tensor> on_cpu = perceptron(1);
  dist::ReducerOptions o;
  o.bucket_mb = 160e-6;  // 40 floats: two buckets
  dist::GradientReducer cpu_reducer(on_cpu, o);
  cpu_reducer.backward(perceptron_loss(on_cpu, 10 + dist::rank()));

  FakeGpuWithNccl f;
  {
    std::vector<Tensor> on_gpu = perceptron(200 + dist::rank(), Device::CUDA);  // different on each rank
    dist::broadcast_from_root(on_gpu);
    CHECK(f.log.broadcast.size() == on_gpu.size());
    const std::vector<Tensor> rank0 = perceptron(200);
    CHECK(ta::testing::max_abs_difference(on_gpu, rank0) == 0.0);

    std::vector<Tensor> p = perceptron(1, Device::CUDA);
    dist::GradientReducer reducer(p, o);
    CHECK(reducer.bucket_count() == 2);
    // How many host copies does backward itself make here? The reducer must add none.
    std::vector<Tensor> q = perceptron(1, Device::CUDA);
    Tensor plain_loss = perceptron_loss(q, 10 + dist::rank()), loss = perceptron_loss(p, 10 + dist::rank());
    const int before_plain = f.gpu.copies_to_host;
    ta::backward(plain_loss);
    const int plain_copies = f.gpu.copies_to_host - before_plain;
    const int before = f.gpu.copies_to_host;
    const int compute_waits = f.log.compute_waits;
    reducer.backward(loss);
    CHECK(f.gpu.copies_to_host - before == plain_copies);
    CHECK(f.log.reduced.size() == 2);
    for (const float* buffer : f.log.reduced) CHECK(f.gpu.owns(buffer));
    CHECK(f.log.reduced[0] != f.log.reduced[1]);
    CHECK(f.log.compute_waits > compute_waits);  // the GPU waits before reading the sums
    CHECK(flat_grads(p) == flat_grads(on_cpu));  // bit for bit
  }
}

#else

TEST_CASE("nccl logic: skipped") {
  MESSAGE("skipped: the NCCL logic tests need MPI (this build has none)");
}

#endif
