// tests/autograd/test_ops_forward.cpp — forward values of every op in autograd/ops.h,
// compared with plain loops written here in double (or with hand-computed numbers):
// broadcasting, scalar and size-1 shapes, empty tensors, negative axes, and the
// numerically delicate cases (large logits, -inf rows, saturating activations).
// Gradients are tested in test_gradcheck.cpp, error paths in test_errors.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "core/tensor.h"

using ta::Shape;
using ta::Tensor;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// ---- host-side arrays and the reference loops ------------------------------------

// A tensor's values in double with its dimensions: what the references compute on.
struct Host {
  std::vector<int64_t> dims;
  std::vector<double> v;
};

int64_t product(const std::vector<int64_t>& dims, size_t from = 0, size_t to = SIZE_MAX) {
  to = std::min(to, dims.size());
  return std::accumulate(dims.begin() + std::min(from, to), dims.begin() + to, int64_t{1}, std::multiplies<>());
}

Host host(const Tensor& t) {
  std::vector<float> f = t.to_vector();
  return {t.shape().vec(), std::vector<double>(f.begin(), f.end())};
}

std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t>& dims) {
  std::vector<int64_t> idx(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    idx[d] = flat % dims[d];
    flat /= dims[d];
  }
  return idx;
}

// Flat offset into an array of `dims` for an index into a broadcast result whose
// rank may be larger (dims aligned at the right; size-1 dims always read 0).
int64_t broadcast_offset(const std::vector<int64_t>& out_idx, const std::vector<int64_t>& dims) {
  size_t shift = out_idx.size() - dims.size();
  int64_t flat = 0;
  for (size_t d = 0; d < dims.size(); ++d) flat = flat * dims[d] + (dims[d] == 1 ? 0 : out_idx[shift + d]);
  return flat;
}

std::vector<int64_t> broadcast_dims(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n, 1);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1, db = i < b.size() ? b[b.size() - 1 - i] : 1;
    out[n - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

Host ref_broadcast(const Host& x, const std::vector<int64_t>& dims) {
  Host out{dims, std::vector<double>(product(dims))};
  for (int64_t i = 0; i < product(dims); ++i) out.v[i] = x.v[broadcast_offset(unravel(i, dims), x.dims)];
  return out;
}

Host ref_binary(const Host& a, const Host& b, const std::function<double(double, double)>& f) {
  Host out{broadcast_dims(a.dims, b.dims), {}};
  if (a.dims == b.dims) {  // no broadcasting: skip the index arithmetic
    for (size_t i = 0; i < a.v.size(); ++i) out.v.push_back(f(a.v[i], b.v[i]));
    return out;
  }
  for (int64_t i = 0; i < product(out.dims); ++i) {
    std::vector<int64_t> idx = unravel(i, out.dims);
    out.v.push_back(f(a.v[broadcast_offset(idx, a.dims)], b.v[broadcast_offset(idx, b.dims)]));
  }
  return out;
}

Host ref_map(const Host& x, const std::function<double(double)>& f) {
  Host out = x;
  for (double& e : out.v) e = f(e);
  return out;
}

enum class Reduce { Sum, Mean, Max, LogSumExp };

// Reduces x over `axes` (negative allowed; empty = all) with plain loops.
Host ref_reduce(const Host& x, std::vector<int> axes, bool keepdim, Reduce kind) {
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
    if (!reduced[d] || keepdim) out.dims.push_back(kept_dims[d]);
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

// The [outer, n, inner] view of `axis`, as the references loop over it.
struct AxisView {
  int64_t outer, n, inner;
  AxisView(const std::vector<int64_t>& dims, int axis)
      : outer(product(dims, 0, axis)), n(dims[axis]), inner(product(dims, axis + 1)) {}
  int64_t at(int64_t o, int64_t i, int64_t k) const { return (o * n + i) * inner + k; }
};

int norm_axis(int axis, size_t ndim) { return axis < 0 ? axis + int(ndim) : axis; }

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

// a [..., M, K] @ b [..., K, N] (stored transposed when the flag is set), batch
// dims broadcast: the naive triple loop.
Host ref_matmul(const Host& a, const Host& b, bool ta, bool tb) {
  size_t ra = a.dims.size(), rb = b.dims.size();
  int64_t M = ta ? a.dims[ra - 1] : a.dims[ra - 2], K = ta ? a.dims[ra - 2] : a.dims[ra - 1];
  int64_t N = tb ? b.dims[rb - 2] : b.dims[rb - 1];
  std::vector<int64_t> a_batch(a.dims.begin(), a.dims.end() - 2), b_batch(b.dims.begin(), b.dims.end() - 2);
  Host out{broadcast_dims(a_batch, b_batch), {}};
  int64_t batches = product(out.dims);
  out.dims.push_back(M);
  out.dims.push_back(N);
  for (int64_t bi = 0; bi < batches; ++bi) {
    std::vector<int64_t> idx = unravel(bi, std::vector<int64_t>(out.dims.begin(), out.dims.end() - 2));
    const double* A = a.v.data() + broadcast_offset(idx, a_batch) * M * K;
    const double* B = b.v.data() + broadcast_offset(idx, b_batch) * K * N;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += (ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
        out.v.push_back(s);
      }
  }
  return out;
}

Host ref_permute(const Host& x, const std::vector<int>& order) {
  Host out{{}, std::vector<double>(x.v.size())};
  for (int p : order) out.dims.push_back(x.dims[p]);
  for (int64_t i = 0; i < int64_t(x.v.size()); ++i) {
    std::vector<int64_t> in_idx = unravel(i, x.dims), out_idx(order.size());
    for (size_t d = 0; d < order.size(); ++d) out_idx[d] = in_idx[order[d]];
    int64_t flat = 0;
    for (size_t d = 0; d < order.size(); ++d) flat = flat * out.dims[d] + out_idx[d];
    out.v[flat] = x.v[i];
  }
  return out;
}

// Entries [start, start + length) of `axis`.
Host ref_narrow(const Host& x, int axis, int64_t start, int64_t length) {
  AxisView a(x.dims, axis);
  Host out{x.dims, {}};
  out.dims[axis] = length;
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t i = start; i < start + length; ++i)
      for (int64_t k = 0; k < a.inner; ++k) out.v.push_back(x.v[a.at(o, i, k)]);
  return out;
}

Host ref_concat(const std::vector<Host>& xs, int axis) {
  Host out{xs[0].dims, {}};
  out.dims[axis] = 0;
  for (const Host& x : xs) out.dims[axis] += x.dims[axis];
  for (int64_t o = 0; o < product(out.dims, 0, axis); ++o)
    for (const Host& x : xs) {
      int64_t block = product(x.dims, axis);  // one outer slice of x
      out.v.insert(out.v.end(), x.v.begin() + o * block, x.v.begin() + (o + 1) * block);
    }
  return out;
}

// y = x with `axis` replaced by the entries named in the 1-D index.
Host ref_index_select(const Host& x, int axis, const std::vector<int64_t>& index) {
  AxisView a(x.dims, axis);
  Host out{x.dims, {}};
  out.dims[axis] = int64_t(index.size());
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t j : index)
      for (int64_t k = 0; k < a.inner; ++k) out.v.push_back(x.v[a.at(o, j, k)]);
  return out;
}

