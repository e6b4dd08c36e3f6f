// tests/autograd/ops_testing.h — what the forward-value tests of the ops share: a
// tensor's values in double with its dimensions (Host), the index arithmetic of
// row-major and broadcast arrays that the reference loops use, seeded inputs, and
// check_close, which compares an op's result with a reference element by element.
// The reference loops themselves live in the test file of their ops
// (test_ops_elementwise.cpp, test_ops_reduce.cpp, test_ops_matmul.cpp,
// test_ops_shape.cpp).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"

namespace ta::testing {

inline constexpr float kInf = std::numeric_limits<float>::infinity();

// ---- host-side arrays and the reference loops ------------------------------------

// A tensor's values in double with its dimensions: what the references compute on.
struct Host {
  std::vector<int64_t> dims;
  std::vector<double> v;
};

inline int64_t product(const std::vector<int64_t>& dims, size_t from = 0, size_t to = SIZE_MAX) {
  to = std::min(to, dims.size());
  return std::accumulate(dims.begin() + std::min(from, to), dims.begin() + to, int64_t{1}, std::multiplies<>());
}

inline Host host(const Tensor& t) {
  std::vector<float> f = t.to_vector();
  return {t.shape().vec(), std::vector<double>(f.begin(), f.end())};
}

inline std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t>& dims) {
  std::vector<int64_t> idx(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    idx[d] = flat % dims[d];
    flat /= dims[d];
  }
  return idx;
}

// Flat offset into an array of `dims` for an index into a broadcast result whose
// rank may be larger (dims aligned at the right; size-1 dims always read 0).
inline int64_t broadcast_offset(const std::vector<int64_t>& out_idx, const std::vector<int64_t>& dims) {
  size_t shift = out_idx.size() - dims.size();
  int64_t flat = 0;
  for (size_t d = 0; d < dims.size(); ++d) flat = flat * dims[d] + (dims[d] == 1 ? 0 : out_idx[shift + d]);
  return flat;
}

inline std::vector<int64_t> broadcast_dims(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n, 1);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1, db = i < b.size() ? b[b.size() - 1 - i] : 1;
    out[n - 1 - i] = da == 1 ? db : da;
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

inline int norm_axis(int axis, size_t ndim) { return axis < 0 ? axis + int(ndim) : axis; }

// ---- building inputs and comparing ----------------------------------------------

inline Tensor T(const std::vector<float>& values, const Shape& shape) { return Tensor::from_vector(values, shape); }

// Seeded uniform values in [lo, hi).
inline Tensor rand(const Shape& shape, uint64_t seed, float lo = -2.0f, float hi = 2.0f) {
  ta::Generator gen(seed);
  return Tensor::uniform(shape, lo, hi, gen);
}

inline std::string dims_str(const std::vector<int64_t>& dims) { return Shape(dims).str(); }

inline std::string axes_str(const std::vector<int>& axes) {
  std::string s = "{";
  for (int a : axes) s += std::to_string(a) + " ";
  return s + "}";
}

// got must have want's shape and match it elementwise within atol + rtol * |want|;
// infinities must match exactly and NaN is never accepted.
inline void check_close(const Tensor& got, const Host& want, double atol = 1e-5, double rtol = 1e-5) {
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

inline void check_values(const Tensor& got, const Shape& shape, const std::vector<double>& want, double atol = 1e-5,
                  double rtol = 1e-5) {
  check_close(got, Host{shape.vec(), want}, atol, rtol);
}

}  // namespace ta::testing
