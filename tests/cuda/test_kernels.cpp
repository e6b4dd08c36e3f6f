// The CUDA backend's own kernels (all but the fused attention cores), run under the
// SIMT emulation through the same launch plans the GPU runs, on random inputs of
// awkward sizes (not multiples of the block size, one element, empty), against the
// CPU backend. Every check runs with the threads of a block taking turns forward,
// in reverse, and on a grid cut to two blocks (kernel_testing.h).
#include "tests/cuda/kernel_testing.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "core/cuda/kernels/creation.cuh"
#include "core/cuda/kernels/elementwise.cuh"
#include "core/cuda/kernels/index.cuh"
#include "core/cuda/kernels/loss.cuh"
#include "core/cuda/kernels/movement.cuh"
#include "core/cuda/kernels/norm.cuh"
#include "core/cuda/kernels/optim.cuh"
#include "core/cuda/kernels/reduce.cuh"

namespace k = ta::cuda_kernels;
using namespace ta;
using namespace ta::testing;

namespace {

// Element counts around the block size of 256: empty, one, a partial block, several.
const int64_t kSizes[] = {0, 1, 37, 300, 513};

// [outer, n, inner] layouts: contiguous lines (one block per line) of lengths below,
// at and above a warp and a block, strided lines (one thread per line), and empty ones.
struct Layout {
  int64_t outer, n, inner;
};
const Layout kLayouts[] = {{1, 1, 1}, {3, 5, 1}, {2, 33, 1}, {2, 300, 1}, {1, 1000, 1},
                           {2, 7, 3}, {1, 4, 70}, {3, 1, 5}, {0, 4, 1}, {2, 0, 3}};

// Runs check(launch, layout) for every launch variant and every layout, with both
// named in a failure's message.
template <class Check>
void for_each_launch_and_layout(Check&& check) {
  for (const TestLaunch& launch : kLaunchVariants) {
    CAPTURE(launch.name);
    for (const Layout& l : kLayouts) {
      CAPTURE(l.outer);
      CAPTURE(l.n);
      CAPTURE(l.inner);
      check(launch, l);
    }
  }
}

}  // namespace

BACKEND_OP_CASE("cuda kernels (emulated): fill and arange", "fill", "arange") {
  for (const TestLaunch& launch : kLaunchVariants) {
    CAPTURE(launch.name);
    for (int64_t n : kSizes) {
      CAPTURE(n);
      std::vector<float> got = nan_buffer(n), want = nan_buffer(n);
      k::fill(launch, got.data(), n, 2.5f);
      cpu_backend().fill(want.data(), n, 2.5f);
      CHECK(got == want);
      k::arange(launch, got.data(), n, -3.0f, 0.7f);
      cpu_backend().arange(want.data(), n, -3.0f, 0.7f);
      CHECK_CLOSE(got, want, 1e-7f, 0.0f);  // equal but for a fused multiply-add the compiler may choose
    }
  }
}

BACKEND_OP_CASE("cuda kernels (emulated): Philox random numbers are the CPU's for the same seed and offset",
                "random_uniform", "random_normal") {
  for (const TestLaunch& launch : kLaunchVariants) {
    CAPTURE(launch.name);
    for (int64_t n : kSizes) {
      CAPTURE(n);
      std::vector<float> got = nan_buffer(n), want = nan_buffer(n);
      k::random_uniform(launch, got.data(), n, 42, 1000, -1.0f, 3.0f);
      cpu_backend().random_uniform(want.data(), n, 42, 1000, -1.0f, 3.0f);
      CHECK(got == want);  // bit for bit
      k::random_normal(launch, got.data(), n, 7, 123456789, 0.5f, 2.0f);
      cpu_backend().random_normal(want.data(), n, 7, 123456789, 0.5f, 2.0f);
      CHECK_CLOSE(got, want, 1e-6f, 1e-6f);
    }
  }
}

