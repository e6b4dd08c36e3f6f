// The CUDA backend's GEMM epilogue kernel (core/cuda/kernels/matmul.cuh) under
// the SIMT emulation, through the launch plan the GPU runs: the CPU backend's plain
// GEMM stands in for cuBLAS, the kernel then adds the bias, keeps the pre-activation
// and applies the activation, and the result must equal the CPU backend's fused
// gemm_epilogue. Batches with gaps between matrices (the gaps must stay untouched),
// sizes around the block size, every activation, with and without bias and pre.
#include "tests/cuda/kernel_testing.h"

#include <cstdint>
#include <vector>

#include "core/cuda/kernels/matmul.cuh"

namespace k = ta::cuda_kernels;
using namespace ta;
using namespace ta::testing;

BACKEND_OP_CASE("cuda kernels (emulated): GEMM epilogue after the product equals the CPU's fused one",
                "gemm_epilogue") {
  struct Size {
    int64_t batch, M, N, K;
  };
  const Size sizes[] = {{1, 1, 1, 1}, {1, 7, 37, 5}, {2, 9, 300, 3}, {3, 20, 13, 40}};
  const EpilogueActivation acts[] = {EpilogueActivation::None, EpilogueActivation::Relu, EpilogueActivation::GeluErf,
                                     EpilogueActivation::GeluTanh, EpilogueActivation::Silu};
  for (const TestLaunch& launch : kLaunchVariants)
    for (const Size& s : sizes)
      for (EpilogueActivation act : acts)
        for (bool with_bias : {false, true})
          for (bool keep_pre : {false, true}) {
            CAPTURE(launch.name);
            CAPTURE(s.batch);
            CAPTURE(s.M);
            CAPTURE(s.N);
            CAPTURE(static_cast<int>(act));
            CAPTURE(with_bias);
            CAPTURE(keep_pre);
            const int64_t stride_c = s.M * s.N + 3;  // a gap of 3 after each matrix
            const std::vector<float> A = uniform_values(s.batch * s.M * s.K, 1), B = uniform_values(s.K * s.N, 2),
                                     bias = uniform_values(s.N, 3), c0 = uniform_values(s.batch * stride_c, 4);
            std::vector<float> c_gpu = c0, c_cpu = c0, pre_gpu = nan_buffer(s.batch * stride_c),
                               pre_cpu = pre_gpu;
            const auto epilogue = [&](std::vector<float>& pre) {
              return GemmEpilogue{with_bias ? bias.data() : nullptr, act, keep_pre ? pre.data() : nullptr};
            };
            cpu_backend().gemm(Transpose::No, Transpose::No, s.M, s.N, s.K, 0.5f, A.data(), s.M * s.K, B.data(), 0,
                               0.25f, c_gpu.data(), stride_c, s.batch);
            k::gemm_epilogue(launch, c_gpu.data(), s.M, s.N, stride_c, s.batch, epilogue(pre_gpu));
            cpu_backend().gemm_epilogue(Transpose::No, Transpose::No, s.M, s.N, s.K, 0.5f, A.data(), s.M * s.K,
                                        B.data(), 0, 0.25f, c_cpu.data(), stride_c, s.batch, epilogue(pre_cpu));
            CHECK_CLOSE(c_gpu, c_cpu, 1e-5f, 1e-6f);  // the gaps too: c0's values, bit for bit
            CHECK_CLOSE(pre_gpu, pre_cpu, 1e-5f, 1e-6f);  // NaN in the gaps and everywhere when not kept
          }
}
