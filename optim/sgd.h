// optim/sgd.h — stochastic gradient descent with momentum, Nesterov momentum and
// (coupled, L2) weight decay, as in PyTorch's torch.optim.SGD without dampening.
//
// For each parameter p with gradient g, weight decay wd (its group's), momentum mu:
//   d = g + wd p
//   without momentum:  p -= lr d
//   with momentum:     b = mu b + d                    (b starts at 0, so b = d at first)
//                      p -= lr b                       (heavy ball, Polyak 1964)
//                      p -= lr (d + mu b)              (Nesterov, Sutskever et al. 2013)
// The fused update is kernels::sgd_update (formula in core/backend_ops.h).
#pragma once

#include <vector>

#include "optim/optimizer.h"

namespace ta {

struct SgdOptions {
  float momentum = 0.0f;  // mu in [0, 1)
  bool nesterov = false;  // needs momentum > 0
};

class Sgd final : public Optimizer {
 public:
  explicit Sgd(std::vector<ParamGroup> groups, SgdOptions options = {});
  std::string kind() const override { return "SGD"; }

 private:
  void update(size_t i, const Tensor& grad, float lr) override;
  // hyper: "momentum", "nesterov"; tensors: "<param>.momentum_buffer" when momentum > 0
  void export_state(OptimizerState& s) const override;
  void import_state(const OptimizerState& s) override;

  SgdOptions options_;
  std::vector<Tensor> buffers_;  // b per parameter (empty without momentum)
};

}  // namespace ta
