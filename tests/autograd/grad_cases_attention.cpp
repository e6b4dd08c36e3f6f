// tests/autograd/grad_cases_attention.cpp — the gradient-check cases of the fused
// attention kernels with hand-written backwards (grad_cases.h): the tiled softmax
// kernel, FLASH's scale_offset and chunked attention, the block-sparse kernel and
// FAVOR+'s causal prefix sums.
#include <string>
#include <vector>

#include "attention/sparse_layout.h"  // the layouts of the block_sparse_attention cases
#include "autograd/ops.h"
#include "core/backend.h"  // FavorKernel
#include "tests/autograd/grad_cases.h"

namespace ta::grad_table {

// fused_attention(q, k, v, scale, causal, mask): the tiled kernel's hand-written
// backward, causal and not, with more keys than queries, and with padded keys.
void add_attention_cases(std::vector<GradCase>& t) {
  auto attention = [](bool causal, bool padded) {
    return [causal, padded](const Inputs& x) {
      const int64_t n_k = x[1].size(2);
      std::vector<float> pad(2 * n_k, 0.0f);
      if (padded) pad[n_k + 1] = pad[2 * n_k - 1] = 1.0f;  // sample 1: keys 1 and n_k - 1
      return ta::fused_attention(x[0], x[1], x[2], 0.7f, causality_if(causal), Tensor::from_vector(pad, Shape{2, n_k}));
    };
  };
  auto qkv = [](int64_t n_q, int64_t n_k) {
    return std::vector<In>{normal({2, 2, n_q, 3}), normal({2, 2, n_k, 3}), normal({2, 2, n_k, 3})};
  };
  t.push_back({"fused_attention", "bidirectional, n 5", attention(false, false), qkv(5, 5)});
  t.push_back({"fused_attention", "causal, n 5", attention(true, false), qkv(5, 5)});
  t.push_back({"fused_attention", "causal, 3 queries after 7 keys", attention(true, false), qkv(3, 7)});
  t.push_back({"fused_attention", "bidirectional, padded keys", attention(false, true), qkv(4, 6)});
  t.push_back({"fused_attention", "causal, padded keys", attention(true, true), qkv(6, 6)});
}

// scale_offset(z, gamma, beta) and flash_attention(qk, v, options, rel_bias, mask):
// FLASH's kernels with hand-written backwards. Chunks of 3 over 7 positions (a short
// last chunk), causal and bidirectional, both scalings, the bias table, padded keys,
// and the quadratic-only form (FLASH-Quad).
void add_flash_cases(std::vector<GradCase>& t) {
  auto so = [](const Inputs& x) { return ta::scale_offset(x[0], x[1], x[2]); };
  t.push_back({"scale_offset", "z [2,3,4], 4 planes", so, {normal({2, 3, 4}), normal({4, 4}), normal({4, 4})}});
  t.push_back({"scale_offset", "z [5,2], 2 planes", so, {normal({5, 2}), normal({2, 2}), normal({2, 2})}});
  auto flash = [](int64_t chunk, bool causal, ta::FlashScaling scaling, bool padded) {
    return [=](const Inputs& x) {
      ta::FlashOptions o;
      o.chunk = chunk;
      o.causal = causal;
      o.scaling = scaling;
      o.score_scale = 0.6f;
      o.lin_scale = 0.3f;
      const int64_t n = x[0].size(2);
      std::vector<float> pad(2 * n, 0.0f);
      if (padded) pad[n + 1] = pad[2 * n - 1] = 1.0f;  // sample 1: positions 1 and n - 1
      return ta::flash_attention(x[0], x[1], o, x.size() > 2 ? x[2] : Tensor(),
                                 Tensor::from_vector(pad, Shape{2, n}));
    };
  };
  using S = ta::FlashScaling;
  // Queries and keys around 0.3, so the relu is active for most scores.
  auto in = [](int64_t planes, int64_t bias) {
    std::vector<In> v = {normal({planes, 2, 7, 3}, 0.3f), normal({2, 7, 4})};
    if (bias > 0) v.push_back(normal({2 * bias - 1}, 0.0f, 0.5f));
    return v;
  };
  t.push_back({"flash_attention", "causal chunks of 3, bias", flash(3, true, S::RowCount, false), in(4, 3)});
  t.push_back({"flash_attention", "bidirectional chunks of 3, padded", flash(3, false, S::RowCount, true), in(4, 4)});
  t.push_back({"flash_attention", "causal, Length scaling, padded", flash(3, true, S::Length, true), in(4, 0)});
  t.push_back({"flash_attention", "quadratic only (FLASH-Quad), bias", flash(0, true, S::RowCount, false), in(2, 7)});
  t.push_back({"flash_attention", "quadratic only, bidirectional", flash(0, false, S::Length, true), in(2, 7)});
}

// block_sparse_attention(q, k, v, layout, scale, mask): the block-sparse kernel's
// hand-written backward. Layouts from attention/sparse_layout.h with blocks of 2, so
// that every case has partial blocks and parts in reordered positions (strided A2
// grouped by residue, fixed A2 summaries first): causal and not, heads split between
// the factors, queries continuing a cache, padded keys.
void add_sparse_cases(std::vector<GradCase>& t) {
  using ta::SparseCombine;
  auto sparse = [](std::vector<ta::SparsePattern> patterns, bool padded) {
    return [patterns, padded](const Inputs& x) {
      const int64_t n_q = x[0].size(2), n_k = x[1].size(2);
      std::vector<float> pad(2 * n_k, 0.0f);
      if (padded) pad[n_k + 1] = pad[2 * n_k - 2] = 1.0f;  // sample 1: keys 1 and n_k - 2
      return ta::block_sparse_attention(x[0], x[1], x[2], ta::build_block_layout(patterns, n_q, n_k, 2), 0.7f,
                                        Tensor::from_vector(pad, Shape{2, n_k}));
    };
  };
  auto qkv = [](int64_t n_q, int64_t n_k) {
    return std::vector<In>{normal({2, 2, n_q, 3}), normal({2, 2, n_k, 3}), normal({2, 2, n_k, 3})};
  };
  t.push_back({"block_sparse_attention", "strided l 2, causal, n 7",
               sparse({ta::strided_pattern(2, Causality::Causal)}, false), qkv(7, 7)});
  t.push_back({"block_sparse_attention", "fixed l 3 c 1, bidirectional, padded",
               sparse({ta::fixed_pattern(3, 1, Causality::Bidirectional)}, true), qkv(7, 7)});
  t.push_back(
      {"block_sparse_attention", "strided l 3, split heads, 3 queries after 5 keys",
       sparse(ta::combine_factors(ta::strided_pattern(3, Causality::Causal), SparseCombine::SplitHeads, 0), false),
       qkv(3, 8)});
  t.push_back({"block_sparse_attention", "fixed l 2 c 1, causal, padded",
               sparse({ta::fixed_pattern(2, 1, Causality::Causal)}, true), qkv(6, 6)});
}

// favor_causal_attention(q, k, v, w, scale, kernel, mask): the chunked kernel's
// hand-written backward (forward sweep for dq, reverse sweep for dk, dv), with
// more keys than queries, padded keys, more than one chunk (64 tokens), and the
// ReLU kernel (a smaller step: relu has kinks).
void add_performer_cases(std::vector<GradCase>& t) {
  auto favor = [](ta::FavorKernel kernel, bool padded) {
    return [kernel, padded](const Inputs& x) {
      const int64_t batch = x[1].size(0), n_k = x[1].size(2);
      ta::Generator g(7);
      Tensor w = Tensor::normal(Shape{8, x[0].size(3)}, 0.0f, 1.0f, g);  // m = 8 features
      std::vector<float> pad(batch * n_k, 0.0f);
      if (padded) pad[n_k + 1] = pad[2 * n_k - 1] = 1.0f;  // sample 1: keys 1 and n_k - 1
      return ta::favor_causal_attention(x[0], x[1], x[2], w, 0.7f, kernel,
                                        padded ? Tensor::from_vector(pad, Shape{batch, n_k}) : Tensor());
    };
  };
  auto qkv = [](int64_t n_q, int64_t n_k) {
    return std::vector<In>{normal({2, 2, n_q, 3}), normal({2, 2, n_k, 3}), normal({2, 2, n_k, 3})};
  };
  const auto softmax = ta::FavorKernel::Softmax;
  t.push_back({"favor_causal_attention", "n 5", favor(softmax, false), qkv(5, 5)});
  t.push_back({"favor_causal_attention", "3 queries after 7 keys", favor(softmax, false), qkv(3, 7)});
  t.push_back({"favor_causal_attention", "padded keys", favor(softmax, true), qkv(6, 6)});
  t.push_back({"favor_causal_attention", "n 70: two chunks and the state between them", favor(softmax, false),
               {normal({1, 1, 70, 3}), normal({1, 1, 70, 3}), normal({1, 1, 70, 3})}});
  t.push_back({"favor_causal_attention", "70 keys before 2 queries: key-only chunks", favor(softmax, false),
               {normal({1, 1, 2, 3}), normal({1, 1, 72, 3}), normal({1, 1, 72, 3})}});
  GradCase relu{"favor_causal_attention", "ReLU kernel, padded keys", favor(ta::FavorKernel::Relu, true), qkv(6, 6)};
  relu.options.eps = 1e-3f;  // relu's kinks: keep the finite differences on one side of them
  t.push_back(relu);
}

}  // namespace ta::grad_table