BACKEND_OP_CASE("cuda kernels (emulated): every unary op and its derivative", "unary", "unary_backward") {
  const UnaryOp ops[] = {UnaryOp::Neg,  UnaryOp::Exp,         UnaryOp::Log,      UnaryOp::Sqrt,    UnaryOp::Rsqrt,
                         UnaryOp::Abs,  UnaryOp::Tanh,        UnaryOp::Sigmoid,  UnaryOp::Relu,    UnaryOp::ReluSquared,
                         UnaryOp::GeluTanh, UnaryOp::GeluErf, UnaryOp::Silu,     UnaryOp::Softplus, UnaryOp::Elu,
                         UnaryOp::AddScalar, UnaryOp::MulScalar, UnaryOp::PowScalar};
  for (const TestLaunch& launch : kLaunchVariants) {
    CAPTURE(launch.name);
    const int64_t n = 300;
    for (UnaryOp op : ops) {
      CAPTURE(static_cast<int>(op));
      const bool positive_only = op == UnaryOp::Log || op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt ||
                                 op == UnaryOp::PowScalar;
      const std::vector<float> x = uniform_values(n, 1, positive_only ? 0.1f : -4.0f, 4.0f);
      const std::vector<float> dy = uniform_values(n, 2);
      std::vector<float> y = nan_buffer(n), y_cpu = nan_buffer(n), dx = nan_buffer(n), dx_cpu = nan_buffer(n);
      k::unary(launch, op, x.data(), y.data(), n, 1.7f);
      cpu_backend().unary(op, x.data(), y_cpu.data(), n, 1.7f);
      CHECK_CLOSE(y, y_cpu, 2e-6f, 1e-6f);
      k::unary_backward(launch, op, x.data(), y_cpu.data(), dy.data(), dx.data(), n, 1.7f);
      cpu_backend().unary_backward(op, x.data(), y_cpu.data(), dy.data(), dx_cpu.data(), n, 1.7f);
      CHECK_CLOSE(dx, dx_cpu, 2e-6f, 1e-6f);
    }
  }
}

BACKEND_OP_CASE("cuda kernels (emulated): broadcasting binary ops, where and broadcast_to",
                "binary", "where", "broadcast_to") {
  struct Case {
    Shape out, a, b, c;
  };
  const Case cases[] = {
      {{300}, {300}, {300}, {300}},             // same shapes: one contiguous dimension
      {{7, 45}, {7, 45}, {45}, {7, 1}},         // a row and a column broadcast
      {{2, 3, 37}, {2, 1, 37}, {3, 1}, {1}},    // middle and trailing broadcasts
      {{1}, {1}, {1}, {1}},                     // one element
      {{4, 0, 3}, {4, 0, 3}, {3}, {1}},         // empty
  };
  const BinaryOp ops[] = {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Maximum,
                          BinaryOp::Minimum, BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt, BinaryOp::Le,
                          BinaryOp::Gt, BinaryOp::Ge, BinaryOp::GradMul, BinaryOp::GradDiv};
  for (const TestLaunch& launch : kLaunchVariants) {
    CAPTURE(launch.name);
    for (const Case& c : cases) {
      CAPTURE(c.out);
      const int64_t n = c.out.numel();
      // Few distinct values, so that the comparisons see equal pairs too.
      std::vector<float> a = uniform_values(c.a.numel(), 3), b = uniform_values(c.b.numel(), 4);
      std::vector<float> mask = index_values(c.c.numel(), 2, 5);
      for (float& v : a) v = std::round(v);
      for (float& v : b) v = std::round(v) + 0.5f * (v > 0);
      Shape two[2] = {c.a, c.b}, three[3] = {c.c, c.a, c.b}, one[1] = {c.b};
      const BroadcastPlan plan2 = make_broadcast_plan(c.out, two, 2), plan3 = make_broadcast_plan(c.out, three, 3),
                          plan1 = make_broadcast_plan(c.out, one, 1);
      for (BinaryOp op : ops) {
        CAPTURE(static_cast<int>(op));
        std::vector<float> got = nan_buffer(n), want = nan_buffer(n);
        k::binary(launch, op, a.data(), b.data(), got.data(), plan2);
        cpu_backend().binary(op, a.data(), b.data(), want.data(), plan2);
        CHECK_CLOSE(got, want, 0.0f, 0.0f);
      }
      std::vector<float> got = nan_buffer(n), want = nan_buffer(n);
      k::where(launch, mask.data(), a.data(), b.data(), got.data(), plan3);
      cpu_backend().where(mask.data(), a.data(), b.data(), want.data(), plan3);
      CHECK(got == want);
      k::broadcast_to(launch, b.data(), got.data(), plan1);
      cpu_backend().broadcast_to(b.data(), want.data(), plan1);
      CHECK(got == want);
    }
  }
}

