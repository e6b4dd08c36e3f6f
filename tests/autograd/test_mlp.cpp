// tests/autograd/test_mlp.cpp — end to end: a small MLP learns the two-spirals
// problem with plain full-batch gradient descent, using only autograd ops, backward()
// and NoGradGuard. If any op in the path has a wrong gradient, training stalls.
//
// Two spirals: for class c in {0, 1} and t in [0, 1), the point at radius r = t and
// angle t * kTurns * 2 pi + c * pi, plus a little Gaussian noise. The classes wind
// around each other, so no linear (or nearly linear) boundary separates them.
//
// Not here: layers/ and optim/ (this uses raw tensors), and speed.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/tensor.h"

namespace {

using ta::Tensor;

constexpr int kPointsPerClass = 100;
constexpr float kTurns = 2.0f;
constexpr float kNoise = 0.02f;

struct Dataset {
  Tensor points;   // [2N, 2]
  Tensor classes;  // [2N], class ids 0 and 1
};

Dataset two_spirals(ta::Generator& gen) {
  std::vector<float> xy, cls;
  for (int c = 0; c < 2; ++c) {
    for (int i = 0; i < kPointsPerClass; ++i) {
      float t = static_cast<float>(i) / kPointsPerClass;
      float angle = t * kTurns * 2.0f * std::numbers::pi_v<float> + c * std::numbers::pi_v<float>;
      xy.push_back(t * std::cos(angle));
      xy.push_back(t * std::sin(angle));
      cls.push_back(static_cast<float>(c));
    }
  }
  const int64_t n = 2 * kPointsPerClass;
  Tensor noise = Tensor::normal({n, 2}, 0.0f, kNoise, gen);
  return {Tensor::from_vector(xy, {n, 2}) + noise, Tensor::from_vector(cls, {n})};
}

// 2 -> 32 -> 32 -> 2 with tanh; weights ~ N(0, gain^2 / fan_in), biases zero.
struct Mlp {
  std::vector<Tensor> params;  // w1, b1, w2, b2, w3, b3

  explicit Mlp(ta::Generator& gen) {
    const std::vector<int64_t> widths = {2, 32, 32, 2};
    for (size_t l = 0; l + 1 < widths.size(); ++l) {
      float std = 2.0f / std::sqrt(static_cast<float>(widths[l]));
      params.push_back(Tensor::normal({widths[l], widths[l + 1]}, 0.0f, std, gen).set_requires_grad());
      params.push_back(Tensor::zeros({widths[l + 1]}).set_requires_grad());
    }
  }

  Tensor forward(const Tensor& x) const {
    Tensor h = x;
    for (size_t i = 0; i < params.size(); i += 2) {
      h = ta::matmul(h, params[i]) + params[i + 1];  // [N, in] @ [in, out] + [out]
      if (i + 2 < params.size()) h = ta::tanh(h);
    }
    return h;  // logits [N, 2]
  }

  // p <- p - lr * dp, and p becomes a fresh leaf (gradient cleared).
  void step(float lr) {
    ta::NoGradGuard no_grad;
    for (Tensor& p : params) {
      p = (p - lr * p.grad()).detach();
      p.set_requires_grad();
    }
  }
};

double accuracy(const Tensor& logits, const Tensor& classes) {
  std::vector<float> z = logits.to_vector(), c = classes.to_vector();
  int correct = 0;
  for (size_t i = 0; i < c.size(); ++i) correct += ((z[2 * i + 1] > z[2 * i]) ? 1.0f : 0.0f) == c[i];
  return static_cast<double>(correct) / static_cast<double>(c.size());
}

}  // namespace

TEST_CASE("mlp: full-batch gradient descent separates two spirals") {
  constexpr int kMaxSteps = 4000;
  constexpr int kEvalEvery = 50;
  constexpr float kLearningRate = 0.5f;

  ta::Generator gen(1234);
  const Dataset data = two_spirals(gen);
  Mlp mlp(gen);

  float first_loss = 0.0f, loss_value = 0.0f;
  double acc = 0.0;
  int step = 0;
  for (; step < kMaxSteps; ++step) {
    Tensor loss = ta::cross_entropy(mlp.forward(data.points), data.classes);
    loss_value = loss.item();
    if (step == 0) first_loss = loss_value;
    ta::backward(loss);
    mlp.step(kLearningRate);
    if (step % kEvalEvery == 0) {
      ta::NoGradGuard no_grad;
      acc = accuracy(mlp.forward(data.points), data.classes);
      if (acc == 1.0) break;
    }
  }
  INFO("steps ", step, ", loss ", first_loss, " -> ", loss_value);
  CHECK(loss_value < first_loss);
  CHECK(acc == 1.0);
}
