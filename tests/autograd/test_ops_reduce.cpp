// tests/autograd/test_ops_reduce.cpp — forward values of the reductions (sum, mean,
// max, logsumexp over any set of axes), softmax and log_softmax, cumsum and the
// cross-entropy loss, against plain loops in double: negative and empty axes, size-1
// and long axes, and the numerically delicate cases (large logits, -inf rows).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "core/tensor.h"
#include "tests/autograd/ops_testing.h"

using ta::KeepDims;
using ta::Shape;
using ta::Tensor;
using namespace ta::testing;

namespace {

enum class Reduce { Sum, Mean, Max, LogSumExp };

// Reduces x over `axes` (negative allowed; empty = all) with plain loops.
Host ref_reduce(const Host& x, std::vector<int> axes, KeepDims keep, Reduce kind) {
  int nd = int(x.dims.size());
  std::vector<bool> reduced(nd, axes.empty());
  for (int a : axes) reduced[a < 0 ? a + nd : a] = true;
  std::vector<int64_t> kept_dims;  // the output with reduced dims kept as 1
  for (int d = 0; d < nd; ++d) kept_dims.push_back(reduced[d] ? 1 : x.dims[d]);
  int64_t n_out = product(kept_dims);
  double count = double(product(x.dims)) / double(n_out);

  auto out_index = [&](int64_t i) { return broadcast_offset(unravel(i, x.dims), kept_dims); };
  std::vector<double> mx(n_out, -INFINITY), acc(n_out, 0.0);
  for (int64_t i = 0; i < product(x.dims); ++i) mx[out_index(i)] = std::max(mx[out_index(i)], x.v[i]);
  for (int64_t i = 0; i < product(x.dims); ++i) {
    int64_t o = out_index(i);
    acc[o] += kind == Reduce::LogSumExp ? (std::isinf(mx[o]) ? 0.0 : std::exp(x.v[i] - mx[o])) : x.v[i];
  }
  Host out{{}, std::vector<double>(n_out)};
  for (int d = 0; d < nd; ++d)
    if (!reduced[d] || keep == KeepDims::Yes) out.dims.push_back(kept_dims[d]);
  for (int64_t o = 0; o < n_out; ++o) {
    switch (kind) {
      case Reduce::Sum: out.v[o] = acc[o]; break;
      case Reduce::Mean: out.v[o] = acc[o] / count; break;
      case Reduce::Max: out.v[o] = mx[o]; break;
      case Reduce::LogSumExp: out.v[o] = std::isinf(mx[o]) ? mx[o] : mx[o] + std::log(acc[o]); break;
    }
  }
  return out;
}

Host ref_softmax(const Host& x, int axis, bool log) {
  AxisView a(x.dims, norm_axis(axis, x.dims.size()));
  Host out = x;
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t k = 0; k < a.inner; ++k) {
      double mx = -INFINITY, s = 0;
      for (int64_t i = 0; i < a.n; ++i) mx = std::max(mx, x.v[a.at(o, i, k)]);
      for (int64_t i = 0; i < a.n; ++i) s += std::exp(x.v[a.at(o, i, k)] - mx);
      for (int64_t i = 0; i < a.n; ++i) {
        double z = x.v[a.at(o, i, k)] - mx;
        out.v[a.at(o, i, k)] = log ? z - std::log(s) : std::exp(z) / s;
      }
    }
  return out;
}

Host ref_cumsum(const Host& x, int axis) {
  AxisView a(x.dims, norm_axis(axis, x.dims.size()));
  Host out = x;
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t k = 0; k < a.inner; ++k)
      for (int64_t i = 1; i < a.n; ++i) out.v[a.at(o, i, k)] += out.v[a.at(o, i - 1, k)];
  return out;
}

// Mean over non-ignored rows of logsumexp(row) - row[target], in double.
double ref_cross_entropy(const Host& logits, const Host& targets, int64_t ignore_index) {
  int64_t C = logits.dims.back(), rows = int64_t(targets.v.size());
  double total = 0;
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (int64_t(targets.v[r]) == ignore_index) continue;
    const double* row = logits.v.data() + r * C;
    double mx = *std::max_element(row, row + C), s = 0;
    for (int64_t c = 0; c < C; ++c) s += std::exp(row[c] - mx);
    total += mx + std::log(s) - row[int64_t(targets.v[r])];
    ++counted;
  }
  return counted ? total / counted : 0.0;
}

}  // namespace

// ---- reductions -----------------------------------------------------------------

