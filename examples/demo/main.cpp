// examples/demo — the framework's first training run: a two-layer MLP learns the
// two-spirals problem (two interleaved spiral arms, one per class) with plain
// gradient descent, using nothing but the tensor ops and autograd.
//
// It is what `make demo` runs until the CIFAR-10 example takes its place.
#include <cmath>
#include <cstdio>
#include <exception>

#include "tinyattn.h"

using namespace ta;

namespace {

// Points (x, y) on two spiral arms: arm c at parameter t has radius t and angle
// 2.5 t + c pi, with a little seeded noise. Labels are the arm (0 or 1).
void make_spirals(int per_class, Tensor& points, Tensor& labels) {
  Generator gen(7);
  std::vector<float> xy, cls;
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < per_class; ++i) {
      float t = 0.25f + 3.0f * i / per_class;
      float angle = 2.5f * t + c * 3.14159265f;
      xy.push_back(t * std::cos(angle) + 0.03f * (gen.next_uniform() - 0.5f));
      xy.push_back(t * std::sin(angle) + 0.03f * (gen.next_uniform() - 0.5f));
      cls.push_back(static_cast<float>(c));
    }
  points = Tensor::from_vector(xy, Shape{2 * per_class, 2});
  labels = Tensor::from_vector(cls, Shape{2 * per_class});
}

float accuracy(const Tensor& logits, const Tensor& labels) {
  std::vector<float> z = logits.to_vector(), y = labels.to_vector();
  int right = 0;
  for (size_t i = 0; i < y.size(); ++i) right += ((z[2 * i + 1] > z[2 * i]) ? 1.0f : 0.0f) == y[i];
  return static_cast<float>(right) / y.size();
}

int run() {
  Tensor points, labels;
  make_spirals(200, points, labels);
  Generator gen(42);
  const int hidden = 64;
  // Weights ~ N(0, 1/fan_in) keep the pre-activations of order 1.
  Tensor w1 = Tensor::normal(Shape{2, hidden}, 0.0f, 1.0f / std::sqrt(2.0f), gen).set_requires_grad();
  Tensor b1 = Tensor::zeros(Shape{hidden}).set_requires_grad();
  Tensor w2 = Tensor::normal(Shape{hidden, hidden}, 0.0f, 1.0f / std::sqrt(float(hidden)), gen).set_requires_grad();
  Tensor b2 = Tensor::zeros(Shape{hidden}).set_requires_grad();
  Tensor w3 = Tensor::normal(Shape{hidden, 2}, 0.0f, 1.0f / std::sqrt(float(hidden)), gen).set_requires_grad();
  Tensor b3 = Tensor::zeros(Shape{2}).set_requires_grad();
  std::vector<Tensor*> params = {&w1, &b1, &w2, &b2, &w3, &b3};

  auto forward = [&] {
    Tensor h = tanh(matmul(points, w1) + b1);
    h = tanh(matmul(h, w2) + b2);
    return matmul(h, w3) + b3;
  };

  std::printf("two spirals: %lld points, MLP 2-%d-%d-2, full-batch gradient descent\n",
              static_cast<long long>(points.size(0)), hidden, hidden);
  const float lr = 0.2f;
  for (int step = 0; step <= 1500; ++step) {
    Tensor logits = forward();
    Tensor loss = cross_entropy(logits, labels);
    backward(loss);
    {
      NoGradGuard no_grad;  // p <- p - lr * dL/dp
      for (Tensor* p : params) {
        *p = (*p - lr * p->grad()).detach();
        p->set_requires_grad();
      }
    }
    if (step % 250 == 0)
      std::printf("step %5d  loss %.4f  accuracy %5.1f%%\n", step, loss.item(), 100.0f * accuracy(logits, labels));
  }
  float acc = accuracy(forward(), labels);
  std::printf("final training accuracy: %.1f%%\n", 100.0f * acc);
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "demo: %s\n", e.what());
    return 1;
  }
}
