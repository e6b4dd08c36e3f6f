// tests/attention/test_flash.cpp — the method-specific tests of FLASH (attention/gau.h,
// attention/flash_attention.h, core/cpu/attention/flash.cpp), beyond the conformance suite
// (which runs "flash" and "flash-quad" at the default chunk of 256, so every length
// there fits in one chunk; the chunk boundaries are tested here with small chunks):
//   - the fused kernel equals the reference built from autograd ops, forward and
//     gradients, over chunkings with and without a tail, both modes, both scalings,
//     bias, padding, FLASH-Quad longer than the kernel's blocks;
//   - FLASH with one chunk covering the sequence and no global part equals FLASH-Quad;
//   - no future leak, bit for bit, at every position of a chunk, at the chunk
//     boundaries and in the short last chunk, for both implementations and the layer;
//   - padded keys contribute to neither part;
//   - decoding equals the full pass with several chunks, RoPE, both scalings;
//   - gradients of the scale-offsets and of the relative-bias weights (gradcheck);
//   - RowCount, bidirectional and unpadded, is the paper's 1/n;
//   - a small FLASH language model learns, and decodes as it computes.
#include <doctest/doctest.h>

#include "tests/attention/core_testing.h"
#include "tests/testing.h"

#include <cmath>
#include <string>
#include <vector>

#include "attention/flash_attention.h"
#include "attention/gau.h"
#include "attention/registry.h"
#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "layers/transformer.h"
#include "optim/adam.h"

using namespace ta;

namespace {

using testing::input;

// max |a - b| / max |b|, the scale floored at 1e-3.
float relative_error(const Tensor& a, const Tensor& b) { return testing::relative_error(a, b, 1e-3f); }

struct Inputs {
  Tensor qk, v, bias, grad_out;
};

// Queries and keys around 0.3 (so the relu is active for about 60% of the scores),
// values and biases N(0, 1) and N(0, 0.5). bias_len 0: no bias table.
Inputs make_inputs(int64_t planes, int64_t batch, int64_t n, int64_t s, int64_t e, int64_t bias_len, uint64_t seed) {
  Generator g(seed);
  Inputs in;
  in.qk = Tensor::normal(Shape{planes, batch, n, s}, 0.3f, 1.0f, g).set_requires_grad();
  in.v = Tensor::normal(Shape{batch, n, e}, 0.0f, 1.0f, g).set_requires_grad();
  if (bias_len > 0) in.bias = Tensor::normal(Shape{2 * bias_len - 1}, 0.0f, 0.5f, g).set_requires_grad();
  in.grad_out = Tensor::normal(Shape{batch, n, e}, 0.0f, 1.0f, g);
  return in;
}

struct Result {
  Tensor out, dqk, dv, dbias;
};

Result run(bool fused, const Inputs& in, const FlashOptions& o, const Tensor& mask) {
  for (Tensor t : {in.qk, in.v, in.bias})
    if (t.defined()) t.zero_grad();
  Tensor out = fused ? flash_attention(in.qk, in.v, o, in.bias, mask)
                     : flash_attention_reference(in.qk, in.v, o, in.bias, mask);
  backward(out, in.grad_out);
  return {out, in.qk.grad(), in.v.grad(), in.bias.defined() ? in.bias.grad() : Tensor()};
}

FlashOptions options(int64_t chunk, bool causal, FlashScaling scaling, int64_t s) {
  FlashOptions o;
  o.chunk = chunk;
  o.causal = causal;
  o.scaling = scaling;
  o.score_scale = scaling == FlashScaling::RowCount ? 1.0f / std::sqrt(static_cast<float>(s)) : 0.25f;
  o.lin_scale = scaling == FlashScaling::RowCount ? 1.0f : 0.125f;
  return o;
}

// [batch, n] with 1 at the given positions of the last sample.
Tensor padding(int64_t batch, int64_t n, const std::vector<int64_t>& padded) {
  std::vector<float> m(batch * n, 0.0f);
  for (int64_t j : padded) m[(batch - 1) * n + j] = 1.0f;
  return Tensor::from_vector(m, Shape{batch, n});
}

// Rows [0, to) of y [batch, n, e] for sample b.
std::vector<float> rows(const Tensor& y, int64_t b, int64_t to) {
  return narrow(narrow(y, 0, b, 1), 1, 0, to).to_vector();
}

// x [..., n, d] (n on axis `axis`) with position `pos` replaced by fresh values.
Tensor perturb(const Tensor& x, int axis, int64_t pos, uint64_t seed) {
  std::vector<float> v = x.to_vector();
  const Shape& sh = x.shape();
  int64_t inner = 1, outer = 1;
  for (int d = axis + 1; d < sh.ndim(); ++d) inner *= sh[d];
  for (int d = 0; d < axis; ++d) outer *= sh[d];
  Generator g(seed);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < inner; ++k) v[(o * sh[axis] + pos) * inner + k] = 2.0f * g.next_uniform() - 0.5f;
  return Tensor::from_vector(v, sh);
}

