// tests/layers/test_norm.cpp — LayerNorm, RMSNorm and ScaleNorm: values worked out by
// hand and against a double reference, gradients of the input and of the gains and
// offsets, and the all-zero row (the eps branch's finite gradient).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "layers/init.h"
#include "layers/norm.h"
#include "tests/layers/layer_testing.h"

using ta::Shape;
using ta::Tensor;
using namespace ta::testing;

// ---- norms ---------------------------------------------------------------------------

TEST_CASE("norms: LayerNorm, RMSNorm and ScaleNorm of [1, 2, 3, 4] by hand") {
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {1, 4});
  // mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25.
  ta::LayerNorm ln(4);
  std::vector<float> y = ln.forward(x).to_vector();
  const double inv_std = 1.0 / std::sqrt(1.25 + 1e-5);
  const double centered[4] = {-1.5, -0.5, 0.5, 1.5};
  for (int i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(centered[i] * inv_std).epsilon(1e-5));
  CHECK(y[0] == doctest::Approx(-1.3416354).epsilon(1e-5));  // -1.5 / sqrt(1.25001)

  // mean square (1 + 4 + 9 + 16) / 4 = 7.5.
  ta::RMSNorm rms(4);
  y = rms.forward(x).to_vector();
  for (int i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx((i + 1) / std::sqrt(7.5 + 1e-6)).epsilon(1e-5));
  CHECK(y[3] == doctest::Approx(1.4605935).epsilon(1e-5));  // 4 / sqrt(7.5)

  // g starts at sqrt(4) = 2 and ||x|| = sqrt(30): y = 2 x / sqrt(30), which equals
  // the RMSNorm output (unit RMS).
  ta::ScaleNorm sn(4);
  CHECK(sn.g.item() == doctest::Approx(2.0));
  y = sn.forward(x).to_vector();
  for (int i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(2.0 * (i + 1) / std::sqrt(30.0)).epsilon(1e-5));
  // Below eps the norm is clipped: y = g x / eps.
  y = sn.forward(Tensor::from_vector({1e-6f, 0, 0, 0}, {1, 4})).to_vector();
  CHECK(y[0] == doctest::Approx(2.0 * 1e-6 / 1e-5).epsilon(1e-4));
  CHECK(y[1] == 0.0f);
}

TEST_CASE("norms: LayerNorm and RMSNorm with gains and offsets against a double reference") {
  const int64_t d = 5;
  Tensor x = randn({2, 3, d}, 7, 2.0f);
  ta::Generator gen(8);
  ta::LayerNorm ln(d);
  ta::RMSNorm rms(d);
  ta::init::normal_(ln.gamma, 1.0f, gen);
  ta::init::normal_(ln.beta, 1.0f, gen);
  ta::init::normal_(rms.gamma, 1.0f, gen);
  std::vector<float> xv = x.to_vector(), g1 = ln.gamma.to_vector(), b1 = ln.beta.to_vector(),
                     g2 = rms.gamma.to_vector();
  std::vector<float> y1 = ln.forward(x).to_vector(), y2 = rms.forward(x).to_vector();
  for (int64_t r = 0; r < 6; ++r) {
    double mean = 0, var = 0, ms = 0;
    for (int64_t i = 0; i < d; ++i) mean += xv[r * d + i] / static_cast<double>(d);
    for (int64_t i = 0; i < d; ++i) {
      var += (xv[r * d + i] - mean) * (xv[r * d + i] - mean) / d;
      ms += static_cast<double>(xv[r * d + i]) * xv[r * d + i] / d;
    }
    for (int64_t i = 0; i < d; ++i) {
      double ln_ref = (xv[r * d + i] - mean) / std::sqrt(var + 1e-5) * g1[i] + b1[i];
      double rms_ref = xv[r * d + i] / std::sqrt(ms + 1e-6) * g2[i];
      CHECK(y1[r * d + i] == doctest::Approx(ln_ref).epsilon(1e-5).scale(1.0));
      CHECK(y2[r * d + i] == doctest::Approx(rms_ref).epsilon(1e-5).scale(1.0));
    }
  }
  ta::LayerNorm plain(d, 1e-5f, ta::Affine::No);
  CHECK(plain.parameter_count() == 0);
  CHECK(max_abs_diff(plain.forward(x), ta::layer_norm(x, Tensor(), Tensor())) == 0.0f);
}

TEST_CASE("norms: gradcheck of the input and of the gains and offsets") {
  Tensor x = randn({2, 3, 6}, 9, 1.5f).set_requires_grad();
  ta::Generator gen(10);
  SUBCASE("LayerNorm") {
    ta::LayerNorm m(6);
    ta::init::normal_(m.gamma, 1.0f, gen);
    ta::init::normal_(m.beta, 1.0f, gen);
    check_input_grads([&](const Inputs& in) { return m.forward(in[0]); }, {x});
    check_param_grads(m, [&] { return m.forward(x.detach()); }, {.samples = 6});
  }
  SUBCASE("RMSNorm") {
    ta::RMSNorm m(6);
    ta::init::normal_(m.gamma, 1.0f, gen);
    check_input_grads([&](const Inputs& in) { return m.forward(in[0]); }, {x});
    check_param_grads(m, [&] { return m.forward(x.detach()); }, {.samples = 6});
  }
  SUBCASE("ScaleNorm") {
    ta::ScaleNorm m(6);
    check_input_grads([&](const Inputs& in) { return m.forward(in[0]); }, {x});
    check_param_grads(m, [&] { return m.forward(x.detach()); });
  }
}

TEST_CASE("norms: an all-zero row has a finite gradient, the one the eps branch gives") {
  // At x = 0 every norm is linear in x: LayerNorm y = (x - mean x) / sqrt(eps), RMSNorm
  // y = x / sqrt(eps), ScaleNorm (norm clipped to eps) y = g x / eps. So the gradient
  // of sum(y * w) is (w - mean w) / sqrt(eps), w / sqrt(eps) and g w / eps.
  const std::vector<float> w = {1, 2, 3, 4};
  auto grad_at_zero = [&](const std::function<Tensor(const Tensor&)>& norm) {
    Tensor x = Tensor::zeros({1, 4}).set_requires_grad();
    ta::backward(ta::sum(norm(x) * Tensor::from_vector(w, {4})));
    return x.grad().to_vector();
  };
  ta::LayerNorm ln(4);
  ta::RMSNorm rms(4);
  ta::ScaleNorm sn(4);
  std::vector<float> g_ln = grad_at_zero([&](const Tensor& x) { return ln.forward(x); });
  std::vector<float> g_rms = grad_at_zero([&](const Tensor& x) { return rms.forward(x); });
  std::vector<float> g_sn = grad_at_zero([&](const Tensor& x) { return sn.forward(x); });
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK(g_ln[i] == doctest::Approx((w[i] - 2.5) / std::sqrt(1e-5)).epsilon(1e-3));
    CHECK(g_rms[i] == doctest::Approx(w[i] / std::sqrt(1e-6)).epsilon(1e-3));
    CHECK(g_sn[i] == doctest::Approx(2.0 * w[i] / 1e-5).epsilon(1e-3));  // g = sqrt(4) = 2
  }
}
