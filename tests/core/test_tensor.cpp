// tests/core/test_tensor.cpp — the Tensor handle: creation (zeros, ones, full,
// scalar, arange, from_vector, uniform and normal), reading values out (to_vector,
// item, at, str), and which operations share storage (copies, detach, reshape) and
// which do not (clone). Op values are in tests/autograd/test_ops_*.cpp, error
// paths in tests/autograd/test_errors.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "core/tensor.h"
#include "tests/tensor_checks.h"
#include "tests/thread_count.h"

using ta::Shape;
using ta::Tensor;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void check_values(const Tensor& t, const Shape& shape, const std::vector<float>& expected) {
  ta::testing::check_close(t, shape, expected, 1e-6);
}

struct Moments {
  double mean, std;
};

Moments moments(const std::vector<float>& v) {
  double s = 0, s2 = 0;
  for (float x : v) s += x;
  double mean = s / v.size();
  for (float x : v) s2 += (x - mean) * (x - mean);
  return {mean, std::sqrt(s2 / v.size())};
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs make() with n OpenMP threads, restoring the previous setting afterwards.
template <class F>
std::vector<float> with_threads(int n, F&& make) {
  const ta::testing::ThreadCount use(n);
  return make().to_vector();
}

}  // namespace

TEST_CASE("Tensor: constant creation") {
  check_values(Tensor::zeros({2, 3}), {2, 3}, std::vector<float>(6, 0.0f));
  check_values(Tensor::ones({4}), {4}, std::vector<float>(4, 1.0f));
  check_values(Tensor::full({3, 1}, -2.5f), {3, 1}, {-2.5f, -2.5f, -2.5f});
  check_values(Tensor::scalar(7.0f), {}, {7.0f});
  CHECK(Tensor::zeros({2, 0, 3}).numel() == 0);
  CHECK(Tensor::zeros({2, 0, 3}).to_vector().empty());
  CHECK(Tensor::empty({5, 2}).shape() == Shape{5, 2});
  CHECK(Tensor::zeros({}).shape() == Shape{});
}

TEST_CASE("Tensor: what it is") {
  Tensor t = Tensor::zeros({2, 3, 4});
  CHECK(t.defined());
  CHECK(t.ndim() == 3);
  CHECK(t.numel() == 24);
  CHECK(t.size(0) == 2);
  CHECK(t.size(2) == 4);
  CHECK(t.size(-1) == 4);
  CHECK(t.size(-3) == 2);
  CHECK(t.device() == ta::Device::CPU);
  CHECK_FALSE(Tensor().defined());
}

TEST_CASE("Tensor::arange") {
  check_values(Tensor::arange(0, 5), {5}, {0, 1, 2, 3, 4});
  check_values(Tensor::arange(2, 4), {2}, {2, 3});
  check_values(Tensor::arange(0, 1, 0.25f), {4}, {0, 0.25f, 0.5f, 0.75f});
  check_values(Tensor::arange(0, 1.1f, 0.5f), {3}, {0, 0.5f, 1.0f});
  check_values(Tensor::arange(-1, 2), {3}, {-1, 0, 1});
  SUBCASE("negative step counts down, excluding end") {
    check_values(Tensor::arange(5, 0, -2), {3}, {5, 3, 1});
    check_values(Tensor::arange(3, 0, -1), {3}, {3, 2, 1});
    check_values(Tensor::arange(1, -1, -0.5f), {4}, {1, 0.5f, 0, -0.5f});
  }
  SUBCASE("empty ranges give shape [0]") {
    check_values(Tensor::arange(3, 3), {0}, {});
    check_values(Tensor::arange(3, 0), {0}, {});
    check_values(Tensor::arange(0, 3, -1), {0}, {});
  }
}