// torch.gather: y[idx] = x[idx with idx[axis] replaced by index[idx]].
Host ref_gather(const Host& x, int axis, const Host& index) {
  Host out{index.dims, {}};
  for (int64_t i = 0; i < int64_t(index.v.size()); ++i) {
    std::vector<int64_t> idx = unravel(i, index.dims);
    idx[axis] = int64_t(index.v[i]);
    int64_t flat = 0;
    for (size_t d = 0; d < idx.size(); ++d) flat = flat * x.dims[d] + idx[d];
    out.v.push_back(x.v[flat]);
  }
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

// ---- building inputs and comparing ----------------------------------------------

Tensor T(const std::vector<float>& values, const Shape& shape) { return Tensor::from_vector(values, shape); }

// Seeded uniform values in [lo, hi).
Tensor rand(const Shape& shape, uint64_t seed, float lo = -2.0f, float hi = 2.0f) {
  ta::Generator gen(seed);
  return Tensor::uniform(shape, lo, hi, gen);
}

std::string dims_str(const std::vector<int64_t>& dims) { return Shape(dims).str(); }

std::string axes_str(const std::vector<int>& axes) {
  std::string s = "{";
  for (int a : axes) s += std::to_string(a) + " ";
  return s + "}";
}

// got must have want's shape and match it elementwise within atol + rtol * |want|;
// infinities must match exactly and NaN is never accepted.
void check_close(const Tensor& got, const Host& want, double atol = 1e-5, double rtol = 1e-5) {
  REQUIRE(got.defined());
  REQUIRE_MESSAGE(got.shape() == Shape(want.dims), "shape " << got.shape().str() << ", want " << dims_str(want.dims));
  std::vector<float> g = got.to_vector();
  REQUIRE(g.size() == want.v.size());
  int reported = 0;
  for (size_t i = 0; i < g.size() && reported < 5; ++i) {
    double w = want.v[i];
    bool ok = std::isinf(w) ? double(g[i]) == w : std::abs(g[i] - w) <= atol + rtol * std::abs(w);
    if (!ok) {
      ++reported;
      FAIL_CHECK("element " << i << " of " << dims_str(want.dims) << ": got " << g[i] << ", want " << w);
    }
  }
}

void check_values(const Tensor& got, const Shape& shape, const std::vector<double>& want, double atol = 1e-5,
                  double rtol = 1e-5) {
  check_close(got, Host{shape.vec(), want}, atol, rtol);
}

// A binary op and its definition, for the table-driven tests.
struct BinaryCase {
  const char* name;
  Tensor (*op)(const Tensor&, const Tensor&);
  double (*ref)(double, double);
};

const BinaryCase kBinaryOps[] = {
    {"add", ta::add, [](double a, double b) { return a + b; }},
    {"sub", ta::sub, [](double a, double b) { return a - b; }},
    {"mul", ta::mul, [](double a, double b) { return a * b; }},
    {"div", ta::div, [](double a, double b) { return a / b; }},
    {"maximum", ta::maximum, [](double a, double b) { return std::max(a, b); }},
    {"minimum", ta::minimum, [](double a, double b) { return std::min(a, b); }},
    {"eq", ta::eq, [](double a, double b) { return double(a == b); }},
    {"ne", ta::ne, [](double a, double b) { return double(a != b); }},
    {"lt", ta::lt, [](double a, double b) { return double(a < b); }},
    {"le", ta::le, [](double a, double b) { return double(a <= b); }},
    {"gt", ta::gt, [](double a, double b) { return double(a > b); }},
    {"ge", ta::ge, [](double a, double b) { return double(a >= b); }},
};

// Values on a coarse grid (multiples of 0.5 in [-2, 2], never 0) so comparisons
// meet ties and div never meets zero.
Tensor grid(const Shape& shape, uint64_t seed) {
  std::vector<float> v = rand(shape, seed, 0.0f, 8.0f).to_vector();
  for (float& x : v) x = x < 4.0f ? -2.0f + 0.5f * std::floor(x) : 0.5f + 0.5f * std::floor(x - 4.0f);
  return T(v, shape);
}

// A one-input op and its definition, with inputs inside its domain.
struct UnaryCase {
  const char* name;
  Tensor (*op)(const Tensor&);
  double (*ref)(double);
  bool positive_only;
};

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double gelu_erf_ref(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double gelu_tanh_ref(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

const UnaryCase kUnaryOps[] = {
    {"neg", ta::neg, [](double x) { return -x; }, false},
    {"exp", ta::exp, [](double x) { return std::exp(x); }, false},
    {"log", ta::log, [](double x) { return std::log(x); }, true},
    {"sqrt", ta::sqrt, [](double x) { return std::sqrt(x); }, true},
    {"rsqrt", ta::rsqrt, [](double x) { return 1.0 / std::sqrt(x); }, true},
    {"abs", ta::abs, [](double x) { return std::abs(x); }, false},
    {"tanh", ta::tanh, [](double x) { return std::tanh(x); }, false},
    {"sigmoid", ta::sigmoid, sigmoid_ref, false},
    {"relu", ta::relu, [](double x) { return std::max(x, 0.0); }, false},
    {"relu_squared", ta::relu_squared, [](double x) { return x > 0 ? x * x : 0.0; }, false},
    {"gelu(erf)", [](const Tensor& x) { return ta::gelu(x, ta::GeluApprox::Erf); }, gelu_erf_ref, false},
    {"gelu(tanh)", [](const Tensor& x) { return ta::gelu(x, ta::GeluApprox::Tanh); }, gelu_tanh_ref, false},
    {"gelu(default)", [](const Tensor& x) { return ta::gelu(x); }, gelu_erf_ref, false},
    {"silu", ta::silu, [](double x) { return x * sigmoid_ref(x); }, false},
    {"softplus", ta::softplus, [](double x) { return std::log1p(std::exp(x)); }, false},
    {"elu", [](const Tensor& x) { return ta::elu(x); }, [](double x) { return x > 0 ? x : std::expm1(x); }, false},
};

}  // namespace

// ---- element-wise ---------------------------------------------------------------

TEST_CASE("binary ops broadcast NumPy-style") {
  const std::pair<Shape, Shape> shapes[] = {
      {{3, 1}, {1, 4}},  {{2, 3, 4}, {4}},     {{4}, {2, 3, 4}},     {{}, {2, 3}},
      {{2, 3}, {}},      {{}, {}},             {{1}, {1}},           {{2, 1, 3}, {4, 1}},
      {{3, 5}, {1, 5}},  {{5, 7}, {5, 7}},     {{0, 3}, {3}},        {{2, 1, 2, 1, 2, 1}, {1, 2, 1, 2, 1, 2}},
      {{64, 257}, {257}}, {{100003}, {100003}},
  };
  for (const BinaryCase& c : kBinaryOps) {
    for (const auto& [sa, sb] : shapes) {
      const std::string a_shape = sa.str(), b_shape = sb.str();  // clang 14: doctest's messages cannot name a binding
      CAPTURE(c.name);
      CAPTURE(a_shape);
      CAPTURE(b_shape);
      Tensor a = grid(sa, 1), b = grid(sb, 2);
      check_close(c.op(a, b), ref_binary(host(a), host(b), c.ref), 1e-6, 1e-6);
    }
  }
}

TEST_CASE("comparisons give exactly 1 or 0") {
  Tensor a = T({1, 2, 3, 4, 5, 6}, {2, 3}), b = T({1, 5, 3}, {3});
  check_values(ta::eq(a, b), {2, 3}, {1, 0, 1, 0, 1, 0}, 0, 0);
  check_values(ta::ne(a, b), {2, 3}, {0, 1, 0, 1, 0, 1}, 0, 0);
  check_values(ta::lt(a, b), {2, 3}, {0, 1, 0, 0, 0, 0}, 0, 0);
  check_values(ta::le(a, b), {2, 3}, {1, 1, 1, 0, 1, 0}, 0, 0);
  check_values(ta::gt(a, b), {2, 3}, {0, 0, 0, 1, 0, 1}, 0, 0);
  check_values(ta::ge(a, b), {2, 3}, {1, 0, 1, 1, 1, 1}, 0, 0);
  check_values(ta::gt(a, Tensor::scalar(3.5f)), {2, 3}, {0, 0, 0, 1, 1, 1}, 0, 0);
}

TEST_CASE("operators and scalar forms") {
  Tensor a = T({1, -2, 3.5f, 0}, {2, 2}), b = T({2, 4}, {2});
  check_values(a + b, {2, 2}, {3, 2, 5.5, 4});
  check_values(a - b, {2, 2}, {-1, -6, 1.5, -4});
  check_values(a * b, {2, 2}, {2, -8, 7, 0});
  check_values(a / b, {2, 2}, {0.5, -0.5, 1.75, 0});
  check_values(-a, {2, 2}, {-1, 2, -3.5, 0});
  check_values(ta::add(a, 1.5f), {2, 2}, {2.5, -0.5, 5, 1.5});
  check_values(ta::mul(a, -2.0f), {2, 2}, {-2, 4, -7, 0});
  check_values(a + 1.0f, {2, 2}, {2, -1, 4.5, 1});
  check_values(1.0f + a, {2, 2}, {2, -1, 4.5, 1});
  check_values(a - 1.0f, {2, 2}, {0, -3, 2.5, -1});
  check_values(1.0f - a, {2, 2}, {0, 3, -2.5, 1});
  check_values(a * 3.0f, {2, 2}, {3, -6, 10.5, 0});
  check_values(3.0f * a, {2, 2}, {3, -6, 10.5, 0});
  check_values(a / 4.0f, {2, 2}, {0.25, -0.5, 0.875, 0});
  check_values(ta::add(Tensor::scalar(2), 3.0f), {}, {5});
  check_values(ta::mul(Tensor::zeros({0, 2}), 3.0f), {0, 2}, {});
}

TEST_CASE("pow with a scalar exponent") {
  Tensor x = T({0.5f, 1, 2, 3}, {4});
  check_values(ta::pow(x, 2.0f), {4}, {0.25, 1, 4, 9});
  check_values(ta::pow(x, 0.5f), {4}, {std::sqrt(0.5), 1, std::sqrt(2.0), std::sqrt(3.0)});
  check_values(ta::pow(x, -1.0f), {4}, {2, 1, 0.5, 1.0 / 3});
  check_values(ta::pow(x, 0.0f), {4}, {1, 1, 1, 1});
  check_values(ta::pow(x, 1.5f), {4}, {std::pow(0.5, 1.5), 1, std::pow(2.0, 1.5), std::pow(3.0, 1.5)});
  SUBCASE("negative bases with whole exponents, and zero") {
    Tensor n = T({-2, -1, 0, 2}, {2, 2});
    check_values(ta::pow(n, 2.0f), {2, 2}, {4, 1, 0, 4});
    check_values(ta::pow(n, 3.0f), {2, 2}, {-8, -1, 0, 8});
  }
}

TEST_CASE("unary ops match their definitions") {
  const std::vector<float> general = {-6, -3, -1.5f, -0.5f, -1e-3f, 0, 1e-3f, 0.3f, 1, 2.5f, 4, 6};
  const std::vector<float> positive = {1e-3f, 0.01f, 0.5f, 1, 2, 10, 1000};
  for (const UnaryCase& c : kUnaryOps) {
    CAPTURE(c.name);
    const std::vector<float>& v = c.positive_only ? positive : general;
    Tensor small = T(v, {int64_t(v.size())});
    check_close(c.op(small), ref_map(host(small), c.ref), 1e-6, 1e-5);
    // A long input, so vectorized and multi-threaded paths run too.
    Tensor big = c.positive_only ? rand({3, 10007}, 9, 0.01f, 5.0f) : rand({3, 10007}, 9, -5.0f, 5.0f);
    check_close(c.op(big), ref_map(host(big), c.ref), 1e-6, 1e-5);
    // Scalars and empty tensors keep their shapes.
    check_close(c.op(Tensor::scalar(1.0f)), Host{{}, {c.ref(1.0)}}, 1e-6, 1e-5);
    check_close(c.op(Tensor::zeros({2, 0})), Host{{2, 0}, {}});
  }
}

TEST_CASE("gelu known values") {
  Tensor one = Tensor::scalar(1.0f);
  CHECK(ta::gelu(one, ta::GeluApprox::Erf).item() == doctest::Approx(0.8413447).epsilon(1e-6));
  CHECK(ta::gelu(one, ta::GeluApprox::Tanh).item() == doctest::Approx(0.8411920).epsilon(1e-6));
  CHECK(ta::gelu(Tensor::scalar(-1.0f)).item() == doctest::Approx(-0.1586553).epsilon(1e-5));
  CHECK(ta::gelu(Tensor::scalar(0.0f)).item() == 0.0f);
}

TEST_CASE("elu: alpha scales the negative side, small |x| stays exact, large -x tends to -alpha") {
  const std::vector<float> xs = {-100, -3, -1e-4f, -1e-7f, 0, 1e-7f, 2, 100};
  for (float alpha : {1.0f, 0.5f, 2.0f}) {
    CAPTURE(alpha);
    std::vector<double> want;
    for (float x : xs) want.push_back(x > 0 ? x : alpha * std::expm1(static_cast<double>(x)));
    check_values(ta::elu(T(xs, {8}), alpha), {8}, want, 1e-12, 1e-6);  // relative: -1e-7 gives -1e-7 alpha
  }
  check_values(ta::elu(T({-kInf, kInf}, {2}), 1.5f), {2}, {-1.5, kInf});
}

TEST_CASE("activations stay finite and exact at large |x|") {
  Tensor x = T({-100, -30, 30, 100}, {4});
  check_values(ta::softplus(x), {4}, {std::exp(-100.0), std::exp(-30.0), 30, 100}, 1e-12, 1e-6);
  check_values(ta::sigmoid(x), {4}, {std::exp(-100.0), std::exp(-30.0), 1, 1}, 1e-12, 1e-6);
  check_values(ta::tanh(x), {4}, {-1, -1, 1, 1}, 0, 0);
  check_values(ta::silu(x), {4}, {-100 * std::exp(-100.0), -30 * std::exp(-30.0), 30, 100}, 1e-12, 1e-6);
  check_values(ta::gelu(x, ta::GeluApprox::Erf), {4}, {0, 0, 30, 100}, 1e-12, 1e-6);
  check_values(ta::gelu(x, ta::GeluApprox::Tanh), {4}, {0, 0, 30, 100}, 1e-12, 1e-6);
  // e^100 ~ 2.7e43 is past FLT_MAX ~ 3.4e38: it overflows to +inf.
  check_values(ta::exp(x), {4}, {std::exp(-100.0), std::exp(-30.0), std::exp(30.0), kInf}, 1e-12, 1e-5);
  check_values(ta::softplus(Tensor::scalar(kInf)), {}, {kInf});
  check_values(ta::sigmoid(T({-kInf, kInf}, {2})), {2}, {0, 1}, 0, 0);
  check_values(ta::relu(T({-kInf, kInf}, {2})), {2}, {0, kInf});
  check_values(ta::log(T({0}, {1})), {1}, {-kInf});
}

// ---- selection ------------------------------------------------------------------

TEST_CASE("where broadcasts mask, a and b together") {
  Tensor mask = T({1, 0, -2}, {3, 1});  // any non-zero counts as true
  Tensor a = T({10, 20, 30, 40}, {1, 4}), b = Tensor::scalar(-1);
  check_values(ta::where(mask, a, b), {3, 4}, {10, 20, 30, 40, -1, -1, -1, -1, 10, 20, 30, 40});
  Tensor a2 = rand({2, 3}, 4), b2 = rand({2, 3}, 5), m2 = T({0, 1, 1, 0, 0, 1}, {2, 3});
  Host want = host(a2), hm = host(m2), hb = host(b2);
  for (size_t i = 0; i < want.v.size(); ++i) want.v[i] = hm.v[i] != 0 ? want.v[i] : hb.v[i];
  check_close(ta::where(m2, a2, b2), want, 0, 0);
  check_values(ta::where(Tensor::scalar(1), Tensor::scalar(2), Tensor::scalar(3)), {}, {2});
}

TEST_CASE("masked_fill") {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {2, 3});
  check_values(ta::masked_fill(x, T({0, 1, 0}, {3}), -kInf), {2, 3}, {1, -kInf, 3, 4, -kInf, 6});
  check_values(ta::masked_fill(x, T({1, 0}, {2, 1}), 0.5f), {2, 3}, {0.5, 0.5, 0.5, 4, 5, 6});
  check_values(ta::masked_fill(x, T({0, 0, 0, 0, 0, 0}, {2, 3}), 9), {2, 3}, {1, 2, 3, 4, 5, 6});
  check_values(ta::masked_fill(x, Tensor::scalar(1), 7), {2, 3}, {7, 7, 7, 7, 7, 7});
}

// ---- reductions -----------------------------------------------------------------

TEST_CASE("sum, mean, max and logsumexp over any set of axes") {
  struct Case {
    const char* name;
    Tensor (*op)(const Tensor&, std::vector<int>, bool);
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
      for (bool keepdim : {false, true}) {
        CAPTURE(c.name);
        CAPTURE(axes_str(axes));
        CAPTURE(keepdim);
        check_close(c.op(x, axes, keepdim), ref_reduce(host(x), axes, keepdim, c.kind));
      }
    }
    CAPTURE(c.name);
    // Size-1 axes, a single element, and a long axis.
    Tensor ones_axis = rand({3, 1, 2}, 22);
    check_close(c.op(ones_axis, {1}, false), ref_reduce(host(ones_axis), {1}, false, c.kind));
    check_close(c.op(Tensor::scalar(2.5f), {}, false), Host{{}, {2.5}});
    check_close(c.op(T({-3}, {1}), {0}, true), Host{{1}, {-3}});
    Tensor tall = rand({100003, 2}, 23);
    check_close(c.op(tall, {0}, false), ref_reduce(host(tall), {0}, false, c.kind), 1e-4, 1e-4);
    Tensor wide = rand({2, 100003}, 24);
    check_close(c.op(wide, {}, false), ref_reduce(host(wide), {}, false, c.kind), 1e-4, 1e-4);
  }
}

