// tests/layers/layer_testing.h — what the tests of the layers share: seeded inputs,
// the two gradient checks, and small models.
//
// Two gradient checks are used. ta::gradcheck (autograd/gradcheck.h) covers the
// layer's input x (check_input_grads). Parameters are leaves owned by the module, so
// they are checked by check_param_grads: backward() once, then, for a few random
// elements of every parameter, move the element by +-eps in place (kernels::assign)
// and take the central difference of the same projected loss sum(y * w). Both use
// double sums, seeded projections and weights of unit scale (init_std 0.3 to 0.5, not
// the training default 0.02, whose tiny gradients would pass any tolerance).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attention/registry.h"
#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/kernels.h"
#include "core/random.h"
#include "core/tensor.h"
#include "layers/module.h"
#include "layers/transformer.h"

namespace ta::testing {

using Inputs = std::vector<Tensor>;

inline Tensor randn(const Shape& shape, uint64_t seed, float std = 1.0f) {
  ta::Generator gen(seed);
  return Tensor::normal(shape, 0.0f, std, gen);
}

inline float max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  std::vector<float> u = a.to_vector(), v = b.to_vector();
  float m = 0.0f;
  for (size_t i = 0; i < u.size(); ++i) m = std::max(m, std::fabs(u[i] - v[i]));
  return m;
}

// gradcheck of f with respect to its inputs that require grad.
inline void check_input_grads(const std::function<Tensor(const Inputs&)>& f, const Inputs& inputs,
                       ta::GradcheckOptions options = {}) {
  ta::GradcheckResult r = ta::gradcheck(f, inputs, options);
  CHECK_MESSAGE(r.ok, r.message);
}

struct ParamCheckOptions {
  int samples = 4;  // elements checked per parameter (all of them when it has fewer)
  float eps = 1e-2f;
  float atol = 2e-3f;
  float rtol = 2e-2f;
  uint64_t seed = 1;  // the projection w and the choice of elements; printed on failure
};

// Central differences on a few random elements of every parameter of `module`,
// against the gradients backward() leaves there. f must be deterministic (reset any
// generator it draws from). The module's gradients are cleared before and after.
inline void check_param_grads(ta::Module& module, const std::function<Tensor()>& f, ParamCheckOptions opt = {}) {
  module.zero_grad();
  Tensor y = f();
  ta::Generator gen(opt.seed);
  const std::vector<float> w = Tensor::normal(y.shape(), 0.0f, 1.0f, gen).to_vector();
  ta::backward(ta::sum(y * Tensor::from_vector(w, y.shape())));
  auto projected = [&] {
    std::vector<float> v = f().to_vector();
    double s = 0.0;
    for (size_t i = 0; i < v.size(); ++i) s += static_cast<double>(v[i]) * w[i];
    return s;
  };

  ta::NoGradGuard no_grad;
  const auto params = module.named_parameters();
  REQUIRE(!params.empty());
  for (const auto& [key, p] : params) {
    const std::string name = key;  // clang 14: doctest's messages cannot name a binding
    CHECK_MESSAGE(p.grad().defined(), name, " received no gradient");
    if (!p.grad().defined()) continue;
    const std::vector<float> analytic = p.grad().to_vector();
    const std::vector<float> original = p.to_vector();
    std::vector<int64_t> picks;
    if (p.numel() <= opt.samples) {
      for (int64_t i = 0; i < p.numel(); ++i) picks.push_back(i);
    } else {
      for (int k = 0; k < opt.samples; ++k)
        picks.push_back(std::min<int64_t>(p.numel() - 1, static_cast<int64_t>(gen.next_uniform() * p.numel())));
    }
    for (int64_t i : picks) {
      std::vector<float> v = original;
      v[i] = original[i] + opt.eps;
      ta::kernels::assign(p, Tensor::from_vector(v, p.shape()));
      const double up = projected();
      v[i] = original[i] - opt.eps;
      ta::kernels::assign(p, Tensor::from_vector(v, p.shape()));
      const double down = projected();
      ta::kernels::assign(p, Tensor::from_vector(original, p.shape()));
      const double numeric = (up - down) / (2.0 * opt.eps);
      const double diff = std::fabs(analytic[i] - numeric);
      CHECK_MESSAGE(diff <= opt.atol + opt.rtol * std::fabs(numeric), name, " element ", i, ": analytic ",
                    analytic[i], " vs numeric ", numeric, " (seed ", opt.seed, ")");
    }
  }
  module.zero_grad();
}

// A factory of softmax attention mixers drawing their weights from their own generator.
inline ta::MixerFactory softmax_mixers(int64_t d_model, int64_t heads, bool causal, uint64_t seed, float init_std,
                                int64_t rotary_dims = 0) {
  auto gen = std::make_shared<ta::Generator>(seed);
  return [=](int64_t) {
    return ta::make_attention({.name = "softmax",
                               .d_model = d_model,
                               .heads = heads,
                               .causal = causal,
                               .rotary_dims = rotary_dims,
                               .init_std = init_std},
                              *gen);
  };
}

// Every tensor of `want`'s state dict is in `got`'s with the same values, bit for bit.
inline void check_same_state(const ta::Module& want, const ta::Module& got) {
  const std::map<std::string, Tensor> got_state = got.state_dict();
  for (const auto& [key, t] : want.state_dict()) {
    const std::string name = key;  // clang 14: doctest's messages cannot name a binding
    INFO(name);
    CHECK(got_state.at(name).to_vector() == t.to_vector());
  }
}

inline ta::TransformerConfig tiny_config() {
  ta::TransformerConfig c{.vocab_size = 11, .d_model = 8, .n_layers = 2, .d_ff = 16, .max_len = 16, .seed = 3};
  return c;
}

}  // namespace ta::testing
