// tests/distributed/dist_testing.h — what the distributed tests share: whether this
// run has the two processes a test needs, the largest difference between two lists
// of tensors, and a small perceptron on raw tensors with its loss.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "core/tensor.h"
#include "distributed/world.h"

namespace ta::testing {

// True in a run of exactly two processes; otherwise says the test is skipped.
inline bool two_ranks() {
  if (dist::world_size() == 2) return true;
  MESSAGE("skipped: this test needs 2 processes (`make test` runs it under mpirun -np 2; this run has ",
          dist::world_size(), ")");
  return false;
}

// max |a_i - b_i| over all elements of all tensors (same shapes).
inline double max_abs_difference(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t t = 0; t < a.size(); ++t) {
    REQUIRE(a[t].shape() == b[t].shape());
    const std::vector<float> x = a[t].to_vector(), y = b[t].to_vector();
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(x[i]) - y[i]));
  }
  return worst;
}

// A 2-layer perceptron 6 -> 10 -> 3 (w1, b1, w2) drawn from `seed`, on `device`.
inline std::vector<Tensor> perceptron(uint64_t seed, Device device = Device::CPU) {
  Generator gen(seed);
  std::vector<Tensor> p = {Tensor::normal(Shape{6, 10}, 0.0f, 0.4f, gen), Tensor::normal(Shape{10}, 0.0f, 0.1f, gen),
                           Tensor::normal(Shape{10, 3}, 0.0f, 0.4f, gen)};
  for (Tensor& t : p) t = t.to(device).set_requires_grad();
  return p;
}

// mean(y^2) of y = tanh(x w1 + b1) w2 for 4 inputs x drawn from `data_seed`.
inline Tensor perceptron_loss(const std::vector<Tensor>& p, uint64_t data_seed) {
  Generator gen(data_seed);
  Tensor x = Tensor::normal(Shape{4, 6}, 0.0f, 1.0f, gen).to(p[0].device());
  Tensor y = matmul(tanh(matmul(x, p[0]) + p[1]), p[2]);
  return mean(y * y);
}

// Every parameter's gradient, one after the other, on the host.
inline std::vector<float> flat_grads(const std::vector<Tensor>& p) {
  std::vector<float> out;
  for (const Tensor& t : p) {
    const std::vector<float> g = t.grad().to_vector();
    out.insert(out.end(), g.begin(), g.end());
  }
  return out;
}

}  // namespace ta::testing
