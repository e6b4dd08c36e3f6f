// tests/distributed/test_grad_ready.cpp — the engine's gradient-ready hook
// (autograd/grad_ready.h) that data parallelism starts its reductions from: one
// call per leaf per pass, only once the leaf's gradient holds every contribution
// of the pass (a leaf used several times, a leaf used inside a checkpointed block),
// never for a leaf the pass does not reach, nothing without a hook.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "autograd/checkpoint.h"
#include "autograd/engine.h"
#include "autograd/grad_ready.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "tests/testing.h"

namespace {

using ta::Shape;
using ta::Tensor;

Tensor leaf(const std::vector<float>& values) {
  return Tensor::from_vector(values, Shape{static_cast<int64_t>(values.size())}).set_requires_grad();
}

// Which leaves were reported, in order, with their gradient at that moment.
struct Reports {
  std::vector<const ta::TensorImpl*> order;
  std::map<const ta::TensorImpl*, std::vector<float>> grad_when_reported;
  ta::GradReadyHook hook() {
    return [this](const Tensor& t) {
      order.push_back(t.impl());
      grad_when_reported[t.impl()] = t.grad().defined() ? t.grad().to_vector() : std::vector<float>{};
    };
  }
  int count(const Tensor& t) const { return static_cast<int>(std::count(order.begin(), order.end(), t.impl())); }
};

}  // namespace

TEST_CASE("grad ready: each leaf once, after its last contribution; the last layer's leaves first") {
  // L = sum(w2 * tanh(w1 * x) + w1): w1 has two edges (the product and the sum), w2 one.
  Tensor x = Tensor::from_vector({0.5f, -1.0f}, Shape{2});
  Tensor w1 = leaf({1.0f, 2.0f}), w2 = leaf({3.0f, -1.0f});
  Reports r;
  {
    ta::GradReadyScope scope(r.hook());
    ta::backward(ta::sum(w2 * ta::tanh(w1 * x) + w1));
  }
  REQUIRE(r.order.size() == 2);
  CHECK(r.count(w1) == 1);
  CHECK(r.count(w2) == 1);
  CHECK(r.order[0] == w2.impl());  // nearer the loss: complete first
  // When reported, each gradient was already the final one.
  CHECK(r.grad_when_reported[w1.impl()] == w1.grad().to_vector());
  CHECK(r.grad_when_reported[w2.impl()] == w2.grad().to_vector());
}

TEST_CASE("grad ready: a leaf used twice (tied weights) is reported after both uses delivered") {
  Tensor w = leaf({1.0f, -2.0f, 0.5f});
  Tensor h = w * 3.0f;
  Reports r;
  {
    ta::GradReadyScope scope(r.hook());
    ta::backward(ta::sum(ta::exp(h) * w));  // w enters at the start and at the end of the graph
  }
  CHECK(r.count(w) == 1);
  CHECK(r.grad_when_reported[w.impl()] == w.grad().to_vector());
  // d/dw sum(exp(3w) w) = exp(3w) (3w + 1)
  const std::vector<float> g = w.grad().to_vector(), v = w.to_vector();
  for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == doctest::Approx(std::exp(3 * v[i]) * (3 * v[i] + 1)));
}

TEST_CASE("grad ready: leaves inside a checkpointed block are reported by the inner pass, complete") {
  Tensor x = leaf({0.3f, -0.7f});
  Tensor w = leaf({2.0f, 1.5f});
  Reports r;
  {
    ta::GradReadyScope scope(r.hook());
    Tensor y = ta::checkpoint([&](const Tensor& in) { return ta::tanh(in * w) * w; }, x);
    ta::backward(ta::sum(y * y));
  }
  CHECK(r.count(w) == 1);
  CHECK(r.count(x) == 1);
  CHECK(r.grad_when_reported[w.impl()] == w.grad().to_vector());
}

TEST_CASE("grad ready: a leaf the pass does not reach is not reported; no hook, no calls; one hook at a time") {
  Tensor used = leaf({1.0f}), unused = leaf({2.0f});
  Reports r;
  {
    ta::GradReadyScope scope(r.hook());
    CHECK(ta::testing::error_message([&] { ta::GradReadyScope second(r.hook()); }).find("already installed") !=
          std::string::npos);
    ta::backward(ta::sum(used * 2.0f));
  }
  CHECK(r.count(used) == 1);
  CHECK(r.count(unused) == 0);
  ta::backward(ta::sum(used * 2.0f));  // the scope is gone: nothing reported
  CHECK(r.order.size() == 1);
}

TEST_CASE("grad ready: an error in the hook ends the backward pass with it") {
  Tensor w = leaf({1.0f, 2.0f});
  ta::GradReadyScope scope([](const Tensor&) { throw ta::Error("hook failed"); });
  CHECK(ta::testing::error_message([&] { ta::backward(ta::sum(w * w)); }) == "hook failed");
}