TEST_CASE("Tensor::from_vector keeps row-major order") {
  Tensor t = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  check_values(t, {2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(t.at({0, 0}) == 1);
  CHECK(t.at({0, 2}) == 3);
  CHECK(t.at({1, 0}) == 4);
  CHECK(t.at({1, 2}) == 6);
  check_values(Tensor::from_vector({9}, {}), {}, {9});
  check_values(Tensor::from_vector({}, {0, 4}), {0, 4}, {});
}

TEST_CASE("Tensor: item and at") {
  CHECK(Tensor::scalar(3.5f).item() == 3.5f);
  CHECK(Tensor::full({1, 1, 1}, -4.0f).item() == -4.0f);
  Tensor t = Tensor::arange(0, 24);
  Tensor r = ta::reshape(t, {2, 3, 4});
  CHECK(r.at({1, 2, 3}) == 23);
  CHECK(r.at({1, 0, 2}) == 14);
  CHECK(r.at({0, 1, 0}) == 4);
}

TEST_CASE("Tensor: str() shows the values and the shape") {
  Tensor t = Tensor::from_vector({1.5f, -2, 3, 4, 5, 6}, {2, 3});
  std::string s = t.str();
  CHECK(contains(s, "1.5"));
  CHECK(contains(s, "-2"));
  CHECK(contains(s, "6"));
  CHECK(contains(s, "[2, 3]"));
  std::ostringstream os;
  os << t;
  CHECK(os.str() == s);

  CHECK(contains(Tensor::scalar(0.25f).str(), "0.25"));

  SUBCASE("long dimensions are summarized") {
    std::string big = Tensor::arange(0, 1000).str();
    CHECK(contains(big, "[1000]"));
    CHECK(big.size() < 400);
    CHECK_FALSE(contains(big, "500"));
  }
}

TEST_CASE("Tensor: handles, detach, clone and reshape") {
  Tensor t = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});

  SUBCASE("copying a handle shares everything") {
    Tensor u = t;
    CHECK(u.impl() == t.impl());
    u.data()[0] = 10;
    CHECK(t.at({0, 0}) == 10);
  }
  SUBCASE("detach shares storage and has no history") {
    Tensor x = Tensor::from_vector({1, 2, 3}, {3});
    x.set_requires_grad();
    Tensor y = ta::mul(x, 2.0f);
    Tensor d = y.detach();
    CHECK(d.data() == y.data());
    CHECK(d.shape() == y.shape());
    CHECK(d.is_leaf());
    CHECK_FALSE(d.requires_grad());
    CHECK(d.grad_fn() == nullptr);
    d.data()[1] = 100;
    CHECK(y.at({1}) == 100);
    CHECK(y.requires_grad());  // the original keeps its history
  }
  SUBCASE("clone copies into new storage") {
    Tensor c = t.clone();
    CHECK(c.data() != t.data());
    check_values(c, {2, 3}, {1, 2, 3, 4, 5, 6});
    c.data()[0] = -1;
    CHECK(t.at({0, 0}) == 1);
    CHECK(c.is_leaf());
    CHECK_FALSE(c.requires_grad());
  }
  SUBCASE("reshape is a view of the same storage") {
    Tensor r = ta::reshape(t, {3, 2});
    CHECK(r.data() == t.data());
    check_values(r, {3, 2}, {1, 2, 3, 4, 5, 6});
    r.data()[5] = 60;
    CHECK(t.at({1, 2}) == 60);
  }
  SUBCASE("to(CPU) keeps the values") {
    check_values(t.to(ta::Device::CPU), {2, 3}, {1, 2, 3, 4, 5, 6});
  }
}

TEST_CASE("Tensor::uniform: range and statistics") {
  ta::Generator gen(2024);
  Tensor u = Tensor::uniform({100000}, -1.0f, 3.0f, gen);
  CHECK(u.shape() == Shape{100000});
  std::vector<float> v = u.to_vector();
  float lo = v[0], hi = v[0];
  for (float x : v) lo = std::min(lo, x), hi = std::max(hi, x);
  CHECK(lo >= -1.0f);
  CHECK(hi < 3.0f);
  CHECK(lo < -0.99f);  // the whole range is used
  CHECK(hi > 2.99f);
  // Uniform on [-1, 3): mean 1, std 4 / sqrt(12) ~ 1.1547; standard error of the
  // mean ~ 0.0037.
  Moments m = moments(v);
  CHECK(std::abs(m.mean - 1.0) < 0.02);
  CHECK(std::abs(m.std - 4.0 / std::sqrt(12.0)) < 0.01);
}

