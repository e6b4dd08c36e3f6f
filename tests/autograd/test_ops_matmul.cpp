// tests/autograd/test_ops_matmul.cpp — forward values of matmul (every transpose
// combination, broadcast batch dimensions, empty operands, a size off every block)
// and linear (the bias added inside the GEMM), against the naive triple loop in double.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"
#include "core/tensor.h"
#include "tests/autograd/ops_testing.h"

using ta::Shape;
using ta::Tensor;
using ta::Transposed;
using namespace ta::testing;

namespace {

constexpr Transposed kEveryTransposed[] = {Transposed::None, Transposed::A, Transposed::B, Transposed::Both};

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

}  // namespace

// ---- matrix products --------------------------------------------------------------

TEST_CASE("matmul: every transpose combination") {
  const int64_t M = 3, K = 4, N = 5;
  for (Transposed t : kEveryTransposed) {
    const bool ta_ = t == Transposed::A || t == Transposed::Both, tb_ = t == Transposed::B || t == Transposed::Both;
    CAPTURE(ta_);
    CAPTURE(tb_);
    Tensor a = rand(ta_ ? Shape{K, M} : Shape{M, K}, 51), b = rand(tb_ ? Shape{N, K} : Shape{K, N}, 52);
    check_close(ta::matmul(a, b, t), ref_matmul(host(a), host(b), ta_, tb_));
    // The same with a batch of 2.
    Tensor ab = rand(ta_ ? Shape{2, K, M} : Shape{2, M, K}, 53), bb = rand(tb_ ? Shape{2, N, K} : Shape{2, K, N}, 54);
    check_close(ta::matmul(ab, bb, t), ref_matmul(host(ab), host(bb), ta_, tb_));
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
  check_close(ta::matmul(a, b, Transposed::Both), ref_matmul(host(a), host(b), true, true));
}

TEST_CASE("linear: x W^T + b with the bias added inside the GEMM, any leading dimensions") {
  for (const Shape& xs : {Shape{4}, Shape{3, 4}, Shape{2, 3, 4}}) {
    CAPTURE(xs.str());
    Tensor x = rand(xs, 65), w = rand({5, 4}, 66), b = rand({5}, 67);
    Host expected = host(ta::matmul(ta::reshape(x, {-1, 4}), w, Transposed::B) + b);
    std::vector<int64_t> dims = xs.vec();
    dims.back() = 5;
    expected.dims = dims;
    check_close(ta::linear(x, w, b), expected);
    Host no_bias = host(ta::matmul(ta::reshape(x, {-1, 4}), w, Transposed::B));
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
  for (Transposed t : kEveryTransposed) {
    const bool ta_ = t == Transposed::A || t == Transposed::Both, tb_ = t == Transposed::B || t == Transposed::Both;
    CAPTURE(ta_);
    CAPTURE(tb_);
    Tensor a = rand(ta_ ? Shape{129, 67} : Shape{67, 129}, 71, -1, 1);
    Tensor b = rand(tb_ ? Shape{33, 129} : Shape{129, 33}, 72, -1, 1);
    check_close(ta::matmul(a, b, t), ref_matmul(host(a), host(b), ta_, tb_), 1e-4, 1e-4);
  }
}
