// tests/cuda/test_non_finite_kernels.cpp — the fused attention kernels of both backends
// (the CPU's, and the CUDA ones under the SIMT emulation) keep a NaN or inf away from
// the rows that may not see it: with NaN and +-inf in the queries, keys and values of
// the positions a row may not see (later positions, causally; padded keys), and the
// output gradient 0 for the rows that do see them, every other output row and every
// input gradient is bit for bit what finite values there give. Exact softmax,
// block-sparse, FLASH and FAVOR+; tiles below, across and above the kernels' sizes.
// (The attention variants built on them are held to the same through the conformance
// suite's "non-finite" check.)
#include "tests/cuda/fused_testing.h"

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "attention/sparse_layout.h"
#include "core/cuda/attention/kernels/block_sparse.cuh"
#include "core/cuda/attention/kernels/dense.cuh"
#include "core/cuda/attention/kernels/flash.cuh"
#include "core/cuda/attention/kernels/performer.cuh"

using namespace ta;
using namespace ta::testing;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN(), kInf = std::numeric_limits<float>::infinity();

// Which positions of each batch element hold a non-finite value, which output rows
// are compared (those that may see none of them; the others get output gradient 0),
// and the key padding (empty: none). All [batch * n].
struct Hidden {
  std::string name;
  int64_t batch, n;
  std::vector<char> bad, compared;
  std::vector<float> pad;
  const float* key_pad() const { return pad.empty() ? nullptr : pad.data(); }
};

// Causal: NaN at position p of every batch element and +-inf at the last; the rows
// before p are compared.
Hidden future(int64_t batch, int64_t n, int64_t p) {
  Hidden h{"NaN at " + std::to_string(p) + " and +-inf at the end, causal", batch, n,
           std::vector<char>(batch * n, 0), std::vector<char>(batch * n, 0), {}};
  for (int64_t b = 0; b < batch; ++b) {
    h.bad[b * n + p] = h.bad[b * n + n - 1] = 1;
    for (int64_t i = 0; i < p; ++i) h.compared[b * n + i] = 1;
  }
  return h;
}

// The last batch element padded at `positions`, which hold NaN or +-inf; every other
// row is compared.
Hidden padded(int64_t batch, int64_t n, const std::vector<int64_t>& positions) {
  Hidden h{"NaN and +-inf at padded positions", batch, n, std::vector<char>(batch * n, 0),
           std::vector<char>(batch * n, 1), std::vector<float>(batch * n, 0.0f)};
  for (int64_t p : positions) {
    const int64_t i = (batch - 1) * n + p;
    h.bad[i] = 1;
    h.compared[i] = 0;
    h.pad[i] = 1.0f;
  }
  return h;
}

// Rows [rows_per * batch * n, width] in the order [.., batch, (heads,) n]: row r belongs
// to batch element (r / (n * heads)) % batch, position r % n. In place:
// the rows of bad positions get NaN (the first of a batch element) or -inf and +inf
// in alternate channels (the others).
void poison(std::vector<float>& x, const Hidden& h, int64_t heads, int64_t width) {
  const int64_t rows = static_cast<int64_t>(x.size()) / width;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t b = (r / (h.n * heads)) % h.batch, p = r % h.n;
    if (!h.bad[b * h.n + p]) continue;
    int64_t earlier = 0;
    for (int64_t j = 0; j < p; ++j) earlier += h.bad[b * h.n + j];
    for (int64_t c = 0; c < width; ++c) x[r * width + c] = earlier == 0 ? kNaN : (c % 2 == 0 ? -kInf : kInf);
  }
}

// The rows of x (as in poison) that are not compared set to 0: their output gradient.
std::vector<float> silenced(std::vector<float> x, const Hidden& h, int64_t heads, int64_t width) {
  for (int64_t r = 0; r < static_cast<int64_t>(x.size()) / width; ++r)
    if (!h.compared[((r / (h.n * heads)) % h.batch) * h.n + r % h.n])
      std::fill(x.begin() + r * width, x.begin() + (r + 1) * width, 0.0f);
  return x;
}