TEST_CASE("Tensor::normal: statistics") {
  ta::Generator gen(7);
  std::vector<float> v = Tensor::normal({100000}, 2.0f, 3.0f, gen).to_vector();
  Moments m = moments(v);
  // Standard error of the mean is 3 / sqrt(1e5) ~ 0.0095; of the std ~ 0.0067.
  CHECK(std::abs(m.mean - 2.0) < 0.05);
  CHECK(std::abs(m.std - 3.0) < 0.04);
  int within_one_sd = 0, not_finite = 0;
  for (float x : v) {
    not_finite += !std::isfinite(x);
    within_one_sd += std::abs(x - 2.0f) < 3.0f;
  }
  CHECK(not_finite == 0);
  CHECK(within_one_sd / 1e5 == doctest::Approx(0.6827).epsilon(0.02));
}

TEST_CASE("random tensors: seeds, offsets and thread counts") {
  const Shape shape{100003};  // odd, so no thread gets an even share
  auto uniform = [&](uint64_t seed) {
    ta::Generator g(seed);
    return Tensor::uniform(shape, 0.0f, 1.0f, g).to_vector();
  };
  auto normal = [&](uint64_t seed) {
    ta::Generator g(seed);
    return Tensor::normal(shape, 0.0f, 1.0f, g).to_vector();
  };

  SUBCASE("same seed, same numbers") {
    CHECK(bitwise_equal(uniform(11), uniform(11)));
    CHECK(bitwise_equal(normal(11), normal(11)));
  }
  SUBCASE("different seeds, different numbers") {
    std::vector<float> a = uniform(11), b = uniform(12);
    int same = 0;
    for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
    CHECK(same < 100);
    std::vector<float> na = normal(11), nb = normal(12);
    same = 0;
    for (size_t i = 0; i < na.size(); ++i) same += na[i] == nb[i];
    CHECK(same < 100);
  }
  SUBCASE("the same numbers whatever the OpenMP thread count") {
    for (auto make : {+[] { ta::Generator g(5); return Tensor::uniform({100003}, -2.0f, 2.0f, g); },
                      +[] { ta::Generator g(5); return Tensor::normal({100003}, 1.0f, 2.0f, g); }}) {
      std::vector<float> one = with_threads(1, make), two = with_threads(2, make), four = with_threads(4, make);
      CHECK(bitwise_equal(one, two));
      CHECK(bitwise_equal(one, four));
    }
  }
  SUBCASE("a fill advances the generator by its size, and depends only on seed and counter") {
    // Two fills of `half` values from one generator equal one fill of 2 * half.
    using Fill = Tensor (*)(int64_t n, ta::Generator& g);
    const Fill uniform = [](int64_t n, ta::Generator& g) { return Tensor::uniform({n}, 0.0f, 1.0f, g); };
    const Fill normal = [](int64_t n, ta::Generator& g) { return Tensor::normal({n}, 0.0f, 1.0f, g); };
    for (const auto& draw : {std::pair<Fill, int64_t>{uniform, 10}, {normal, 7}}) {
      // Named copies, not a structured binding: clang 14 cannot name a binding inside
      // doctest's CAPTURE.
      const Fill fill = draw.first;
      const int64_t half = draw.second;
      CAPTURE(half);
      ta::Generator g(3);
      Tensor first = fill(half, g);
      CHECK(g.offset == static_cast<uint64_t>(half));
      Tensor second = fill(half, g);
      CHECK(g.offset == static_cast<uint64_t>(2 * half));
      ta::Generator whole_gen(3);
      std::vector<float> whole = fill(2 * half, whole_gen).to_vector();
      std::vector<float> halves = first.to_vector(), rest = second.to_vector();
      halves.insert(halves.end(), rest.begin(), rest.end());
      CHECK(bitwise_equal(halves, whole));
    }
  }
  SUBCASE("the default generator follows manual_seed") {
    ta::manual_seed(77);
    std::vector<float> a = Tensor::uniform({50}).to_vector();
    std::vector<float> a_next = Tensor::uniform({50}).to_vector();
    CHECK_FALSE(bitwise_equal(a, a_next));
    ta::manual_seed(77);
    CHECK(bitwise_equal(Tensor::uniform({50}).to_vector(), a));
  }
}
