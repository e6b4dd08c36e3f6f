// optim/adam.h — Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019),
// one class: they differ only in where weight decay enters.
//
// For each parameter p with gradient g and its group's weight decay wd, at the
// parameter's t-th update (t = 1, 2, ...):
//   Adam:   g' = g + wd p                       (L2 decay, folded into the gradient)
//   AdamW:  p -= lr wd p; g' = g                (decoupled: a plain shrink of p)
//   m = beta1 m + (1 - beta1) g'                (first moment, m and v start at 0)
//   v = beta2 v + (1 - beta2) g'^2              (second moment)
//   p -= lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
// The divisions by 1 - beta^t undo the pull of m and v towards their zero start.
// With L2 decay, the decay of a parameter with large gradients is divided by a
// large sqrt(v) and nearly vanishes; AdamW decays every weight at the same rate
// lr * wd, which is why Transformers train with AdamW.
//
// t counts the updates of each parameter, as PyTorch does: a parameter that had
// no gradient at some steps is bias-corrected by its own count. The fused update
// is kernels::adam_update (formula in core/backend_ops.h).
#pragma once

#include <cstdint>
#include <vector>

#include "core/kernels/optim.h"  // WeightDecay
#include "optim/optimizer.h"

namespace ta {

struct AdamOptions {
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
};

class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<ParamGroup> groups, AdamOptions options = {}, WeightDecay decay = WeightDecay::L2);
  std::string kind() const override { return decay_ == WeightDecay::Decoupled ? "AdamW" : "Adam"; }

 private:
  void update(size_t i, const Tensor& grad, float lr) override;
  // hyper: "beta1", "beta2", "eps"; counters: "<param>.step";
  // tensors: "<param>.exp_avg" (m), "<param>.exp_avg_sq" (v)
  void export_state(OptimizerState& s) const override;
  void import_state(const OptimizerState& s) override;

  AdamOptions options_;
  WeightDecay decay_;
  std::vector<Tensor> m_, v_;
  std::vector<int64_t> t_;  // updates so far, per parameter
};

// Adam with decoupled weight decay.
class AdamW final : public Adam {
 public:
  explicit AdamW(std::vector<ParamGroup> groups, AdamOptions options = {})
      : Adam(std::move(groups), options, WeightDecay::Decoupled) {}
};

}  // namespace ta