// "" when got equals want bit for bit (up to the sign of zero) in every compared row
// (all rows with compared_only false), else the first difference.
std::string difference(const std::vector<float>& got, const std::vector<float>& want, const Hidden& h, int64_t heads,
                       int64_t width, bool compared_only) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const int64_t r = static_cast<int64_t>(i) / width;
    if (compared_only && !h.compared[((r / (h.n * heads)) % h.batch) * h.n + r % h.n]) continue;
    if (!(got[i] == want[i]))
      return "row " + std::to_string(r) + " channel " + std::to_string(i % width) + ": " + std::to_string(got[i]) +
             " with the non-finite values, " + std::to_string(want[i]) + " without";
  }
  return "";
}

// What one run gives: output-like tensors (compared in the compared rows) and gradients
// (compared everywhere), each with its row width and heads per batch element.
struct Tensors {
  struct Entry {
    const char* name;
    std::vector<float> values;
    int64_t heads, width;
  };
  std::vector<Entry> outputs, gradients;
};

// Runs `run(poisoned)` without and with the non-finite values and compares.
void check_isolation(const std::string& kernel, const Hidden& h, const std::function<Tensors(bool)>& run) {
  CAPTURE(kernel);
  CAPTURE(h.name);
  const Tensors clean = run(false), bad = run(true);
  for (size_t t = 0; t < clean.outputs.size(); ++t) {
    const auto& e = clean.outputs[t];
    CAPTURE(e.name);
    CHECK(difference(bad.outputs[t].values, e.values, h, e.heads, e.width, true) == "");
  }
  for (size_t t = 0; t < clean.gradients.size(); ++t) {
    const auto& e = clean.gradients[t];
    CAPTURE(e.name);
    CHECK(difference(bad.gradients[t].values, e.values, h, e.heads, e.width, false) == "");
  }
}

// ---- exact softmax, dense and block-sparse ---------------------------------------------

enum class Kernels { Cpu, CudaEmulated };
const char* kernels_name(Kernels k) { return k == Kernels::Cpu ? "cpu" : "cuda (emulated)"; }

struct Qkv {
  std::vector<float> q, k, v, d_o;
};

// q, k, v, dO [batch * heads, n, d] from a seed, poisoned or not; dO silenced.
Qkv qkv(const Hidden& h, int64_t heads, int64_t d, bool poisoned) {
  const int64_t size = h.batch * heads * h.n * d;
  Qkv x{uniform_values(size, 1), uniform_values(size, 2), uniform_values(size, 3),
        silenced(uniform_values(size, 4), h, heads, d)};
  if (poisoned)
    for (auto* t : {&x.q, &x.k, &x.v}) poison(*t, h, heads, d);
  return x;
}