BACKEND_OP_CASE("cuda kernels (emulated): accumulate_rows adds a slice into a strided block in place",
                "accumulate_rows") {
  // dst viewed as [outer, n, inner]; src is the slice [start, start + len) along n.
  for_each_launch_and_layout([](const TestLaunch& launch, const Layout& l) {
    const int64_t start = l.n / 3, len = l.n - start - l.n / 4;
    const std::vector<float> src = uniform_values(l.outer * len * l.inner, 14);
    std::vector<float> got = uniform_values(l.outer * l.n * l.inner, 15), want = got;
    k::accumulate_rows(launch, src.data(), len * l.inner, got.data() + start * l.inner, l.n * l.inner, l.outer,
                       len * l.inner);
    cpu_backend().accumulate_rows(src.data(), len * l.inner, want.data() + start * l.inner, l.n * l.inner, l.outer,
                                  len * l.inner);
    CHECK(got == want);
  });
}

BACKEND_OP_CASE("cuda kernels (emulated): sum, max and log-sum-exp along an axis", "reduce") {
  for_each_launch_and_layout([](const TestLaunch& launch, const Layout& l) {
    const std::vector<float> x = uniform_values(l.outer * l.n * l.inner, 11, -5.0f, 5.0f);
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::LogSumExp}) {
      if (op != ReduceOp::Sum && l.n == 0) continue;  // core/kernels/reduce.cpp refuses these
      CAPTURE(static_cast<int>(op));
      std::vector<float> got = nan_buffer(l.outer * l.inner), want = nan_buffer(l.outer * l.inner);
      k::reduce(launch, op, x.data(), got.data(), l.outer, l.n, l.inner);
      cpu_backend().reduce(op, x.data(), want.data(), l.outer, l.n, l.inner);
      CHECK_CLOSE(got, want, 1e-5f, 1e-5f);
    }
  });
}

TEST_CASE("cuda kernels (emulated): reductions propagate NaN and handle infinite lines as the CPU does") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  // Rows: an ordinary one, one with a NaN, one all -inf (fully masked), one with +inf.
  const std::vector<float> x = {1, 2, 3, 4, 1, nan, 3, 4, -inf, -inf, -inf, -inf, 1, inf, 2, 0};
  for (int64_t inner : {int64_t{1}, int64_t{4}}) {
    const int64_t outer = inner == 1 ? 4 : 1, n = 4;
    CAPTURE(inner);
    for (ReduceOp op : {ReduceOp::Max, ReduceOp::LogSumExp}) {
      std::vector<float> got = nan_buffer(4), want = nan_buffer(4);
      k::reduce(simt::Launcher{}, op, x.data(), got.data(), outer, n, inner);
      cpu_backend().reduce(op, x.data(), want.data(), outer, n, inner);
      CHECK_CLOSE(got, want);
    }
    std::vector<float> got = nan_buffer(16), want = nan_buffer(16);
    k::softmax(simt::Launcher{}, x.data(), got.data(), outer, n, inner, SoftmaxForm::Softmax);
    cpu_backend().softmax(x.data(), want.data(), outer, n, inner, SoftmaxForm::Softmax);
    CHECK_CLOSE(got, want);
    if (inner == 1) CHECK(got[8] == 0.0f);  // the all -inf row gives zeros, not 0/0
  }
}

