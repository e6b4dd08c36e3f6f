// optim/optimizer.cpp — parameter groups, the step loop and state checks shared
// by every optimizer.
#include "optim/optimizer.h"

#include <cmath>
#include <set>

#include "autograd/node.h"
#include "core/error.h"
#include "core/kernels.h"

namespace ta {

std::vector<ParamGroup> all_parameters(const NamedTensors& params, float weight_decay) {
  return {ParamGroup{params, weight_decay}};
}

bool gets_weight_decay(const std::string& name, const Tensor& param) {
  return param.ndim() >= 2 && name.find("embed") == std::string::npos;
}

std::vector<ParamGroup> weight_decay_groups(const NamedTensors& params, float weight_decay) {
  ParamGroup decay{{}, weight_decay}, no_decay{{}, 0.0f};
  for (const auto& [name, p] : params)
    (gets_weight_decay(name, p) ? decay : no_decay).params.emplace_back(name, p);
  return {decay, no_decay};
}

Optimizer::Optimizer(std::vector<ParamGroup> groups) {
  std::set<std::string> names;
  std::set<const TensorImpl*> seen;
  for (const ParamGroup& g : groups) {
    TA_CHECK(std::isfinite(g.weight_decay) && g.weight_decay >= 0.0f,
             "Optimizer: weight decay must be finite and >= 0, got ", g.weight_decay);
    for (const auto& [name, p] : g.params) {
      check_defined(p, "Optimizer", name.c_str());
      TA_CHECK(p.is_leaf() && p.requires_grad(), "Optimizer: parameter '", name,
               "' must be a leaf tensor that requires grad");
      TA_CHECK(names.insert(name).second, "Optimizer: two parameters are named '", name, "'");
      TA_CHECK(seen.insert(p.impl()).second, "Optimizer: parameter '", name, "' appears twice");
      slots_.push_back({name, p, g.weight_decay});
    }
    group_decays_.push_back(g.weight_decay);
  }
}

void Optimizer::step(float lr) {
  TA_CHECK(std::isfinite(lr) && lr >= 0.0f, kind(), ".step: the learning rate must be finite and >= 0, got ", lr);
  NoGradGuard no_grad;
  ++steps_;
  for (size_t i = 0; i < slots_.size(); ++i) {
    Tensor g = slots_[i].param.grad();
    if (g.defined()) update(i, g, lr);
  }
}

void Optimizer::zero_grad() {
  for (Slot& s : slots_) s.param.zero_grad();
}

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> out;
  for (const Slot& s : slots_) out.push_back(s.param);
  return out;
}

OptimizerState Optimizer::state() const {
  OptimizerState s;
  s.kind = kind();
  s.counters["step"] = static_cast<double>(steps_);
  for (size_t g = 0; g < group_decays_.size(); ++g) s.hyper[cat("group.", g, ".weight_decay")] = group_decays_[g];
  export_state(s);
  return s;
}

// Counters are kept as doubles in a state (and as decimal text in checkpoints): a
// whole number from 0 to 2^53 is exact there and converts to int64 safely; NaN,
// infinity, 1e19 or anything >= 2^63 must never reach the conversion.
static bool is_count(double x) { return x >= 0.0 && x <= 0x1p53 && x == std::floor(x); }

void Optimizer::check_state(const OptimizerState& s) const {
  const OptimizerState own = state();
  std::string problems;
  if (s.kind != own.kind) problems += cat("\n  the state is for ", s.kind, ", this optimizer is ", own.kind);
  for (const auto& [k, v] : own.hyper) {
    auto it = s.hyper.find(k);
    if (it == s.hyper.end()) problems += cat("\n  missing hyperparameter: ", k);
    else if (it->second != v) problems += cat("\n  hyperparameter ", k, " is ", it->second, ", this optimizer has ", v);
  }
  for (const auto& [k, v] : s.hyper)
    if (!own.hyper.count(k)) problems += cat("\n  unexpected hyperparameter: ", k);
  for (const auto& [k, v] : own.counters) {
    auto it = s.counters.find(k);
    if (it == s.counters.end()) problems += cat("\n  missing counter: ", k);
    else if (!is_count(it->second))
      problems += cat("\n  counter ", k, " is ", it->second, ", expected a whole number from 0 to 2^53");
  }
  for (const auto& [k, v] : s.counters)
    if (!own.counters.count(k)) problems += cat("\n  unexpected counter: ", k);
  for (const auto& [k, t] : own.tensors) {
    auto it = s.tensors.find(k);
    if (it == s.tensors.end()) problems += cat("\n  missing tensor: ", k, " ", t.shape());
    else if (!it->second.defined() || !(it->second.shape() == t.shape()))
      problems += cat("\n  tensor ", k, " should have shape ", t.shape(), ", got ",
                      it->second.defined() ? it->second.shape().str() : "an undefined tensor");
  }
  for (const auto& [k, t] : s.tensors)
    if (!own.tensors.count(k)) problems += cat("\n  unexpected tensor: ", k);
  TA_CHECK(problems.empty(), kind(), ".load_state: the state does not match this optimizer; nothing was loaded:",
           problems);
}

void Optimizer::load_state(const OptimizerState& s) {
  check_state(s);
  steps_ = static_cast<int64_t>(s.counters.at("step"));
  import_state(s);
}

}  // namespace ta