GatedAttentionUnit::Options gau_options(int64_t chunk, bool causal) {
  GatedAttentionUnit::Options o;
  o.d_model = 8;
  o.s = 16;
  o.expansion = 12;
  o.chunk = chunk;
  o.causal = causal;
  o.init_std = 0.4f;  // larger than training's 0.02, so the attention weights matter
  return o;
}

}  // namespace

TEST_CASE("flash: the fused kernel equals the reference, forward and gradients") {
  struct Case {
    int64_t planes, n, chunk;
    bool causal;
    FlashScaling scaling;
    int64_t bias_len;  // 0: none; else at least the chunk length
    bool padded;
  };
  const FlashScaling R = FlashScaling::RowCount, Len = FlashScaling::Length;
  const Case cases[] = {
      {4, 10, 4, true, R, 4, false},      // two full chunks and a short one
      {4, 10, 4, false, R, 6, true},      // bidirectional, padded, a longer bias table
      {4, 16, 8, true, Len, 0, true},     // n a multiple of c
      {4, 5, 256, true, R, 5, false},     // n below the chunk: one chunk
      {4, 9, 256, false, Len, 9, false},  // one chunk, bidirectional: the linear part sums it
      {2, 13, 0, true, R, 13, false},     // FLASH-Quad
      {2, 13, 0, false, Len, 13, true},   // FLASH-Quad bidirectional, padded
      {2, 10, 4, true, R, 4, true},       // chunks without a global part
      {4, 300, 128, true, R, 128, true},  // several query and key tiles per chunk, a tail of 44
      {4, 300, 128, false, Len, 128, false},
      {2, 300, 0, true, R, 300, true},    // FLASH-Quad longer than the kernel's blocks
      {2, 300, 0, false, R, 300, false},
      {4, 600, 256, true, Len, 0, false},  // the benchmark's setting at a small s
  };
  for (const Case& c : cases) {
    CAPTURE(c.planes);
    CAPTURE(c.n);
    CAPTURE(c.chunk);
    CAPTURE(c.causal);
    CAPTURE(c.padded);
    const int64_t s = 8, e = 12;
    Inputs in = make_inputs(c.planes, 2, c.n, s, e, c.bias_len, 100 + c.n + c.chunk);
    Tensor mask = c.padded ? padding(2, c.n, {0, 3, c.n / 2, c.n - 1}) : Tensor();
    const FlashOptions o = options(c.chunk, c.causal, c.scaling, s);
    Result r = run(false, in, o, mask), f = run(true, in, o, mask);
    CHECK(relative_error(f.out, r.out) < 1e-5f);
    CHECK(relative_error(f.dqk, r.dqk) < 1e-5f);
    CHECK(relative_error(f.dv, r.dv) < 1e-5f);
    if (c.bias_len > 0) CHECK(relative_error(f.dbias, r.dbias) < 1e-5f);
  }
}