BACKEND_OP_CASE("cuda kernels (emulated): softmax and log-softmax, forward and backward",
                "softmax", "softmax_backward") {
  for_each_launch_and_layout([](const TestLaunch& launch, const Layout& l) {
    const int64_t total = l.outer * l.n * l.inner;
    const std::vector<float> x = uniform_values(total, 12, -6.0f, 6.0f), dy = uniform_values(total, 13);
    for (SoftmaxForm log : {SoftmaxForm::Softmax, SoftmaxForm::LogSoftmax}) {
      CAPTURE(static_cast<int>(log));
      std::vector<float> y = nan_buffer(total), y_cpu = nan_buffer(total);
      k::softmax(launch, x.data(), y.data(), l.outer, l.n, l.inner, log);
      cpu_backend().softmax(x.data(), y_cpu.data(), l.outer, l.n, l.inner, log);
      CHECK_CLOSE(y, y_cpu, 1e-5f, 1e-6f);
      std::vector<float> dx = nan_buffer(total), dx_cpu = nan_buffer(total);
      k::softmax_backward(launch, y_cpu.data(), dy.data(), dx.data(), l.outer, l.n, l.inner, log);
      cpu_backend().softmax_backward(y_cpu.data(), dy.data(), dx_cpu.data(), l.outer, l.n, l.inner, log);
      CHECK_CLOSE(dx, dx_cpu, 1e-5f, 1e-5f);
    }
  });
}

BACKEND_OP_CASE("cuda kernels (emulated): cumulative sums, forward and reverse", "cumsum") {
  for_each_launch_and_layout([](const TestLaunch& launch, const Layout& l) {
    const int64_t total = l.outer * l.n * l.inner;
    const std::vector<float> x = uniform_values(total, 14);
    for (ScanDirection reverse : {ScanDirection::Forward, ScanDirection::Reverse}) {
      std::vector<float> got = nan_buffer(total), want = nan_buffer(total);
      k::cumsum(launch, x.data(), got.data(), l.outer, l.n, l.inner, reverse);
      cpu_backend().cumsum(x.data(), want.data(), l.outer, l.n, l.inner, reverse);
      CHECK(got == want);  // one thread per line, adding in the CPU's order
    }
  });
}

BACKEND_OP_CASE("cuda kernels (emulated): index_select, index_add, gather, scatter_add",
                "index_select", "index_add", "gather", "scatter_add") {
  for_each_launch_and_layout([](const TestLaunch& launch, const Layout& l) {
    if (l.n == 0) return;  // nothing to index into
    const int64_t n_index = 2 * l.n + 3;  // more picks than rows: repeats, which the adds must sum
    const std::vector<float> x = uniform_values(l.outer * l.n * l.inner, 15);
    const std::vector<float> dy = uniform_values(l.outer * n_index * l.inner, 16);
    const std::vector<float> index = index_values(n_index, l.n, 17);
    const std::vector<float> index_full = index_values(l.outer * n_index * l.inner, l.n, 18);

    std::vector<float> got = nan_buffer(l.outer * n_index * l.inner), want = got;
    k::index_select(launch, x.data(), index.data(), got.data(), l.outer, l.n, n_index, l.inner);
    cpu_backend().index_select(x.data(), index.data(), want.data(), l.outer, l.n, n_index, l.inner);
    CHECK(got == want);
    k::gather(launch, x.data(), index_full.data(), got.data(), l.outer, l.n, n_index, l.inner);
    cpu_backend().gather(x.data(), index_full.data(), want.data(), l.outer, l.n, n_index, l.inner);
    CHECK(got == want);

    std::vector<float> acc = uniform_values(l.outer * l.n * l.inner, 19), acc_cpu = acc;  // added into
    k::index_add(launch, dy.data(), index.data(), acc.data(), l.outer, l.n, n_index, l.inner);
    cpu_backend().index_add(dy.data(), index.data(), acc_cpu.data(), l.outer, l.n, n_index, l.inner);
    CHECK_CLOSE(acc, acc_cpu, 1e-5f, 1e-5f);
    k::scatter_add(launch, dy.data(), index_full.data(), acc.data(), l.outer, l.n, n_index, l.inner);
    cpu_backend().scatter_add(dy.data(), index_full.data(), acc_cpu.data(), l.outer, l.n, n_index, l.inner);
    CHECK_CLOSE(acc, acc_cpu, 1e-5f, 1e-5f);
  });
}