TEST_CASE("reductions: default arguments, empty axes and hand-computed values") {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {2, 3});
  check_values(ta::sum(x), {}, {21});
  check_values(ta::mean(x), {}, {3.5});
  check_values(ta::max(x), {}, {6});
  check_values(ta::sum(x, {0}), {3}, {5, 7, 9});
  check_values(ta::sum(x, {1}, true), {2, 1}, {6, 15});
  check_values(ta::mean(x, {-1}), {2}, {2, 5});
  check_values(ta::max(T({-5, -2, -9}, {3}), {0}), {}, {-2});
  check_values(ta::sum(x, {}, true), {1, 1}, {21});
  check_values(ta::sum(Tensor::zeros({0, 3}), {0}), {3}, {0, 0, 0});
  check_values(ta::sum(Tensor::zeros({2, 0}), {1}, true), {2, 1}, {0, 0});
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

// ---- matrix products --------------------------------------------------------------

TEST_CASE("matmul: every transpose combination") {
  const int64_t M = 3, K = 4, N = 5;
  for (bool ta_ : {false, true}) {
    for (bool tb_ : {false, true}) {
      CAPTURE(ta_);
      CAPTURE(tb_);
      Tensor a = rand(ta_ ? Shape{K, M} : Shape{M, K}, 51), b = rand(tb_ ? Shape{N, K} : Shape{K, N}, 52);
      check_close(ta::matmul(a, b, ta_, tb_), ref_matmul(host(a), host(b), ta_, tb_));
      // The same with a batch of 2.
      Tensor ab = rand(ta_ ? Shape{2, K, M} : Shape{2, M, K}, 53), bb = rand(tb_ ? Shape{2, N, K} : Shape{2, K, N}, 54);
      check_close(ta::matmul(ab, bb, ta_, tb_), ref_matmul(host(ab), host(bb), ta_, tb_));
    }
  }
  Tensor a = T({1, 2, 3, 4, 5, 6}, {2, 3}), b = T({1, 0, 0, 1, 1, 1}, {3, 2});
  check_values(ta::matmul(a, b), {2, 2}, {4, 5, 10, 11});
}