TEST_CASE("flash: one chunk covering the sequence without a global part equals FLASH-Quad") {
  const int64_t n = 23, s = 8, e = 12;
  SUBCASE("kernel: causal, the four-plane FLASH with one chunk has no linear part") {
    Inputs in = make_inputs(4, 2, n, s, e, 32, 5);
    FlashOptions one_chunk = options(32, true, FlashScaling::RowCount, s), quad = one_chunk;
    quad.chunk = 0;
    Tensor a = flash_attention(in.qk, in.v, one_chunk, in.bias);
    Tensor b = flash_attention(narrow(in.qk, 0, 0, 2), in.v, quad, narrow(in.bias, 0, 32 - n, 2 * n - 1));
    CHECK(a.to_vector() == b.to_vector());
  }
  SUBCASE("layer: the same weights give the same outputs") {
    for (bool causal : {true, false})
      for (FlashScaling scaling : {FlashScaling::RowCount, FlashScaling::Length}) {
        CAPTURE(causal);
        GatedAttentionUnit::Options chunked = gau_options(32, causal), quad = gau_options(0, causal);
        chunked.linear = false;
        chunked.scaling = quad.scaling = scaling;
        quad.scaling_length = 32;  // Length: both scale by 1/32
        Generator g1(7), g2(7);
        GatedAttentionUnit a(chunked, g1), b(quad, g2);
        Tensor x = input(2, n, 8, 3);
        CHECK(relative_error(a.forward(x), b.forward(x)) < 1e-6f);
      }
  }
}

TEST_CASE("flash: causal outputs never read later positions, to the last bit") {
  // n = 11 in chunks of 4: positions 0-3, 4-7 and the short last chunk 8-10. Every
  // position is perturbed in turn: the first in a chunk, the inner ones, the last,
  // across each boundary and inside the short chunk.
  const int64_t n = 11, s = 8, e = 12;
  for (bool fused : {true, false})
    for (FlashScaling scaling : {FlashScaling::RowCount, FlashScaling::Length})
      for (bool padded : {false, true}) {
        CAPTURE(fused);
        CAPTURE(padded);
        Inputs in = make_inputs(4, 2, n, s, e, 4, 9);
        Tensor mask = padded ? padding(2, n, {2, 5}) : Tensor();
        const FlashOptions o = options(4, true, scaling, s);
        auto f = [&](const Tensor& qk, const Tensor& v) {
          return fused ? flash_attention(qk, v, o, in.bias, mask) : flash_attention_reference(qk, v, o, in.bias, mask);
        };
        Tensor y = f(in.qk, in.v);
        for (int64_t j = 0; j < n; ++j) {
          CAPTURE(j);
          Tensor y2 = f(perturb(in.qk, 2, j, 50 + j), perturb(in.v, 1, j, 80 + j));
          for (int64_t b = 0; b < 2; ++b) CHECK(rows(y, b, j) == rows(y2, b, j));
        }
      }
  SUBCASE("the layer, with the relative bias and with RoPE") {
    for (int64_t rotary : {0, 16}) {
      GatedAttentionUnit::Options o = gau_options(4, true);
      o.rotary_dims = rotary;
      o.relative_bias = rotary == 0;
      Generator g(4);
      GatedAttentionUnit gau(o, g);
      Tensor x = input(1, n, 8, 6);
      Tensor y = gau.forward(x);
      for (int64_t j = 0; j < n; ++j) {
        CAPTURE(j);
        CHECK(rows(y, 0, j) == rows(gau.forward(perturb(x, 1, j, 200 + j)), 0, j));
      }
    }
  }
}

TEST_CASE("flash: a sequence's outputs do not change when later positions are appended") {
  // The short last chunk of the shorter sequence becomes a fuller chunk of the longer.
  Inputs in = make_inputs(4, 1, 11, 8, 12, 4, 13);
  const FlashOptions o = options(4, true, FlashScaling::RowCount, 8);
  Tensor full = flash_attention(in.qk, in.v, o, in.bias);
  for (int64_t m : {1, 4, 5, 9}) {
    CAPTURE(m);
    Tensor part = flash_attention(narrow(in.qk, 2, 0, m), narrow(in.v, 1, 0, m), o, in.bias);
    CHECK(relative_error(part, narrow(full, 1, 0, m)) < 1e-6f);
  }
}