BACKEND_OP_CASE("cuda kernels (emulated): permute", "permute") {
  struct Case {
    Shape shape;
    std::vector<int> perm;
  };
  const Case cases[] = {{{5, 37}, {1, 0}}, {{2, 3, 4, 5}, {2, 0, 3, 1}}, {{7}, {0}}, {{}, {}}, {{3, 0, 2}, {2, 1, 0}}};
  for (const TestLaunch& launch : kLaunchVariants) {
    CAPTURE(launch.name);
    for (const Case& c : cases) {
      CAPTURE(c.shape);
      const std::vector<float> x = uniform_values(c.shape.numel(), 20);
      std::vector<float> got = nan_buffer(c.shape.numel()), want = got;
      k::permute(launch, x.data(), got.data(), c.shape, c.perm.data());
      cpu_backend().permute(x.data(), want.data(), c.shape, c.perm.data());
      CHECK(got == want);
    }
  }
}

BACKEND_OP_CASE("cuda kernels (emulated): cross-entropy and its gradient, with ignored rows",
                "cross_entropy", "cross_entropy_backward") {
  for (const TestLaunch& launch : kLaunchVariants) {
    CAPTURE(launch.name);
    for (auto [rows_, classes_] : {std::pair<int64_t, int64_t>{1, 1}, {5, 10}, {3, 300}, {0, 4}}) {
      const int64_t rows = rows_, classes = classes_;  // clang 14: doctest's messages cannot name a binding
      CAPTURE(rows);
      CAPTURE(classes);
      const std::vector<float> logits = uniform_values(rows * classes, 21, -8.0f, 8.0f);
      std::vector<float> targets = index_values(rows, classes, 22);
      if (rows > 2) targets[1] = -100.0f;  // the ignore index
      std::vector<float> loss = nan_buffer(rows), lse = nan_buffer(rows), loss_cpu = loss, lse_cpu = lse;
      k::cross_entropy(launch, logits.data(), targets.data(), loss.data(), lse.data(), rows, classes, -100);
      cpu_backend().cross_entropy(logits.data(), targets.data(), loss_cpu.data(), lse_cpu.data(), rows, classes, -100);
      CHECK_CLOSE(loss, loss_cpu, 1e-5f, 1e-5f);
      CHECK_CLOSE(lse, lse_cpu, 1e-5f, 1e-5f);
      const float scale = 0.25f;
      std::vector<float> d = nan_buffer(rows * classes), d_cpu = d;
      k::cross_entropy_backward(launch, logits.data(), targets.data(), lse_cpu.data(), &scale, d.data(), rows, classes,
                                -100);
      cpu_backend().cross_entropy_backward(logits.data(), targets.data(), lse_cpu.data(), &scale, d_cpu.data(), rows,
                                           classes, -100);
      CHECK_CLOSE(d, d_cpu, 1e-5f, 1e-7f);
    }
  }
}

BACKEND_OP_CASE("cuda kernels (emulated): layer norm and RMS norm, forward and backward, with and without affine",
                "layer_norm", "layer_norm_backward") {
  for (const TestLaunch& launch : kLaunchVariants) {
    CAPTURE(launch.name);
    for (auto [rows_, dim_] : {std::pair<int64_t, int64_t>{1, 1}, {4, 7}, {3, 300}, {40, 3}, {0, 5}}) {
      const int64_t rows = rows_, dim = dim_;  // clang 14: doctest's messages cannot name a binding
      for (LayerNormKind layer : {LayerNormKind::LayerNorm, LayerNormKind::RmsNorm}) {
        for (bool affine : {true, false}) {
          CAPTURE(rows);
          CAPTURE(dim);
          CAPTURE(static_cast<int>(layer));
          CAPTURE(affine);
          const std::vector<float> x = uniform_values(rows * dim, 23, -3.0f, 5.0f), dy = uniform_values(rows * dim, 24);
          const std::vector<float> gamma = uniform_values(dim, 25, 0.5f, 1.5f), beta = uniform_values(dim, 26);
          const float* g = affine ? gamma.data() : nullptr;
          const float* b = affine ? beta.data() : nullptr;
          std::vector<float> y = nan_buffer(rows * dim), mean = nan_buffer(rows), rstd = nan_buffer(rows);
          std::vector<float> y_cpu = y, mean_cpu = mean, rstd_cpu = rstd;
          k::layer_norm(launch, x.data(), g, b, y.data(), mean.data(), rstd.data(), rows, dim, 1e-5f, layer);
          cpu_backend().layer_norm(x.data(), g, b, y_cpu.data(), mean_cpu.data(), rstd_cpu.data(), rows, dim, 1e-5f,
                                   layer);
          CHECK_CLOSE(y, y_cpu, 1e-4f, 1e-5f);
          CHECK_CLOSE(mean, mean_cpu, 1e-5f, 1e-6f);
          CHECK_CLOSE(rstd, rstd_cpu, 1e-5f, 1e-6f);
          std::vector<float> dx = nan_buffer(rows * dim), dgamma = nan_buffer(dim), dbeta = nan_buffer(dim);
          std::vector<float> dx_cpu = dx, dgamma_cpu = dgamma, dbeta_cpu = dbeta;
          k::layer_norm_backward(launch, x.data(), g, mean_cpu.data(), rstd_cpu.data(), dy.data(), dx.data(),
                                 affine ? dgamma.data() : nullptr, affine ? dbeta.data() : nullptr, rows, dim, layer);
          cpu_backend().layer_norm_backward(x.data(), g, mean_cpu.data(), rstd_cpu.data(), dy.data(), dx_cpu.data(),
                                            affine ? dgamma_cpu.data() : nullptr, affine ? dbeta_cpu.data() : nullptr,
                                            rows, dim, layer);
          CHECK_CLOSE(dx, dx_cpu, 1e-4f, 1e-5f);
          if (affine) {
            CHECK_CLOSE(dgamma, dgamma_cpu, 1e-4f, 1e-5f);
            CHECK_CLOSE(dbeta, dbeta_cpu, 1e-4f, 1e-5f);
          }
        }
      }
    }
  }
}

