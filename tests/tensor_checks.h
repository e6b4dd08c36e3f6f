// tests/tensor_checks.h — doctest checks on a tensor's shape and values, shared by the
// test files that compare against hand-worked numbers.
#pragma once

#include <doctest/doctest.h>

#include <vector>

#include "core/tensor.h"

namespace ta::testing {

// t is defined, has `shape`, and holds `expected` element by element up to a relative
// `epsilon` (doctest::Approx); a failure names the element.
inline void check_close(const Tensor& t, const Shape& shape, const std::vector<float>& expected, double epsilon) {
  REQUIRE(t.defined());
  CHECK(t.shape() == shape);
  std::vector<float> got = t.to_vector();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i);
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(epsilon));
  }
}

}  // namespace ta::testing
