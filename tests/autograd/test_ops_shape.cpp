// tests/autograd/test_ops_shape.cpp — forward values of the shape and indexing ops
// (reshape, permute and transpose, squeeze and unsqueeze, broadcast_to, narrow and
// slice, concat, split and stack, index_select, gather, embedding) against plain
// loops over the row-major index, with negative axes and empty parts.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"
#include "core/tensor.h"
#include "tests/autograd/ops_testing.h"

using ta::Shape;
using ta::Tensor;
using namespace ta::testing;

namespace {

Host ref_broadcast(const Host& x, const std::vector<int64_t>& dims) {
  Host out{dims, std::vector<double>(product(dims))};
  for (int64_t i = 0; i < product(dims); ++i) out.v[i] = x.v[broadcast_offset(unravel(i, dims), x.dims)];
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

}  // namespace

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