TEST_CASE("sum, mean, max and logsumexp over any set of axes") {
  struct Case {
    const char* name;
    Tensor (*op)(const Tensor&, std::vector<int>, KeepDims);
    Reduce kind;
  };
  const Case ops[] = {{"sum", ta::sum, Reduce::Sum},
                      {"mean", ta::mean, Reduce::Mean},
                      {"max", ta::max, Reduce::Max},
                      {"logsumexp", ta::logsumexp, Reduce::LogSumExp}};
  const std::vector<std::vector<int>> axes_list = {{0},     {1},     {2},         {-1},      {-2},
                                                   {0, 2},  {2, 0},  {-1, -3},    {0, 1, 2}, {},
                                                   {1, -1}};
  Tensor x = rand({2, 3, 4}, 21);
  for (const Case& c : ops) {
    for (const auto& axes : axes_list) {
      for (KeepDims keep : {KeepDims::No, KeepDims::Yes}) {
        CAPTURE(c.name);
        CAPTURE(axes_str(axes));
        CAPTURE(keep == KeepDims::Yes);
        check_close(c.op(x, axes, keep), ref_reduce(host(x), axes, keep, c.kind));
      }
    }
    CAPTURE(c.name);
    // Size-1 axes, a single element, and a long axis.
    Tensor ones_axis = rand({3, 1, 2}, 22);
    check_close(c.op(ones_axis, {1}, KeepDims::No), ref_reduce(host(ones_axis), {1}, KeepDims::No, c.kind));
    check_close(c.op(Tensor::scalar(2.5f), {}, KeepDims::No), Host{{}, {2.5}});
    check_close(c.op(T({-3}, {1}), {0}, KeepDims::Yes), Host{{1}, {-3}});
    Tensor tall = rand({100003, 2}, 23);
    check_close(c.op(tall, {0}, KeepDims::No), ref_reduce(host(tall), {0}, KeepDims::No, c.kind), 1e-4, 1e-4);
    Tensor wide = rand({2, 100003}, 24);
    check_close(c.op(wide, {}, KeepDims::No), ref_reduce(host(wide), {}, KeepDims::No, c.kind), 1e-4, 1e-4);
  }
}

TEST_CASE("reductions: default arguments, empty axes and hand-computed values") {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {2, 3});
  check_values(ta::sum(x), {}, {21});
  check_values(ta::mean(x), {}, {3.5});
  check_values(ta::max(x), {}, {6});
  check_values(ta::sum(x, {0}), {3}, {5, 7, 9});
  check_values(ta::sum(x, {1}, KeepDims::Yes), {2, 1}, {6, 15});
  check_values(ta::mean(x, {-1}), {2}, {2, 5});
  check_values(ta::max(T({-5, -2, -9}, {3}), {0}), {}, {-2});
  check_values(ta::sum(x, {}, KeepDims::Yes), {1, 1}, {21});
  check_values(ta::sum(Tensor::zeros({0, 3}), {0}), {3}, {0, 0, 0});
  check_values(ta::sum(Tensor::zeros({2, 0}), {1}, KeepDims::Yes), {2, 1}, {0, 0});
}

TEST_CASE("logsumexp is stable for large and -inf inputs") {
  check_values(ta::logsumexp(T({1000, 1000}, {2})), {}, {1000 + std::log(2.0)});
  check_values(ta::logsumexp(T({-1000, -1000, -1000}, {3})), {}, {-1000 + std::log(3.0)});
  check_values(ta::logsumexp(T({1000, 0, -kInf}, {3})), {}, {1000});
  check_values(ta::logsumexp(T({-kInf, -kInf, 1, 2}, {2, 2}), {1}), {2}, {-kInf, 2 + std::log1p(std::exp(-1.0))});
}