TEST_CASE("matmul: batch dimensions broadcast") {
  const std::pair<Shape, Shape> shapes[] = {
      {{2, 3, 4}, {2, 4, 5}},        // batched
      {{2, 1, 3, 4}, {5, 4, 6}},     // broadcast batch
      {{2, 3, 4}, {4, 5}},           // 3-D @ 2-D
      {{3, 4}, {2, 4, 5}},           // 2-D @ 3-D
      {{1, 3, 4}, {3, 4, 2}},        // size-1 batch
      {{1, 1}, {1, 1}},              // single element
      {{1, 7}, {7, 1}},              // inner product
      {{6, 1}, {1, 5}},              // outer product
  };
  for (const auto& [sa, sb] : shapes) {
    const std::string a_shape = sa.str(), b_shape = sb.str();  // clang 14: doctest's messages cannot name a binding
    CAPTURE(a_shape);
    CAPTURE(b_shape);
    Tensor a = rand(sa, 61), b = rand(sb, 62);
    check_close(ta::matmul(a, b), ref_matmul(host(a), host(b), false, false));
  }
  Tensor a = rand({2, 1, 4, 3}, 63), b = rand({5, 6, 4}, 64);  // broadcast with both flags
  check_close(ta::matmul(a, b, true, true), ref_matmul(host(a), host(b), true, true));
}