// Exact softmax attention, dense (layout null; causal as given) or block-sparse.
Tensors softmax_run(Kernels kernels, const Hidden& h, int64_t heads, int64_t d, bool causal,
                    const BlockSparseLayout* layout, bool poisoned) {
  const Qkv x = qkv(h, heads, d, poisoned);
  const int64_t bh = h.batch * heads, size = bh * h.n * d;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<float> o(size), lse(bh * h.n), dq(size), dk(size), dv(size);
  Backend& cpu = cpu_backend();
  if (kernels == Kernels::Cpu && !layout) {
    cpu.attention_forward(x.q.data(), x.k.data(), x.v.data(), o.data(), lse.data(), bh, heads, h.n, h.n, d, scale,
                          causality_if(causal), h.key_pad());
    cpu.attention_backward(x.q.data(), x.k.data(), x.v.data(), o.data(), lse.data(), x.d_o.data(), dq.data(), dk.data(),
                           dv.data(), bh, heads, h.n, h.n, d, scale, causality_if(causal), h.key_pad());
  } else if (kernels == Kernels::Cpu) {
    cpu.block_sparse_attention_forward(x.q.data(), x.k.data(), x.v.data(), o.data(), lse.data(), bh, heads, h.n, h.n,
                                       d, scale, *layout, h.key_pad());
    cpu.block_sparse_attention_backward(x.q.data(), x.k.data(), x.v.data(), o.data(), lse.data(), x.d_o.data(),
                                        dq.data(), dk.data(), dv.data(), bh, heads, h.n, h.n, d, scale, *layout,
                                        h.key_pad());
  } else {
    const cuda_kernels::AttentionInputs in{x.q.data(), x.k.data(), x.v.data(), h.key_pad(), bh, heads, h.n, h.n, d,
                                           scale, causal && !layout};
    const EmulatedLaunch launch{8};
    if (!layout) {
      cuda_kernels::attention_forward(launch, in, o.data(), lse.data());
      cuda_kernels::attention_backward(launch, in, o.data(), lse.data(), x.d_o.data(), dq.data(), dk.data(), dv.data());
    } else {
      cuda_kernels::block_sparse_attention_forward(launch, cpu, in, *layout, o.data(), lse.data());
      cuda_kernels::block_sparse_attention_backward(launch, cpu, in, *layout, o.data(), lse.data(), x.d_o.data(),
                                                    dq.data(), dk.data(), dv.data());
    }
  }
  return {{{"o", o, heads, d}, {"lse", lse, heads, 1}},
          {{"dq", dq, heads, d}, {"dk", dk, heads, d}, {"dv", dv, heads, d}}};
}

}  // namespace

TEST_CASE("non-finite inputs: fused softmax attention keeps them from the rows that may not see them") {
  const int64_t heads = 2;
  for (Kernels kernels : {Kernels::Cpu, Kernels::CudaEmulated})
    for (int64_t d : {8, 64}) {  // CUDA tiles of 64 and of 16 rows
      CAPTURE(d);
      for (int64_t n : {17, 150, 300})  // the CPU's tiles: 96 queries, 256 keys
        for (int64_t p : {int64_t{1}, std::min<int64_t>(n - 2, 96), n - 1}) {
          CAPTURE(n);
          const Hidden h = future(2, n, p);
          check_isolation(kernels_name(kernels), h,
                          [&](bool bad) { return softmax_run(kernels, h, heads, d, true, nullptr, bad); });
        }
      for (bool causal : {false, true}) {
        const Hidden h = padded(2, 300, {1, 63, 64, 65, 95, 96, 97, 130, 255, 256, 257, 299});
        check_isolation(kernels_name(kernels), h,
                        [&](bool bad) { return softmax_run(kernels, h, heads, d, causal, nullptr, bad); });
      }
    }
}

TEST_CASE("non-finite inputs: block-sparse attention keeps them from the rows that may not see them") {
  const int64_t heads = 2, d = 8, n = 70;
  struct Layout {
    std::vector<SparsePattern> patterns;
    int64_t block;
  };
  for (Kernels kernels : {Kernels::Cpu, Kernels::CudaEmulated}) {
    // Causal strided (a band that partly covers blocks, and every 6th), blocks of 4
    // and 16; the NaN inside a block, at its start, and at the end.
    for (const Layout& l :
         {Layout{{strided_pattern(6, Causality::Causal)}, 4}, Layout{{strided_pattern(6, Causality::Causal)}, 16},
          Layout{combine_factors(fixed_pattern(8, 2, Causality::Causal), SparseCombine::SplitHeads, 0), 16}}) {
      const auto layout = build_block_layout(l.patterns, n, n, l.block);
      for (int64_t p : {int64_t{5}, int64_t{16}, n - 1}) {
        const Hidden h = future(2, n, p);
        check_isolation(kernels_name(kernels), h,
                        [&](bool bad) { return softmax_run(kernels, h, heads, d, true, layout.get(), bad); });
      }
      const Hidden h = padded(2, n, {1, 15, 16, 40, 69});
      check_isolation(kernels_name(kernels), h,
                      [&](bool bad) { return softmax_run(kernels, h, heads, d, true, layout.get(), bad); });
    }
    const auto bidirectional = build_block_layout({strided_pattern(10, Causality::Bidirectional)}, n, n, 8);
    const Hidden h = padded(2, n, {0, 7, 8, 50, 69});
    check_isolation(kernels_name(kernels), h,
                    [&](bool bad) { return softmax_run(kernels, h, heads, d, false, bidirectional.get(), bad); });
  }
}