TEST_CASE("flash: padded keys contribute to neither the quadratic nor the linear part") {
  const int64_t n = 11, s = 8, e = 12;
  for (bool causal : {true, false})
    for (bool fused : {true, false}) {
      CAPTURE(causal);
      CAPTURE(fused);
      Inputs in = make_inputs(4, 2, n, s, e, 4, 21);
      const std::vector<int64_t> padded = {2, 5, 9};
      Tensor mask = padding(2, n, padded);
      const FlashOptions o = options(4, causal, FlashScaling::RowCount, s);
      auto f = [&](const Tensor& qk, const Tensor& v) {
        return fused ? flash_attention(qk, v, o, in.bias, mask) : flash_attention_reference(qk, v, o, in.bias, mask);
      };
      Tensor qk = in.qk, v = in.v;
      for (int64_t j : padded) {
        qk = perturb(qk, 2, j, 300 + j);
        v = perturb(v, 1, j, 400 + j);
      }
      std::vector<float> a = f(in.qk, in.v).to_vector(), b = f(qk, v).to_vector();
      for (int64_t i = 0; i < n; ++i) {
        if (i == 2 || i == 5 || i == 9) continue;
        for (int64_t k = 0; k < e; ++k)
          CHECK(a[(n + i) * e + k] == doctest::Approx(b[(n + i) * e + k]).epsilon(1e-6));
      }
    }
}

TEST_CASE("flash: incremental decoding equals the full causal pass over several chunks") {
  struct Case {
    int64_t chunk;
    bool linear;
    FlashScaling scaling;
    int64_t rotary;
  };
  const Case cases[] = {{4, true, FlashScaling::RowCount, 0},
                        {4, true, FlashScaling::Length, 0},
                        {5, true, FlashScaling::RowCount, 16},
                        {4, false, FlashScaling::RowCount, 0},
                        {0, false, FlashScaling::RowCount, 0},
                        {0, false, FlashScaling::Length, 0}};
  for (const Case& c : cases) {
    CAPTURE(c.chunk);
    CAPTURE(c.linear);
    CAPTURE(c.rotary);
    GatedAttentionUnit::Options o = gau_options(c.chunk, true);
    o.linear = c.linear;
    o.scaling = c.scaling;
    o.rotary_dims = c.rotary;
    o.relative_bias = c.rotary == 0;
    o.scaling_length = 16;  // FLASH-Quad with Length scales by 1/16 in both passes
    Generator g(8);
    GatedAttentionUnit gau(o, g);
    const int64_t n = 13;
    Tensor x = input(2, n, 8, 12);
    Tensor full = gau.forward(x);
    auto state = gau.start_decoding(2);
    for (int64_t t = 0; t < n; ++t) {
      CAPTURE(t);
      CHECK(relative_error(gau.step(narrow(x, 1, t, 1), *state), narrow(full, 1, t, 1)) < 1e-5f);
    }
  }
}

TEST_CASE("flash: FLASH-Quad with Length scaling and no scaling_length refuses to decode") {
  GatedAttentionUnit::Options o = gau_options(0, true);
  o.scaling = FlashScaling::Length;
  Generator g(1);
  GatedAttentionUnit gau(o, g);
  CHECK_THROWS_WITH_AS(gau.start_decoding(1), doctest::Contains("scaling_length"), Error);
}