TEST_CASE("linear: x W^T + b with the bias added inside the GEMM, any leading dimensions") {
  for (const Shape& xs : {Shape{4}, Shape{3, 4}, Shape{2, 3, 4}}) {
    CAPTURE(xs.str());
    Tensor x = rand(xs, 65), w = rand({5, 4}, 66), b = rand({5}, 67);
    Host expected = host(ta::matmul(ta::reshape(x, {-1, 4}), w, false, true) + b);
    std::vector<int64_t> dims = xs.vec();
    dims.back() = 5;
    expected.dims = dims;
    check_close(ta::linear(x, w, b), expected);
    Host no_bias = host(ta::matmul(ta::reshape(x, {-1, 4}), w, false, true));
    no_bias.dims = dims;
    check_close(ta::linear(x, w), no_bias);
  }
  // Empty sums give the bias alone; no rows give an empty result.
  check_values(ta::linear(Tensor::ones({2, 0}), Tensor::ones({3, 0}), T({1, 2, 3}, {3})), {2, 3}, {1, 2, 3, 1, 2, 3});
  check_close(ta::linear(Tensor::ones({0, 4}), Tensor::ones({3, 4}), Tensor::ones({3})), Host{{0, 3}, {}});
}

TEST_CASE("matmul: empty operands") {
  check_close(ta::matmul(Tensor::ones({2, 0}), Tensor::ones({0, 3})), Host{{2, 3}, std::vector<double>(6, 0.0)});
  check_close(ta::matmul(Tensor::ones({0, 4}), Tensor::ones({4, 3})), Host{{0, 3}, {}});
  check_close(ta::matmul(Tensor::ones({0, 2, 4}), Tensor::ones({4, 3})), Host{{0, 2, 3}, {}});
}