TEST_CASE("softmax and log_softmax along any axis") {
  Tensor x2 = rand({3, 4}, 31, -3, 3), x3 = rand({2, 3, 4}, 32, -3, 3);
  for (bool log : {false, true}) {
    auto op = log ? ta::log_softmax : ta::softmax;
    CAPTURE(log);
    for (int axis : {0, 1, -1, -2}) check_close(op(x2, axis), ref_softmax(host(x2), axis, log));
    for (int axis : {0, 1, 2, -1}) check_close(op(x3, axis), ref_softmax(host(x3), axis, log));
    check_close(op(x3, -1), ref_softmax(host(x3), -1, log));  // the default axis is -1
    Tensor big = rand({50, 1003}, 33, -10, 10);
    check_close(op(big, -1), ref_softmax(host(big), -1, log), 1e-6, 1e-4);
    check_close(op(rand({1, 5}, 34), 0), Host{{1, 5}, std::vector<double>(5, log ? 0.0 : 1.0)});
  }
  SUBCASE("each slice along the axis sums to 1") {
    check_close(ta::sum(ta::softmax(x3, 1), {1}), Host{{2, 4}, std::vector<double>(8, 1.0)});
    check_close(ta::sum(ta::softmax(x3, 0), {0}), Host{{3, 4}, std::vector<double>(12, 1.0)});
    check_close(ta::sum(ta::softmax(x3), {-1}), Host{{2, 3}, std::vector<double>(6, 1.0)});
  }
  SUBCASE("large inputs do not overflow") {
    double z = std::log(std::exp(-2.0) + std::exp(-1.0) + 1.0);
    Tensor x = T({1000, 1001, 1002, -1000, -1001, -1002}, {2, 3});
    check_values(ta::softmax(x, 1), {2, 3},
                {std::exp(-2 - z), std::exp(-1 - z), std::exp(-z), std::exp(-z), std::exp(-1 - z), std::exp(-2 - z)});
    check_values(ta::log_softmax(x, 1), {2, 3}, {-2 - z, -1 - z, -z, -z, -1 - z, -2 - z});
  }
  SUBCASE("-inf entries get zero probability; an all -inf row gives zeros") {
    Tensor x = T({0, -kInf, 0, -kInf, -kInf, -kInf}, {2, 3});
    check_values(ta::softmax(x, -1), {2, 3}, {0.5, 0, 0.5, 0, 0, 0});
    check_values(ta::log_softmax(T({0, -kInf, 0}, {3})), {3}, {-std::log(2.0), -kInf, -std::log(2.0)});
  }
}

TEST_CASE("cumsum along each axis") {
  Tensor x = rand({2, 3, 4}, 41);
  for (int axis : {0, 1, 2, -1, -3}) {
    CAPTURE(axis);
    check_close(ta::cumsum(x, axis), ref_cumsum(host(x), axis));
  }
  check_values(ta::cumsum(T({1, 2, 3, 4}, {4}), 0), {4}, {1, 3, 6, 10});
  check_values(ta::cumsum(T({1, 2, 3, 4}, {2, 2}), 0), {2, 2}, {1, 2, 4, 6});
  check_values(ta::cumsum(T({5}, {1}), 0), {1}, {5});
  Tensor long_axis = rand({3, 20011}, 42);
  check_close(ta::cumsum(long_axis, 1), ref_cumsum(host(long_axis), 1), 1e-3, 1e-4);
}

// ---- losses -----------------------------------------------------------------------

TEST_CASE("cross_entropy matches a double-precision hand computation") {
  Tensor logits = rand({3, 4}, 111, -3, 3);
  SUBCASE("plain") {
    Tensor t = T({1, 0, 3}, {3});
    check_values(ta::cross_entropy(logits, t), {}, {ref_cross_entropy(host(logits), host(t), -100)});
  }
  SUBCASE("rows with ignore_index count for nothing") {
    Tensor t = T({1, -100, 2}, {3});
    check_values(ta::cross_entropy(logits, t), {}, {ref_cross_entropy(host(logits), host(t), -100)});
    Tensor t0 = T({0, 2, 0}, {3});
    check_values(ta::cross_entropy(logits, t0, 0), {}, {ref_cross_entropy(host(logits), host(t0), 0)});
    check_values(ta::cross_entropy(logits, T({-100, -100, -100}, {3})), {}, {0.0});
  }
  SUBCASE("leading dimensions are rows") {
    Tensor l3 = rand({2, 3, 5}, 112, -3, 3), t3 = T({0, 4, 2, 1, 1, 3}, {2, 3});
    check_values(ta::cross_entropy(l3, t3), {}, {ref_cross_entropy(host(l3), host(t3), -100)});
  }
  SUBCASE("one row, one class") {
    check_values(ta::cross_entropy(T({7}, {1, 1}), T({0}, {1})), {}, {0.0});
  }
  SUBCASE("large logits do not overflow") {
    Tensor big = T({1000, 0, -1000, 1000, 1000, 0}, {2, 3});
    // Row 0: lse = 1000, loss 0.  Row 1: lse = 1000 + log 2, loss 1000 + log 2 - 0.
    check_values(ta::cross_entropy(big, T({0, 2}, {2})), {}, {(1000 + std::log(2.0)) / 2}, 1e-6, 1e-6);
    // Targets on the smallest logits: row 0 loses 1000 - (-1000), row 1 1000 + log 2.
    check_values(ta::cross_entropy(big, T({2, 2}, {2})), {}, {(3000 + std::log(2.0)) / 2}, 1e-6, 1e-6);
  }
}
