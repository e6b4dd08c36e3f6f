// tests/cuda/test_block_sparse_kernels.cpp — the CUDA backend's block-sparse attention
// (core/cuda/attention/kernels/block_sparse.cuh), run under the SIMT emulation, equals
// the CPU backend's kernels of the same name: outputs, log-sum-exps and all three
// input gradients, on the Sparse Transformer's layouts (strided and fixed, causal and
// bidirectional, merged and split over heads), blocks wider than the kernel's tiles,
// fewer queries than keys, lengths that do not fill the blocks, and key padding.
#include "tests/cuda/fused_testing.h"

#include <cmath>
#include <vector>

#include "attention/sparse_layout.h"
#include "core/cuda/attention/kernels/block_sparse.cuh"

using namespace ta;
using namespace ta::testing;

namespace {

struct SparseCase {
  const char* name;
  std::vector<SparsePattern> patterns;
  int64_t batch, heads, n_q, n_k, d, block;
  bool padded;  // pad every 5th key of batch element 0 and every key of the last one
  EmulatedLaunch launch;
};

void check_sparse(const SparseCase& c) {
  CAPTURE(c.name);
  CAPTURE(c.n_q);
  CAPTURE(c.n_k);
  CAPTURE(c.d);
  CAPTURE(c.block);
  const auto layout = build_block_layout(c.patterns, c.n_q, c.n_k, c.block);
  const int64_t bh = c.batch * c.heads, nq = bh * c.n_q * c.d, nk = bh * c.n_k * c.d;
  const uint64_t seed = 1000 * c.n_q + c.n_k + c.block;
  const std::vector<float> q = uniform_values(nq, seed), k = uniform_values(nk, seed + 1),
                           v = uniform_values(nk, seed + 2), d_o = uniform_values(nq, seed + 3);
  std::vector<float> pad(c.batch * c.n_k, 0.0f);
  for (int64_t j = 0; j < c.n_k; j += 5) pad[j] = 1.0f;
  std::fill(pad.end() - c.n_k, pad.end(), 1.0f);
  const float* key_pad = c.padded ? pad.data() : nullptr;
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.d));

  std::vector<float> o_ref(nq), lse_ref(bh * c.n_q), dq_ref(nq), dk_ref(nk), dv_ref(nk);
  cpu_backend().block_sparse_attention_forward(q.data(), k.data(), v.data(), o_ref.data(), lse_ref.data(), bh, c.heads, c.n_q,
                                       c.n_k, c.d, scale, *layout, key_pad);
  cpu_backend().block_sparse_attention_backward(q.data(), k.data(), v.data(), o_ref.data(), lse_ref.data(), d_o.data(),
                                        dq_ref.data(), dk_ref.data(), dv_ref.data(), bh, c.heads, c.n_q, c.n_k, c.d,
                                        scale, *layout, key_pad);

  const cuda_kernels::AttentionInputs in{q.data(), k.data(), v.data(), key_pad, bh, c.heads,
                                         c.n_q,    c.n_k,    c.d,      scale,   false};
  std::vector<float> o = nan_buffer(nq), lse = nan_buffer(bh * c.n_q), dq = nan_buffer(nq), dk = nan_buffer(nk),
                     dv = nan_buffer(nk);
  cuda_kernels::block_sparse_attention_forward(c.launch, cpu_backend(), in, *layout, o.data(), lse.data());
  cuda_kernels::block_sparse_attention_backward(c.launch, cpu_backend(), in, *layout, o_ref.data(), lse_ref.data(),
                                                d_o.data(), dq.data(), dk.data(), dv.data());
  check_attention_results({o, lse, dq, dk, dv}, {o_ref, lse_ref, dq_ref, dk_ref, dv_ref});
}

}  // namespace

TEST_CASE("cuda block-sparse attention kernels (emulated): packing keeps every part and mask bit") {
  const auto layout = build_block_layout(
      combine_factors(strided_pattern(6, Causality::Causal), SparseCombine::SplitHeads, 0), 50, 50, 64);
  const cuda_kernels::PackedLayout packed = cuda_kernels::pack_layout(*layout);
  REQUIRE(packed.patterns == 2);
  REQUIRE(packed.max_parts == 1);
  for (int64_t p = 0; p < packed.patterns; ++p) {
    const BlockSparseLayout::Part& part = layout->patterns[p].parts[0];
    const cuda_kernels::LayoutPart view(packed.words.data(), packed.max_parts, p, 0, layout->block);
    CHECK(view.n_queries == static_cast<int64_t>(part.queries.size()));
    CHECK(view.n_keys == static_cast<int64_t>(part.keys.size()));
    REQUIRE(!part.masks.empty());
    int64_t mismatches = 0, allowed = 0;
    for (size_t a = 0; a < part.mask.size(); ++a)
      for (int64_t r = 0; r < layout->block; ++r)
        for (int64_t col = 0; col < layout->block; ++col) {
          const bool expected = part.mask[a] < 0 || ((part.masks[part.mask[a] * layout->block + r] >> col) & 1u);
          mismatches += view.allows(static_cast<int64_t>(a), r, col) != expected;
          allowed += expected;
        }
    CHECK(mismatches == 0);
    CHECK(allowed > 0);
  }
}

BACKEND_OP_CASE("cuda block-sparse attention kernels (emulated): forward and backward equal the CPU backend",
                "block_sparse_attention_forward", "block_sparse_attention_backward") {
  // d = 64 gives forward tiles of 32 and backward tiles of 16: a block of 64 is split
  // into row groups and column tiles; d = 16 with blocks of 16 takes them whole.
  const SparseCase cases[] = {
      {"strided causal, merged", {strided_pattern(8, Causality::Causal)}, 2, 2, 70, 70, 16, 16, true, quick},
      {"strided causal, merged (reverse turns)",
       {strided_pattern(8, Causality::Causal)},
       1,
       2,
       70,
       70,
       16,
       16,
       false,
       reverse},
      {"fixed causal, split heads, cache",
       combine_factors(fixed_pattern(16, 4, Causality::Causal), SparseCombine::SplitHeads, 0), 1, 2, 30, 75, 64, 32,
       false, quick},
      {"strided bidirectional, split over 3 heads",
       combine_factors(strided_pattern(10, Causality::Bidirectional), SparseCombine::SplitHeads, 0), 2, 3, 50, 50, 64,
       64, true, quick},
      {"fixed bidirectional, merged",
       {fixed_pattern(12, 3, Causality::Bidirectional)},
       2,
       1,
       41,
       41,
       8,
       8,
       false,
       full},
      {"one token", {strided_pattern(4, Causality::Causal)}, 1, 1, 1, 1, 8, 16, false, quick},
  };
  for (const SparseCase& c : cases) check_sparse(c);
}