TEST_CASE("matmul: 67x129 @ 129x33 against the naive loop") {
  for (bool ta_ : {false, true}) {
    for (bool tb_ : {false, true}) {
      CAPTURE(ta_);
      CAPTURE(tb_);
      Tensor a = rand(ta_ ? Shape{129, 67} : Shape{67, 129}, 71, -1, 1);
      Tensor b = rand(tb_ ? Shape{33, 129} : Shape{129, 33}, 72, -1, 1);
      check_close(ta::matmul(a, b, ta_, tb_), ref_matmul(host(a), host(b), ta_, tb_), 1e-4, 1e-4);
    }
  }
}

// ---- shapes -----------------------------------------------------------------------

TEST_CASE("reshape keeps the values in row-major order") {
  Tensor x = rand({2, 3, 4}, 81);
  for (const Shape& s : {Shape{6, 4}, Shape{2, 12}, Shape{24}, Shape{4, 3, 2}, Shape{1, 4, 1, 6}}) {
    CAPTURE(s.str());
    check_close(ta::reshape(x, s), Host{s.vec(), host(x).v}, 0, 0);
  }
  check_values(ta::reshape(Tensor::scalar(3), {1, 1}), {1, 1}, {3});
  check_values(ta::reshape(T({3}, {1, 1}), {}), {}, {3});
  check_close(ta::reshape(Tensor::zeros({0, 4}), {2, 0, 3}), Host{{2, 0, 3}, {}});
}

TEST_CASE("reshape infers one dimension given as -1") {
  Tensor x = rand({2, 3, 4}, 81);
  const std::pair<std::vector<int64_t>, Shape> cases[] = {
      {{-1, 4}, {6, 4}}, {{2, -1}, {2, 12}}, {{-1}, {24}}, {{1, -1, 1, 6}, {1, 4, 1, 6}}};
  for (const auto& [request, result] : cases) {
    const std::string expected = result.str();  // clang 14: doctest's messages cannot name a binding
    CAPTURE(expected);
    check_close(ta::reshape(x, request), Host{result.vec(), host(x).v}, 0, 0);
  }
}

