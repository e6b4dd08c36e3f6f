// optim/sgd.cpp — SGD's checks, momentum buffers and update.
#include "optim/sgd.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels.h"

namespace ta {

Sgd::Sgd(std::vector<ParamGroup> groups, SgdOptions options) : Optimizer(std::move(groups)), options_(options) {
  TA_CHECK(std::isfinite(options.momentum) && options.momentum >= 0.0f && options.momentum < 1.0f,
           "SGD: momentum must be in [0, 1), got ", options.momentum);
  TA_CHECK(!options.nesterov || options.momentum > 0.0f, "SGD: Nesterov momentum needs momentum > 0");
  if (options.momentum > 0.0f)
    for (const Slot& s : slots()) buffers_.push_back(Tensor::zeros(s.param.shape(), s.param.device()));
}

// With b starting at 0, mu b + d equals d on the first step: a parameter's first
// gradient sets b = d exactly, as in PyTorch.
void Sgd::update(size_t i, const Tensor& grad, float lr) {
  const Slot& s = slots()[i];
  kernels::sgd_update(s.param, grad, buffers_.empty() ? Tensor() : buffers_[i], lr, options_.momentum,
                      s.weight_decay, options_.nesterov ? SgdMomentum::Nesterov : SgdMomentum::HeavyBall);
}

void Sgd::export_state(OptimizerState& s) const {
  s.hyper["momentum"] = options_.momentum;
  s.hyper["nesterov"] = options_.nesterov ? 1.0 : 0.0;
  for (size_t i = 0; i < buffers_.size(); ++i) s.tensors[slots()[i].name + ".momentum_buffer"] = buffers_[i];
}

void Sgd::import_state(const OptimizerState& s) {
  for (size_t i = 0; i < buffers_.size(); ++i)
    kernels::assign(buffers_[i], s.tensors.at(slots()[i].name + ".momentum_buffer").to(buffers_[i].device()));
}

}  // namespace ta
