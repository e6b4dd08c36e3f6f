// tests/core/test_shape.cpp — Shape (construction, printing, reduced/inserted,
// outer/inner), contiguous_strides, broadcast_shapes and normalize_axis, with their
// errors. Tensors are not involved; see test_tensor.cpp for those.
#include <doctest/doctest.h>

#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/shape.h"
#include "tests/testing.h"

using ta::Shape;

namespace {

using ta::testing::error_message;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<int64_t> strides_of(const Shape& s) {
  ta::Dims d = ta::contiguous_strides(s);
  return {d.begin(), d.begin() + s.ndim()};
}

}  // namespace

TEST_CASE("Shape: construction, size and printing") {
  SUBCASE("a default Shape is a scalar: no dimensions, one element") {
    Shape s;
    CHECK(s.ndim() == 0);
    CHECK(s.numel() == 1);
    CHECK(s.str() == "[]");
    CHECK(s.vec().empty());
  }
  SUBCASE("from an initializer list") {
    Shape s{2, 3, 4};
    CHECK(s.ndim() == 3);
    CHECK(s[0] == 2);
    CHECK(s[1] == 3);
    CHECK(s[2] == 4);
    CHECK(s.numel() == 24);
    CHECK(s.str() == "[2, 3, 4]");
    CHECK(s.vec() == std::vector<int64_t>{2, 3, 4});
  }
  SUBCASE("from a vector") {
    Shape s(std::vector<int64_t>{5, 1});
    CHECK(s == Shape{5, 1});
    CHECK(s.str() == "[5, 1]");
  }
  SUBCASE("a zero dimension means no elements") {
    CHECK(Shape{2, 0, 3}.numel() == 0);
    CHECK(Shape{0}.str() == "[0]");
  }
  SUBCASE("six dimensions is the maximum") {
    Shape s{1, 2, 1, 2, 1, 2};
    CHECK(s.ndim() == 6);
    CHECK(s.numel() == 8);
  }
  SUBCASE("operator<< prints like str()") {
    std::ostringstream os;
    os << Shape{2, 3};
    CHECK(os.str() == "[2, 3]");
  }
  SUBCASE("iteration visits the dimensions in order") {
    Shape s{7, 8, 9};
    std::vector<int64_t> seen(s.begin(), s.end());
    CHECK(seen == std::vector<int64_t>{7, 8, 9});
  }
  SUBCASE("operator[] writes a dimension") {
    Shape s{2, 3};
    s[1] = 5;
    CHECK(s == Shape{2, 5});
  }
}

TEST_CASE("Shape: equality compares rank and every dimension") {
  CHECK(Shape{2, 3} == Shape{2, 3});
  CHECK_FALSE(Shape{2, 3} == Shape{3, 2});
  CHECK_FALSE(Shape{2, 3} == Shape{2, 3, 1});
  CHECK_FALSE(Shape{} == Shape{1});
  CHECK(Shape{} == Shape());
}

TEST_CASE("Shape: reduced and inserted") {
  Shape s{2, 3, 4};
  CHECK(s.reduced(0, ta::KeepDims::No) == Shape{3, 4});
  CHECK(s.reduced(1, ta::KeepDims::No) == Shape{2, 4});
  CHECK(s.reduced(2, ta::KeepDims::No) == Shape{2, 3});
  CHECK(s.reduced(1, ta::KeepDims::Yes) == Shape{2, 1, 4});
  CHECK(Shape{5}.reduced(0, ta::KeepDims::No) == Shape{});
  CHECK(Shape{5}.reduced(0, ta::KeepDims::Yes) == Shape{1});

  CHECK(s.inserted(0, 7) == Shape{7, 2, 3, 4});
  CHECK(s.inserted(1, 1) == Shape{2, 1, 3, 4});
  CHECK(s.inserted(3, 5) == Shape{2, 3, 4, 5});
  CHECK(Shape{}.inserted(0, 3) == Shape{3});
}

TEST_CASE("Shape: outer and inner give the [outer, n, inner] view of an axis") {
  Shape s{2, 3, 4};
  CHECK(s.outer(0) == 1);
  CHECK(s.inner(0) == 12);
  CHECK(s.outer(1) == 2);
  CHECK(s.inner(1) == 4);
  CHECK(s.outer(2) == 6);
  CHECK(s.inner(2) == 1);
  for (int axis = 0; axis < 3; ++axis) CHECK(s.outer(axis) * s[axis] * s.inner(axis) == s.numel());
}

TEST_CASE("contiguous_strides: row-major, in elements") {
  CHECK(strides_of(Shape{2, 3, 4}) == std::vector<int64_t>{12, 4, 1});
  CHECK(strides_of(Shape{5}) == std::vector<int64_t>{1});
  CHECK(strides_of(Shape{3, 1, 2}) == std::vector<int64_t>{2, 2, 1});
  CHECK(strides_of(Shape{2, 1, 2, 1, 3, 2}) == std::vector<int64_t>{12, 12, 6, 6, 2, 1});
  CHECK(strides_of(Shape{}).empty());
}