TEST_CASE("permute and transpose") {
  Tensor x = rand({2, 3, 4}, 82);
  for (const std::vector<int>& order : {std::vector<int>{2, 0, 1}, {1, 0, 2}, {0, 2, 1}, {2, 1, 0}, {0, 1, 2}}) {
    CAPTURE(order[0]);
    CAPTURE(order[1]);
    check_close(ta::permute(x, order), ref_permute(host(x), order), 0, 0);
  }
  check_close(ta::permute(x, {-1, -3, -2}), ref_permute(host(x), {2, 0, 1}), 0, 0);
  check_close(ta::transpose(x, 0, 2), ref_permute(host(x), {2, 1, 0}), 0, 0);
  check_close(ta::transpose(x, -1, -2), ref_permute(host(x), {0, 2, 1}), 0, 0);
  check_close(ta::transpose(x, 1, 1), host(x), 0, 0);
  check_values(ta::transpose(T({1, 2, 3, 4, 5, 6}, {2, 3}), 0, 1), {3, 2}, {1, 4, 2, 5, 3, 6});
  Tensor big = rand({67, 129}, 83);
  check_close(ta::transpose(big, 0, 1), ref_permute(host(big), {1, 0}), 0, 0);
  Tensor x5 = rand({2, 3, 1, 4, 2}, 84);
  check_close(ta::permute(x5, {4, 2, 0, 3, 1}), ref_permute(host(x5), {4, 2, 0, 3, 1}), 0, 0);
}

TEST_CASE("unsqueeze and squeeze change only the shape") {
  Tensor x = rand({2, 3}, 85);
  const std::pair<int, Shape> unsq[] = {{0, {1, 2, 3}}, {1, {2, 1, 3}}, {2, {2, 3, 1}}, {-1, {2, 3, 1}}, {-3, {1, 2, 3}}};
  for (const auto& [axis, shape] : unsq) {
    const int unsqueezed_axis = axis;  // clang 14: doctest's messages cannot name a binding
    CAPTURE(unsqueezed_axis);
    check_close(ta::unsqueeze(x, axis), Host{shape.vec(), host(x).v}, 0, 0);
  }
  check_values(ta::unsqueeze(Tensor::scalar(4), 0), {1}, {4});
  Tensor y = rand({2, 1, 3}, 86);
  check_close(ta::squeeze(y, 1), Host{{2, 3}, host(y).v}, 0, 0);
  check_close(ta::squeeze(y, -2), Host{{2, 3}, host(y).v}, 0, 0);
  check_values(ta::squeeze(T({4}, {1}), 0), {}, {4});
}

TEST_CASE("broadcast_to") {
  Tensor x = T({1, 2, 3}, {3, 1});
  check_close(ta::broadcast_to(x, {2, 3, 4}), ref_broadcast(host(x), {2, 3, 4}), 0, 0);
  check_values(ta::broadcast_to(Tensor::scalar(5), {2, 2}), {2, 2}, {5, 5, 5, 5});
  check_close(ta::broadcast_to(x, {3, 1}), host(x), 0, 0);
  Tensor row = T({1, 2}, {2});
  check_values(ta::broadcast_to(row, {3, 2}), {3, 2}, {1, 2, 1, 2, 1, 2});
  check_close(ta::broadcast_to(row, {0, 2}), Host{{0, 2}, {}});
}

TEST_CASE("narrow and slice") {
  Tensor x = rand({3, 5}, 87);
  Host hx = host(x);
  check_close(ta::narrow(x, 1, 1, 2), ref_narrow(hx, 1, 1, 2), 0, 0);
  check_close(ta::narrow(x, 0, 1, 2), ref_narrow(hx, 0, 1, 2), 0, 0);
  check_close(ta::narrow(x, -1, 4, 1), ref_narrow(hx, 1, 4, 1), 0, 0);
  check_close(ta::narrow(x, 1, 0, 5), hx, 0, 0);
  check_close(ta::narrow(x, 1, 2, 0), Host{{3, 0}, {}});
  Tensor x3 = rand({2, 3, 4}, 88);
  check_close(ta::narrow(x3, 1, 2, 1), ref_narrow(host(x3), 1, 2, 1), 0, 0);
  check_close(ta::narrow(x3, 2, 1, 3), ref_narrow(host(x3), 2, 1, 3), 0, 0);

  SUBCASE("slice takes Python-style bounds") {
    check_close(ta::slice(x, 1, 1, 3), ref_narrow(hx, 1, 1, 2), 0, 0);
    check_close(ta::slice(x, 1, -3, -1), ref_narrow(hx, 1, 2, 2), 0, 0);
    check_close(ta::slice(x, -1, -2, 5), ref_narrow(hx, 1, 3, 2), 0, 0);
    check_close(ta::slice(x, 0, 0, -1), ref_narrow(hx, 0, 0, 2), 0, 0);
    check_close(ta::slice(x, 0, 2, 3), ref_narrow(hx, 0, 2, 1), 0, 0);
    check_close(ta::slice(x, 1, 2, 100), ref_narrow(hx, 1, 2, 3), 0, 0);   // end past the size clamps
    check_close(ta::slice(x, 1, -100, 2), ref_narrow(hx, 1, 0, 2), 0, 0);  // start before 0 clamps
    check_close(ta::slice(x, 1, 3, 3), Host{{3, 0}, {}});
  }
}