namespace {

// The outputs o [batch * heads, n, d] of exact softmax attention, dense and causal
// (layout null) or block-sparse, with `value` added to (or, when not finite, put in)
// every channel of the values at position p of every batch element and head.
std::vector<float> softmax_outputs(Kernels kernels, const BlockSparseLayout* layout, int64_t batch, int64_t heads,
                                   int64_t n, int64_t d, int64_t p, float value) {
  const int64_t bh = batch * heads, size = bh * n * d;
  const std::vector<float> q = uniform_values(size, 1), k = uniform_values(size, 2);
  std::vector<float> v = uniform_values(size, 3), o(size), lse(bh * n);
  for (int64_t r = 0; r < bh; ++r)
    for (int64_t c = 0; c < d; ++c) {
      float& x = v[(r * n + p) * d + c];
      x = std::isfinite(value) ? x + value : value;
    }
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  if (kernels == Kernels::Cpu && !layout)
    cpu_backend().attention_forward(q.data(), k.data(), v.data(), o.data(), lse.data(), bh, heads, n, n, d, scale,
                                    Causality::Causal, nullptr);
  else if (kernels == Kernels::Cpu)
    cpu_backend().block_sparse_attention_forward(q.data(), k.data(), v.data(), o.data(), lse.data(), bh, heads, n, n,
                                                 d, scale, *layout, nullptr);
  else if (!layout)
    cuda_kernels::attention_forward(EmulatedLaunch{8},
                                    {q.data(), k.data(), v.data(), nullptr, bh, heads, n, n, d, scale, true}, o.data(),
                                    lse.data());
  else
    cuda_kernels::block_sparse_attention_forward(
        EmulatedLaunch{8}, cpu_backend(), {q.data(), k.data(), v.data(), nullptr, bh, heads, n, n, d, scale, false},
        *layout, o.data(), lse.data());
  return o;
}

}  // namespace

// The other side of the isolation above: the rows that may see a value (those whose
// output moves when it moves) come out NaN or inf when it is NaN or inf, as IEEE
// arithmetic has it; the block-sparse CPU kernel reads such a value as 0 in its
// products and marks those rows instead, so that this is a check of the marking.
TEST_CASE("non-finite inputs: the rows that see a NaN or inf value come out non-finite, and only those") {
  const int64_t batch = 2, heads = 2, d = 8, n = 70;
  const auto strided4 = build_block_layout({strided_pattern(6, Causality::Causal)}, n, n, 4);
  const auto strided16 = build_block_layout({strided_pattern(6, Causality::Causal)}, n, n, 16);
  const auto fixed = build_block_layout(
      combine_factors(fixed_pattern(8, 2, Causality::Causal), SparseCombine::SplitHeads, 0), n, n, 16);
  for (Kernels kernels : {Kernels::Cpu, Kernels::CudaEmulated})
    for (const BlockSparseLayout* layout : {static_cast<const BlockSparseLayout*>(nullptr), strided4.get(),
                                            strided16.get(), fixed.get()})
      for (int64_t p : {int64_t{5}, int64_t{16}, n - 1})
        for (float bad : {kNaN, kInf}) {
          const std::string name = kernels_name(kernels);
          CAPTURE(name);
          CAPTURE(p);
          CAPTURE(bad);
          const std::vector<float> base = softmax_outputs(kernels, layout, batch, heads, n, d, p, 0.0f),
                                   moved = softmax_outputs(kernels, layout, batch, heads, n, d, p, 0.5f),
                                   poisoned = softmax_outputs(kernels, layout, batch, heads, n, d, p, bad);
          int64_t seeing = 0;
          for (int64_t r = 0; r < batch * heads * n; ++r) {
            bool sees = false;
            for (int64_t c = 0; c < d; ++c) sees = sees || moved[r * d + c] != base[r * d + c];
            seeing += sees;
            CAPTURE(r);
            for (int64_t c = 0; c < d; ++c)
              REQUIRE((sees ? !std::isfinite(poisoned[r * d + c]) : poisoned[r * d + c] == base[r * d + c]));
          }
          CHECK(seeing >= batch);  // not vacuous: the position sees itself in some head
        }
}

