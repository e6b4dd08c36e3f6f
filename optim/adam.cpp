// optim/adam.cpp — Adam's checks, moment buffers and update.
#include "optim/adam.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels.h"

namespace ta {

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options, WeightDecay decay)
    : Optimizer(std::move(groups)), options_(options), decay_(decay) {
  auto in_unit = [](float b) { return std::isfinite(b) && b >= 0.0f && b < 1.0f; };
  TA_CHECK(in_unit(options.beta1) && in_unit(options.beta2), kind(), ": betas must be in [0, 1), got ",
           options.beta1, " and ", options.beta2);
  TA_CHECK(std::isfinite(options.eps) && options.eps > 0.0f, kind(), ": eps must be finite and > 0, got ",
           options.eps);
  for (const Slot& s : slots()) {
    m_.push_back(Tensor::zeros(s.param.shape(), s.param.device()));
    v_.push_back(Tensor::zeros(s.param.shape(), s.param.device()));
    t_.push_back(0);
  }
}

void Adam::update(size_t i, const Tensor& grad, float lr) {
  const Slot& s = slots()[i];
  kernels::adam_update(s.param, grad, m_[i], v_[i], lr, options_.beta1, options_.beta2, options_.eps,
                       s.weight_decay, decay_, ++t_[i]);
}

void Adam::export_state(OptimizerState& s) const {
  s.hyper["beta1"] = options_.beta1;
  s.hyper["beta2"] = options_.beta2;
  s.hyper["eps"] = options_.eps;
  for (size_t i = 0; i < slots().size(); ++i) {
    const std::string& name = slots()[i].name;
    s.counters[name + ".step"] = static_cast<double>(t_[i]);
    s.tensors[name + ".exp_avg"] = m_[i];
    s.tensors[name + ".exp_avg_sq"] = v_[i];
  }
}

void Adam::import_state(const OptimizerState& s) {
  for (size_t i = 0; i < slots().size(); ++i) {
    const std::string& name = slots()[i].name;
    t_[i] = static_cast<int64_t>(s.counters.at(name + ".step"));
    kernels::assign(m_[i], s.tensors.at(name + ".exp_avg").to(m_[i].device()));
    kernels::assign(v_[i], s.tensors.at(name + ".exp_avg_sq").to(v_[i].device()));
  }
}

}  // namespace ta