TEST_CASE("concat, split and stack") {
  Tensor a = rand({2, 3}, 91), b = rand({1, 3}, 92), c = rand({2, 2}, 93);
  check_close(ta::concat({a, b}, 0), ref_concat({host(a), host(b)}, 0), 0, 0);
  check_close(ta::concat({a, c}, 1), ref_concat({host(a), host(c)}, 1), 0, 0);
  check_close(ta::concat({c, a, c}, -1), ref_concat({host(c), host(a), host(c)}, 1), 0, 0);
  check_close(ta::concat({a}, 0), host(a), 0, 0);
  check_close(ta::concat({a, Tensor::zeros({0, 3}), b}, 0), ref_concat({host(a), host(b)}, 0), 0, 0);
  Tensor p = rand({2, 2, 2}, 94), q = rand({2, 1, 2}, 95);
  check_close(ta::concat({p, q}, 1), ref_concat({host(p), host(q)}, 1), 0, 0);
  check_values(ta::concat({T({1, 2}, {2}), T({3}, {1})}, 0), {3}, {1, 2, 3});

  SUBCASE("split undoes concat") {
    Tensor x = rand({2, 5}, 96);
    std::vector<Tensor> parts = ta::split(x, {2, 3}, 1);
    REQUIRE(parts.size() == 2);
    check_close(parts[0], ref_narrow(host(x), 1, 0, 2), 0, 0);
    check_close(parts[1], ref_narrow(host(x), 1, 2, 3), 0, 0);
    std::vector<Tensor> rows = ta::split(x, {1, 1}, 0);
    REQUIRE(rows.size() == 2);
    check_close(rows[1], ref_narrow(host(x), 0, 1, 1), 0, 0);
    std::vector<Tensor> with_empty = ta::split(x, {2, 0, 3}, -1);
    REQUIRE(with_empty.size() == 3);
    CHECK(with_empty[1].shape() == Shape{2, 0});
    check_close(with_empty[2], ref_narrow(host(x), 1, 2, 3), 0, 0);
    check_close(ta::split(x, {5}, 1)[0], host(x), 0, 0);
  }
  SUBCASE("stack inserts a new axis") {
    Tensor x = rand({2, 3}, 97), y = rand({2, 3}, 98), z = rand({2, 3}, 99);
    auto with_axis = [](const Tensor& t, int axis) {
      Host h = host(t);
      h.dims.insert(h.dims.begin() + axis, 1);
      return h;
    };
    for (int axis : {0, 1, 2}) {
      CAPTURE(axis);
      check_close(ta::stack({x, y, z}, axis),
                  ref_concat({with_axis(x, axis), with_axis(y, axis), with_axis(z, axis)}, axis), 0, 0);
    }
    check_close(ta::stack({x, y, z}, -1), ref_concat({with_axis(x, 2), with_axis(y, 2), with_axis(z, 2)}, 2), 0, 0);
    check_values(ta::stack({Tensor::scalar(1), Tensor::scalar(2)}, 0), {2}, {1, 2});
  }
}

// ---- indexing ---------------------------------------------------------------------

TEST_CASE("index_select") {
  Tensor x = rand({4, 3}, 101);
  check_close(ta::index_select(x, 0, T({3, 0, 3}, {3})), ref_index_select(host(x), 0, {3, 0, 3}), 0, 0);
  check_close(ta::index_select(x, 1, T({2, 0}, {2})), ref_index_select(host(x), 1, {2, 0}), 0, 0);
  check_close(ta::index_select(x, -1, T({1}, {1})), ref_index_select(host(x), 1, {1}), 0, 0);
  check_close(ta::index_select(x, 0, Tensor::zeros({0})), Host{{0, 3}, {}});
  Tensor x3 = rand({2, 3, 4}, 102);
  check_close(ta::index_select(x3, 1, T({2, 2, 0, 1}, {4})), ref_index_select(host(x3), 1, {2, 2, 0, 1}), 0, 0);
  check_close(ta::index_select(x3, 2, T({3, 0}, {2})), ref_index_select(host(x3), 2, {3, 0}), 0, 0);
}

TEST_CASE("gather (torch.gather semantics)") {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {2, 3});
  check_values(ta::gather(x, 1, T({0, 2, 1, 1}, {2, 2})), {2, 2}, {1, 3, 5, 5});
  check_values(ta::gather(x, 0, T({1, 0, 1}, {1, 3})), {1, 3}, {4, 2, 6});
  check_values(ta::gather(x, -1, T({2, 0}, {2, 1})), {2, 1}, {3, 4});
  Tensor x3 = rand({2, 3, 4}, 103);
  Tensor idx = T({2, 0, 1, 1, 0, 2, 2, 2, 1, 0, 0, 1, 2, 2, 0, 1}, {2, 2, 4});
  check_close(ta::gather(x3, 1, idx), ref_gather(host(x3), 1, host(idx)), 0, 0);
}

TEST_CASE("embedding looks up rows of the weight") {
  Tensor w = rand({5, 3}, 104);
  Tensor ids = T({4, 0, 2, 4}, {2, 2});
  Host want = ref_index_select(host(w), 0, {4, 0, 2, 4});
  want.dims = {2, 2, 3};
  check_close(ta::embedding(w, ids), want, 0, 0);
  Host one = ref_index_select(host(w), 0, {1});
  one.dims = {3};
  check_close(ta::embedding(w, Tensor::scalar(1)), one, 0, 0);
  check_close(ta::embedding(w, T({3, 1, 1}, {3})), ref_index_select(host(w), 0, {3, 1, 1}), 0, 0);
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
