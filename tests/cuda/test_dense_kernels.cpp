// tests/cuda/test_dense_kernels.cpp — the CUDA backend's fused exact softmax
// attention (core/cuda/attention/kernels/dense.cuh), run under the SIMT emulation, equals
// the CPU backend's kernels of the same name: outputs, log-sum-exps and all three
// input gradients, on sizes that do not fill the tiles, one token, no queries, more
// queries than keys (rows that see nothing), and key padding (a batch element padded
// throughout).
#include "tests/cuda/fused_testing.h"

#include <cmath>
#include <vector>

#include "core/cuda/attention/kernels/dense.cuh"

using namespace ta;
using namespace ta::testing;

namespace {

struct DenseCase {
  int64_t batch, heads, n_q, n_k, d;
  bool causal;
  int pad_every;            // key j of batch element 0 is padded when j % pad_every == 1; 0: no mask
  bool last_batch_all_pad;  // every key of the last batch element padded
  unsigned threads;         // threads per block under the emulation (0: the kernel's own)
};

void check_dense(const DenseCase& c) {
  CAPTURE(c.n_q);
  CAPTURE(c.n_k);
  CAPTURE(c.d);
  CAPTURE(c.causal);
  CAPTURE(c.pad_every);
  const int64_t bh = c.batch * c.heads, nq = bh * c.n_q * c.d, nk = bh * c.n_k * c.d;
  const uint64_t seed = 100 * c.n_q + 10 * c.n_k + c.d;
  const std::vector<float> q = uniform_values(nq, seed), k = uniform_values(nk, seed + 1),
                           v = uniform_values(nk, seed + 2), d_o = uniform_values(nq, seed + 3);
  std::vector<float> pad(c.batch * c.n_k, 0.0f);
  for (int64_t j = 0; j < c.n_k && c.pad_every > 0; ++j) pad[j] = j % c.pad_every == 1 ? 1.0f : 0.0f;
  if (c.last_batch_all_pad) std::fill(pad.end() - c.n_k, pad.end(), 1.0f);
  const bool masked = c.pad_every > 0 || c.last_batch_all_pad;
  const float* key_pad = masked ? pad.data() : nullptr;
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.d));

  std::vector<float> o_ref(nq), lse_ref(bh * c.n_q), dq_ref(nq), dk_ref(nk), dv_ref(nk);
  cpu_backend().attention_forward(q.data(), k.data(), v.data(), o_ref.data(), lse_ref.data(), bh, c.heads, c.n_q, c.n_k,
                                  c.d, scale, causality_if(c.causal), key_pad);
  cpu_backend().attention_backward(q.data(), k.data(), v.data(), o_ref.data(), lse_ref.data(), d_o.data(),
                                   dq_ref.data(), dk_ref.data(), dv_ref.data(), bh, c.heads, c.n_q, c.n_k, c.d, scale,
                                   causality_if(c.causal), key_pad);

  const cuda_kernels::AttentionInputs in{q.data(), k.data(), v.data(), key_pad, bh, c.heads,
                                         c.n_q,    c.n_k,    c.d,      scale,   c.causal};
  std::vector<float> o = nan_buffer(nq), lse = nan_buffer(bh * c.n_q), dq = nan_buffer(nq), dk = nan_buffer(nk),
                     dv = nan_buffer(nk);
  const EmulatedLaunch launch{c.threads};
  cuda_kernels::attention_forward(launch, in, o.data(), lse.data());
  // The backward reads the CPU's forward results, so each half is checked on its own.
  cuda_kernels::attention_backward(launch, in, o_ref.data(), lse_ref.data(), d_o.data(), dq.data(), dk.data(),
                                   dv.data());
  check_attention_results({o, lse, dq, dk, dv}, {o_ref, lse_ref, dq_ref, dk_ref, dv_ref});
}

}  // namespace

TEST_CASE("cuda attention kernels (emulated): tile sizes follow the head dimension") {
  // The shared memory of a tile must fit the default 48 KiB for every head dimension
  // the model zoo uses, and the sizes the tests below rely on.
  for (int64_t d : {1, 8, 16, 33, 64, 128, 256}) {
    const int fwd = cuda_kernels::softmax_forward_tile(d), bwd = cuda_kernels::softmax_backward_tile(d);
    CAPTURE(d);
    CHECK(fwd >= 1);
    CHECK(bwd >= 1);
    CHECK(cuda_kernels::SoftmaxForwardTiles::floats(fwd, d) * 4 <= cuda_kernels::kSharedMemoryBytes);
    CHECK(cuda_kernels::SoftmaxBackwardTiles::floats(bwd, d) * 4 <= cuda_kernels::kSharedMemoryBytes);
  }
  CHECK(cuda_kernels::softmax_forward_tile(64) == 32);
  CHECK(cuda_kernels::softmax_backward_tile(64) == 16);
  CHECK(cuda_kernels::softmax_forward_tile(100000) == 0);
}

BACKEND_OP_CASE("cuda attention kernels (emulated): forward and backward equal the CPU backend",
                "attention_forward", "attention_backward") {
  // d = 64: forward tiles of 32, backward tiles of 16, so 70 tokens span several
  // tiles with a partial last one; d = 8: tiles of 64.
  const DenseCase cases[] = {
      {2, 2, 70, 70, 64, false, 0, false, 32},  {2, 2, 70, 70, 64, true, 0, false, 32},
      {1, 1, 1, 1, 16, true, 0, false, 0},      {2, 1, 5, 70, 8, true, 3, false, 32},
      {2, 2, 70, 3, 8, true, 0, false, 32},     {2, 1, 33, 40, 33, false, 4, true, 37},
      {1, 2, 67, 67, 8, true, 5, false, 0},     {1, 1, 0, 5, 8, true, 0, false, 32},
  };
  for (const DenseCase& c : cases) check_dense(c);
}

TEST_CASE("cuda attention kernels (emulated): head dimensions beyond the shared memory are refused") {
  const cuda_kernels::AttentionInputs in{nullptr, nullptr, nullptr, nullptr, 1, 1, 1, 1, 100000, 1.0f, false};
  CHECK_THROWS_WITH_AS(cuda_kernels::attention_forward(EmulatedLaunch{}, in, nullptr, nullptr),
                       doctest::Contains("head dimension 100000"), Error);
}