BACKEND_OP_CASE("cuda kernels (emulated): SGD and Adam updates, and the sum of squares",
                "sgd_update", "adam_update", "sum_of_squares") {
  for (const TestLaunch& launch : kLaunchVariants) {
    CAPTURE(launch.name);
    for (int64_t n : kSizes) {
      CAPTURE(n);
      const std::vector<float> g = uniform_values(n, 27);
      for (SgdMomentum nesterov : {SgdMomentum::HeavyBall, SgdMomentum::Nesterov}) {
        std::vector<float> p = uniform_values(n, 28), buf = uniform_values(n, 29), p_cpu = p, buf_cpu = buf;
        for (int step = 0; step < 2; ++step) {
          k::sgd_update(launch, p.data(), g.data(), buf.data(), n,
                        SgdHyper{0.1f, 0.9f, 0.01f, nesterov == SgdMomentum::Nesterov});
          cpu_backend().sgd_update(p_cpu.data(), g.data(), buf_cpu.data(), n, 0.1f, 0.9f, 0.01f, nesterov);
        }
        CHECK_CLOSE(p, p_cpu, 1e-6f, 1e-7f);
        CHECK_CLOSE(buf, buf_cpu, 1e-6f, 1e-7f);
      }
      for (WeightDecay decoupled : {WeightDecay::L2, WeightDecay::Decoupled}) {
        std::vector<float> p = uniform_values(n, 30), m(n, 0.1f), v(n, 0.2f), p_cpu = p, m_cpu = m, v_cpu = v;
        k::adam_update(launch, p.data(), g.data(), m.data(), v.data(), n,
                       adam_hyper(1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, decoupled, 0.19f, 0.002f));
        cpu_backend().adam_update(p_cpu.data(), g.data(), m_cpu.data(), v_cpu.data(), n, 1e-2f, 0.9f, 0.999f, 1e-8f,
                                  0.1f, decoupled, 0.19f, 0.002f);
        CHECK_CLOSE(p, p_cpu, 1e-6f, 1e-7f);
        CHECK_CLOSE(m, m_cpu, 1e-6f, 1e-7f);
        CHECK_CLOSE(v, v_cpu, 1e-6f, 1e-7f);
      }
      // one partial sum per block of the plan's own grid
      std::vector<double> partial(static_cast<size_t>(k::sum_of_squares_blocks(n)), -1.0);
      k::sum_of_squares_partials(simt::Launcher{launch.order}, g.data(), n, partial.data());
      double total = 0.0;
      for (double s : partial) total += s;
      CHECK(total == doctest::Approx(cpu_backend().sum_of_squares(g.data(), n)).epsilon(1e-12));
    }
  }
}