TEST_CASE("broadcast_shapes: NumPy rules") {
  auto bc = [](const Shape& a, const Shape& b) { return ta::broadcast_shapes(a, b, "test"); };
  CHECK(bc({3, 1}, {1, 4}) == Shape{3, 4});
  CHECK(bc({2, 3, 4}, {4}) == Shape{2, 3, 4});
  CHECK(bc({4}, {2, 3, 4}) == Shape{2, 3, 4});
  CHECK(bc({5, 1, 3}, {4, 1}) == Shape{5, 4, 3});
  CHECK(bc({}, {2, 3}) == Shape{2, 3});
  CHECK(bc({2, 3}, {}) == Shape{2, 3});
  CHECK(bc({}, {}) == Shape{});
  CHECK(bc({1}, {}) == Shape{1});
  CHECK(bc({2, 3}, {2, 3}) == Shape{2, 3});
  CHECK(bc({2, 0}, {1}) == Shape{2, 0});
  CHECK(bc({1, 1, 1, 1, 1, 7}, {6, 1}) == Shape{1, 1, 1, 1, 6, 7});
}

TEST_CASE("broadcast_shapes: incompatible shapes throw naming the op and both shapes") {
  CHECK_THROWS_AS(ta::broadcast_shapes({2, 3}, {4}, "my_op"), ta::Error);
  std::string msg = error_message([] { ta::broadcast_shapes({2, 3}, {4}, "my_op"); });
  CHECK(contains(msg, "my_op"));
  CHECK(contains(msg, "[2, 3]"));
  CHECK(contains(msg, "[4]"));

  CHECK_THROWS_AS(ta::broadcast_shapes({2, 3, 4}, {3, 3, 4}, "my_op"), ta::Error);
  CHECK_THROWS_AS(ta::broadcast_shapes({0}, {2}, "my_op"), ta::Error);
}

TEST_CASE("normalize_axis: negative axes count from the end") {
  CHECK(ta::normalize_axis(0, 3, "test") == 0);
  CHECK(ta::normalize_axis(2, 3, "test") == 2);
  CHECK(ta::normalize_axis(-1, 3, "test") == 2);
  CHECK(ta::normalize_axis(-3, 3, "test") == 0);
  CHECK(ta::normalize_axis(-1, 1, "test") == 0);
}

TEST_CASE("normalize_axis: out-of-range axes throw naming the op and the axis") {
  CHECK_THROWS_AS(ta::normalize_axis(3, 3, "my_op"), ta::Error);
  CHECK_THROWS_AS(ta::normalize_axis(-4, 3, "my_op"), ta::Error);
  CHECK_THROWS_AS(ta::normalize_axis(0, 0, "my_op"), ta::Error);
  std::string msg = error_message([] { ta::normalize_axis(5, 3, "my_op"); });
  CHECK(contains(msg, "my_op"));
  CHECK(contains(msg, "5"));
}

TEST_CASE("Shape: more than six dimensions throws") {
  CHECK_THROWS_AS(Shape({1, 2, 3, 4, 5, 6, 7}), ta::Error);
  CHECK_THROWS_AS(Shape(std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1}), ta::Error);
  std::string msg = error_message([] { Shape s{1, 2, 3, 4, 5, 6, 7}; });
  CHECK(contains(msg, "7"));
}

TEST_CASE("Shape: a product of dimensions that overflows int64 is an error naming the shape") {
  const int64_t big = int64_t{1} << 32;
  const Shape s{3, big, big};
  const std::string m = error_message([&] { (void)s.numel(); });
  CHECK(contains(m, "shape [3, 4294967296, 4294967296]: 5.5340"));
  CHECK(contains(m, "more than int64 counts"));
  CHECK_THROWS_AS((void)s.inner(0), ta::Error);
  CHECK_THROWS_AS((void)ta::contiguous_strides(s), ta::Error);
  CHECK_THROWS_AS((void)Shape({big, big, 3}).outer(2), ta::Error);
  CHECK(s.inner(1) == big);
  CHECK(s.outer(2) == 3 * big);
  // INT64_MAX itself is a count; one more is not.
  CHECK(Shape{std::numeric_limits<int64_t>::max()}.numel() == std::numeric_limits<int64_t>::max());
  CHECK_THROWS_AS((void)Shape({std::numeric_limits<int64_t>::max(), 2}).numel(), ta::Error);
  // A zero dimension makes the product 0, whatever the others.
  const Shape empty{big, big, 0};
  CHECK(empty.numel() == 0);
  CHECK(empty.inner(0) == 0);
  CHECK(strides_of(empty) == std::vector<int64_t>{0, 0, 1});
  CHECK(Shape({0, big, big}).numel() == 0);
}