TEST_CASE("flash: gradients of the scale-offsets and of the relative-bias weights") {
  // z -> scale_offset(gamma, beta) -> flash_attention with a bias table gathered from
  // bucket weights, as the layer builds it: every parameter of the attention.
  const int64_t n = 7, s = 3, e = 4, chunk = 3;
  std::vector<float> ids;  // T5 buckets of the offsets -(chunk - 1) .. chunk - 1, 8 buckets
  for (int64_t d = -(chunk - 1); d <= chunk - 1; ++d)
    ids.push_back(static_cast<float>(RelativePositionBias::bucket(d, Causality::Causal, 8, 16)));
  Tensor id_tensor = Tensor::from_vector(ids, Shape{2 * chunk - 1});
  for (bool fused : {true, false}) {
    CAPTURE(fused);
    FlashOptions o = options(chunk, true, FlashScaling::RowCount, s);
    auto f = [&](const std::vector<Tensor>& x) {
      Tensor table = reshape(embedding(x[4], id_tensor), Shape{2 * chunk - 1});
      Tensor qk = scale_offset(x[0], x[2], x[3]);
      return fused ? flash_attention(qk, x[1], o, table) : flash_attention_reference(qk, x[1], o, table);
    };
    Generator g(17);
    std::vector<Tensor> inputs = {Tensor::normal(Shape{2, n, s}, 0.0f, 1.0f, g).set_requires_grad(),
                                  Tensor::normal(Shape{2, n, e}, 0.0f, 1.0f, g).set_requires_grad(),
                                  Tensor::normal(Shape{4, s}, 0.5f, 0.5f, g).set_requires_grad(),
                                  Tensor::normal(Shape{4, s}, 0.2f, 0.3f, g).set_requires_grad(),
                                  Tensor::normal(Shape{8, 1}, 0.0f, 0.5f, g).set_requires_grad()};
    GradcheckResult r = gradcheck(f, inputs);
    CHECK_MESSAGE(r.ok, r.message);
  }
}

TEST_CASE("flash: the layer's parameter gradients agree between the fused and reference paths") {
  GatedAttentionUnit::Options o = gau_options(4, true);
  Generator g1(2), g2(2);
  GatedAttentionUnit fused(o, g1);
  o.fused = false;
  GatedAttentionUnit reference(o, g2);
  Tensor x = input(2, 11, 8, 4);
  std::vector<float> w = input(2, 11, 8, 5).to_vector();
  Tensor weights = Tensor::from_vector(w, Shape{2, 11, 8});
  backward(sum(fused.forward(x) * weights));
  backward(sum(reference.forward(x) * weights));
  auto pf = fused.named_parameters(), pr = reference.named_parameters();
  REQUIRE(pf.size() == pr.size());
  for (size_t i = 0; i < pf.size(); ++i) {
    CAPTURE(pf[i].first);
    CHECK(relative_error(pf[i].second.grad(), pr[i].second.grad()) < 1e-5f);
  }
}

// Bidirectional and unpadded, RowCount's row weight is 1/n for every row (with the same
// score scale inside the square; the paper's pseudocode differs: see attention/gau.cpp).
TEST_CASE("flash: RowCount, bidirectional and unpadded, is Length's weights times 1/n") {
  const int64_t n = 9, s = 8, e = 12;
  Inputs in = make_inputs(2, 1, n, s, e, n, 3);
  FlashOptions row = options(0, false, FlashScaling::RowCount, s), length = row;
  length.scaling = FlashScaling::Length;
  Tensor a = flash_attention(in.qk, in.v, row, in.bias), b = flash_attention(in.qk, in.v, length, in.bias);
  CHECK(relative_error(a, b * (1.0f / n)) < 1e-6f);
}

