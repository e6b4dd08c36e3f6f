// tests/cuda/test_performer_kernels.cpp — the CUDA backend's fused causal FAVOR+
// attention (core/cuda/attention/kernels/performer.cuh), run under the SIMT emulation, equals the
// CPU backend's kernels of the same name: outputs, the saved denominators and running
// key maxima, and all three input gradients; softmax and ReLU features, a last chunk
// shorter than the others, keys before the first query (a continued sequence), one
// token, keys without queries, and key padding (a batch element padded throughout).
#include "tests/cuda/fused_testing.h"

#include <cmath>
#include <vector>

#include "core/cuda/attention/kernels/performer.cuh"

using namespace ta;
using namespace ta::testing;

namespace {

struct FavorCase {
  const char* name;
  int64_t batch, heads, n_q, n_k, d, m;
  FavorKernel kernel;
  bool padded;  // pad every 3rd key of batch element 0 and every key of the last one
  EmulatedLaunch launch;
};

void check_favor(const FavorCase& c) {
  CAPTURE(c.name);
  const int64_t bh = c.batch * c.heads, nq = bh * c.n_q * c.d, nk = bh * c.n_k * c.d;
  const uint64_t seed = 100 * c.n_q + c.n_k + c.m;
  const std::vector<float> q = uniform_values(nq, seed, -1.0f, 1.0f), k = uniform_values(nk, seed + 1, -1.0f, 1.0f),
                           v = uniform_values(nk, seed + 2), d_o = uniform_values(nq, seed + 3),
                           w = uniform_values(c.m * c.d, seed + 4, -1.5f, 1.5f);
  std::vector<float> pad(c.batch * c.n_k, 0.0f);
  for (int64_t j = 0; j < c.n_k; j += 3) pad[j] = 1.0f;
  if (c.batch > 1) std::fill(pad.end() - c.n_k, pad.end(), 1.0f);
  const float* key_pad = c.padded ? pad.data() : nullptr;
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.d));

  std::vector<float> o_ref(nq), den_ref(bh * c.n_q), kmax_ref(bh * c.n_k), dq_ref(nq), dk_ref(nk), dv_ref(nk);
  cpu_backend().favor_causal_forward(q.data(), k.data(), v.data(), w.data(), o_ref.data(), den_ref.data(), kmax_ref.data(),
                             bh, c.heads, c.n_q, c.n_k, c.d, c.m, scale, c.kernel, key_pad);
  cpu_backend().favor_causal_backward(q.data(), k.data(), v.data(), w.data(), o_ref.data(), den_ref.data(), kmax_ref.data(),
                              d_o.data(), dq_ref.data(), dk_ref.data(), dv_ref.data(), bh, c.heads, c.n_q, c.n_k, c.d,
                              c.m, scale, c.kernel, key_pad);

  const cuda_kernels::FavorInputs in{q.data(), k.data(), v.data(), w.data(), key_pad, bh, c.heads, c.n_q,
                                     c.n_k,    c.d,      c.m,      scale,    c.kernel == FavorKernel::Relu};
  std::vector<float> o = nan_buffer(nq), den = nan_buffer(bh * c.n_q), kmax = nan_buffer(bh * c.n_k),
                     dq = nan_buffer(nq), dk = nan_buffer(nk), dv = nan_buffer(nk);
  cuda_kernels::favor_causal_forward(c.launch, cpu_backend(), in, o.data(), den.data(), kmax.data());
  cuda_kernels::favor_causal_backward(c.launch, cpu_backend(), in, o_ref.data(), den_ref.data(), kmax_ref.data(), d_o.data(),
                                      dq.data(), dk.data(), dv.data());
  CHECK(relative_error(o, o_ref) < 1e-5f);
  CHECK(relative_error(den, den_ref) < 1e-5f);
  CHECK(relative_error(kmax, kmax_ref) < 1e-5f);
  CHECK(relative_error(dq, dq_ref) < 1e-4f);
  CHECK(relative_error(dk, dk_ref) < 1e-4f);
  CHECK(relative_error(dv, dv_ref) < 1e-4f);
}

}  // namespace

BACKEND_OP_CASE("cuda performer kernels (emulated): forward and backward equal the CPU backend",
                "favor_causal_forward", "favor_causal_backward") {
  const FavorKernel softmax = FavorKernel::Softmax, relu = FavorKernel::Relu;
  // Chunks of 64 tokens: 70 tokens make a full chunk and a short one; 5 queries after
  // 140 keys put 135 keys in chunks of their own first.
  const FavorCase cases[] = {
      {"softmax features, padding", 2, 2, 70, 70, 8, 16, softmax, true, quick},
      {"softmax features (reverse turns)", 1, 2, 70, 70, 8, 16, softmax, false, reverse},
      {"relu features, padding", 2, 1, 70, 70, 8, 12, relu, true, quick},
      {"softmax features, keys before the queries", 1, 2, 5, 140, 16, 8, softmax, true, quick},
      {"relu features, keys before the queries", 1, 1, 5, 140, 16, 8, relu, false, full},
      {"one token", 1, 1, 1, 1, 4, 8, softmax, false, quick},
      {"keys only, no queries", 1, 2, 0, 70, 4, 8, softmax, true, quick},
  };
  for (const FavorCase& c : cases) check_favor(c);
}
