// tests/fake_cuda.h — a "GPU" for the device-plumbing tests on machines without
// one: the CPU kernels put behind Device::CUDA for the life of the object
// (override_backend_for_testing). A tensor a layer makes on the CPU by mistake
// then meets the "cuda" tensors in some op and fails its mixed-device check, while
// the numbers stay those of the CPU kernels, bit for bit. Every tensor made on the
// fake device must be gone before the object is.
#pragma once

#include "core/backend.h"
#include "core/cpu/cpu_backend.h"

namespace ta::testing {

class FakeCuda {
 public:
  FakeCuda() { override_backend_for_testing(Device::CUDA, &backend_); }
  ~FakeCuda() { override_backend_for_testing(Device::CUDA, nullptr); }
  FakeCuda(const FakeCuda&) = delete;
  FakeCuda& operator=(const FakeCuda&) = delete;

 private:
  class HostAsCuda : public cpu::CpuBackend {
   public:
    Device device() const override { return Device::CUDA; }
  };
  HostAsCuda backend_;
};

}  // namespace ta::testing