TEST_CASE("flash: the benchmark's function from Z, V, gamma and beta") {
  // Workload (d) of the shared bench specs at a small size: chunk 256, causal, Length
  // scaling 1/256, four scale-offsets; fused and reference agree, gradients included.
  Generator g(23);
  const int64_t n = 700, s = 16, e = 24;
  Tensor z = Tensor::normal(Shape{1, n, s}, 0, 1, g).set_requires_grad();
  Tensor v = Tensor::normal(Shape{1, n, e}, 0, 1, g).set_requires_grad();
  Tensor gamma = Tensor::normal(Shape{4, s}, 0, 0.5f, g).set_requires_grad();
  Tensor beta = Tensor::normal(Shape{4, s}, 0, 0.1f, g).set_requires_grad();
  Tensor d_out = Tensor::normal(Shape{1, n, e}, 0, 1, g);
  FlashOptions o;
  o.chunk = 256;
  o.causal = true;
  o.scaling = FlashScaling::Length;
  o.score_scale = o.lin_scale = 1.0f / 256;
  std::vector<Tensor> grads[2];
  Tensor outs[2];
  for (int fused = 0; fused < 2; ++fused) {
    for (Tensor t : {z, v, gamma, beta}) t.zero_grad();
    outs[fused] = flash_attention_from_base(z, v, gamma, beta, o,
                                            fused == 1 ? FlashImplementation::Fused : FlashImplementation::Reference);
    backward(outs[fused], d_out);
    grads[fused] = {z.grad(), v.grad(), gamma.grad(), beta.grad()};
  }
  CHECK(relative_error(outs[1], outs[0]) < 1e-5f);
  for (int i = 0; i < 4; ++i) CHECK(relative_error(grads[1][i], grads[0][i]) < 1e-5f);
}

TEST_CASE("flash: argument errors name the op and the shapes") {
  Inputs in = make_inputs(4, 1, 10, 8, 12, 0, 1);
  FlashOptions o = options(4, true, FlashScaling::RowCount, 8);
  CHECK_THROWS_WITH_AS(flash_attention(in.qk, in.v, o, Tensor::zeros(Shape{5})), doctest::Contains("rel_bias"),
                       Error);
  CHECK_THROWS_WITH_AS(flash_attention(narrow(in.qk, 0, 0, 3), in.v, o), doctest::Contains("qk [4 or 2"), Error);
  CHECK_THROWS_WITH_AS(flash_attention(in.qk, narrow(in.v, 1, 0, 9), o), doctest::Contains("agree"), Error);
  CHECK_THROWS_WITH_AS(scale_offset(Tensor::zeros(Shape{2, 3}), Tensor::zeros(Shape{4, 2}), Tensor::zeros(Shape{4, 2})),
                       doctest::Contains("scale_offset"), Error);
}

TEST_CASE("flash: a FLASH language model (GAU blocks, no feed-forward) learns, and decodes as it computes") {
  // 4 GAU layers in pre-norm ScaleNorm blocks without feed-forward layers (a GAU
  // replaces attention plus FFN), chunks of 8 over 40 positions, so the linear
  // cross-chunk part carries most of the context.
  const std::string text = "the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. "
                           "sphinx of black quartz, judge my vow! how vexingly quick daft zebras jump. ";
  const int64_t rows = 4, n = 40;
  const ta::testing::ByteBatch batch = ta::testing::byte_batch(text, rows, n);
  Tensor x = batch.ids, y = batch.targets;
  TransformerConfig cfg{.d_model = 32, .n_layers = 4, .max_len = n, .norm = NormKind::ScaleNorm,
                        .feed_forward = false, .seed = 3};
  auto gen = std::make_shared<Generator>(5);
  TransformerLM model(cfg, [&](int64_t) {
    AttentionConfig a{.name = "flash", .d_model = cfg.d_model, .options = {{"flash-s", "16"}, {"flash-chunk", "8"}}};
    return make_attention(a, *gen);
  });
  AdamW opt(weight_decay_groups(model.named_parameters(), 0.0f));
  float first = 0.0f, loss = 0.0f;
  for (int step = 0; step < 100; ++step) {
    opt.zero_grad();
    Tensor l = cross_entropy(model.forward(x), y);
    loss = l.item();
    if (step == 0) first = loss;
    backward(l);
    opt.step(3e-3f);
  }
  INFO("loss ", first, " at the start, ", loss, " after 100 steps");
  CHECK(loss < 0.25f * first);

  Tensor logits = model.forward(x);  // [rows, n, vocab]
  auto states = model.start_decoding(rows);
  for (int64_t t = 0; t < n; ++t) {
    CAPTURE(t);
    Tensor step_logits = model.step(narrow(x, 1, t, 1), states);
    CHECK(relative_error(step_logits, reshape(narrow(logits, 1, t, 1), Shape{rows, 256})) < 1e-4f);
  }
}