namespace {

// ---- FLASH ------------------------------------------------------------------------------

Tensors flash_run(Kernels kernels, const Hidden& h, const FlashDims& dims, const FlashOptions& options, bool poisoned) {
  const int64_t planes = dims.linear ? 4 : 2, qk_size = planes * dims.batch * dims.n * dims.s,
                v_size = dims.batch * dims.n * dims.e, bias_size = 2 * dims.bias_len - 1;
  const int64_t c = options.chunk_length(dims.n), slots = options.causal ? (dims.n + c - 1) / c : 1;
  const int64_t state_size = dims.batch * slots * dims.s * dims.e;
  std::vector<float> qk = uniform_values(qk_size, 5, -0.7f, 0.7f), v = uniform_values(v_size, 6);
  const std::vector<float> d_out = silenced(uniform_values(v_size, 7), h, 1, dims.e),
                           bias = uniform_values(bias_size, 8, -0.5f, 0.5f);
  if (poisoned) {
    poison(qk, h, 1, dims.s);  // every plane: rows [planes, batch, n]
    poison(v, h, 1, dims.e);
  }
  std::vector<float> out(v_size), state(state_size), dqk(qk_size), dv(v_size), dbias(bias_size);
  if (kernels == Kernels::Cpu) {
    Backend& cpu = cpu_backend();
    cpu.flash_forward(dims, options, qk.data(), v.data(), bias.data(), h.key_pad(), out.data(), state.data());
    cpu.flash_backward(dims, options, qk.data(), v.data(), bias.data(), h.key_pad(), state.data(), d_out.data(),
                       dqk.data(), dv.data(), dbias.data());
  } else {
    const EmulatedLaunch launch{8};
    cuda_kernels::flash_forward(launch, cpu_backend(), dims, options, qk.data(), v.data(), bias.data(), h.key_pad(),
                                out.data(), state.data());
    cuda_kernels::flash_backward(launch, cpu_backend(), dims, options, qk.data(), v.data(), bias.data(), h.key_pad(),
                                 state.data(), d_out.data(), dqk.data(), dv.data(), dbias.data());
  }
  return {{{"out", out, 1, dims.e}},
          {{"dqk", dqk, 1, dims.s}, {"dv", dv, 1, dims.e}, {"drel_bias", dbias, 1, bias_size}}};
}

FlashOptions flash_options(int64_t chunk, bool causal) {
  FlashOptions o;
  o.chunk = chunk;
  o.causal = causal;
  o.score_scale = 0.25f;
  return o;
}

}  // namespace

TEST_CASE("non-finite inputs: FLASH attention keeps them from the rows that may not see them") {
  for (Kernels kernels : {Kernels::Cpu, Kernels::CudaEmulated})
    for (bool linear : {true, false}) {
      // Chunks of 6 (many, the last one short); one chunk of 70 (FLASH-Quad, across the
      // CPU's tiles of 64 rows), with s = 128 for the CUDA tiles of 16 rows too.
      struct Shape {
        int64_t chunk, s;
      };
      for (const Shape& shape : {Shape{6, 8}, Shape{0, 8}, Shape{0, 128}}) {
        if (!linear && shape.chunk == 0) continue;  // one chunk has no linear part anyway
        const int64_t chunk = shape.chunk;
        const FlashDims dims{2, 70, shape.s, 16, linear, 70};
        for (int64_t p : {int64_t{6}, int64_t{33}, int64_t{64}}) {
          const Hidden h = future(2, 70, p);
          check_isolation(kernels_name(kernels), h,
                          [&](bool bad) { return flash_run(kernels, h, dims, flash_options(chunk, true), bad); });
        }
        for (bool causal : {false, true}) {
          const Hidden h = padded(2, 70, {0, 5, 6, 40, 64, 69});
          check_isolation(kernels_name(kernels), h,
                          [&](bool bad) { return flash_run(kernels, h, dims, flash_options(chunk, causal), bad); });
        }
      }
    }
}

namespace {

// ---- FAVOR+ -----------------------------------------------------------------------------

Tensors favor_run(Kernels kernels, const Hidden& h, int64_t heads, FavorKernel kernel, bool poisoned) {
  const int64_t d = 8, m = 16, bh = h.batch * heads, size = bh * h.n * d;
  const Qkv x = qkv(h, heads, d, poisoned);
  const std::vector<float> w = uniform_values(m * d, 9, -1.0f, 1.0f);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<float> o(size), den(bh * h.n), kmax(bh * h.n), dq(size), dk(size), dv(size);
  if (kernels == Kernels::Cpu) {
    Backend& cpu = cpu_backend();
    cpu.favor_causal_forward(x.q.data(), x.k.data(), x.v.data(), w.data(), o.data(), den.data(), kmax.data(), bh, heads,
                             h.n, h.n, d, m, scale, kernel, h.key_pad());
    cpu.favor_causal_backward(x.q.data(), x.k.data(), x.v.data(), w.data(), o.data(), den.data(), kmax.data(),
                              x.d_o.data(), dq.data(), dk.data(), dv.data(), bh, heads, h.n, h.n, d, m, scale, kernel,
                              h.key_pad());
  } else {
    const cuda_kernels::FavorInputs in{x.q.data(), x.k.data(), x.v.data(), w.data(), h.key_pad(), bh, heads, h.n,
                                       h.n,        d,          m,          scale,    kernel == FavorKernel::Relu};
    const EmulatedLaunch launch{8};
    cuda_kernels::favor_causal_forward(launch, cpu_backend(), in, o.data(), den.data(), kmax.data());
    cuda_kernels::favor_causal_backward(launch, cpu_backend(), in, o.data(), den.data(), kmax.data(), x.d_o.data(),
                                        dq.data(), dk.data(), dv.data());
  }
  return {{{"o", o, heads, d}, {"den", den, heads, 1}},
          {{"dq", dq, heads, d}, {"dk", dk, heads, d}, {"dv", dv, heads, d}}};
}

}  // namespace

TEST_CASE("non-finite inputs: causal FAVOR+ keeps them from the rows that may not see them") {
  const int64_t heads = 2, n = 150;  // chunks of 64
  for (Kernels kernels : {Kernels::Cpu, Kernels::CudaEmulated})
    for (FavorKernel kernel : {FavorKernel::Softmax, FavorKernel::Relu}) {
      for (int64_t p : {int64_t{33}, int64_t{64}, n - 1}) {
        const Hidden h = future(2, n, p);
        check_isolation(kernels_name(kernels), h, [&](bool bad) { return favor_run(kernels, h, heads, kernel, bad); });
      }
      const Hidden h = padded(2, n, {1, 63, 64, 65, 149});
      check_isolation(kernels_name(kernels), h, [&](bool bad) { return favor_run(kernels, h, heads, kernel, bad); });
    }
}
