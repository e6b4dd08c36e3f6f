// optim/optimizer.h — what every optimizer shares: parameter groups, step(lr),
// zero_grad(), the step counter, and its state as named tensors and numbers for
// checkpoints.
//
// A parameter group is a list of named parameters with their own weight decay, so
// that AdamW can decay weight matrices but not biases, norm gains or embeddings
// (weight_decay_groups below). Parameters are updated in place by the kernels of
// core/kernels.h, so every handle to a parameter (the module's included) sees the
// new values. An optimizer sees named tensors, never a module: build its groups from
// model.named_parameters().
//
// A training step, and how gradient accumulation fits in:
//
//   opt.zero_grad();
//   for (each of the k micro-batches) backward(loss_of(micro_batch) / k);
//   clip_grad_norm(opt.parameters(), 1.0f);          // optional, optim/clip.h
//   opt.step(schedule.lr(opt.step_count()));         // optim/schedule.h
//
// Gradients add up over backward() calls, so with k equal micro-batches and a mean
// loss, the sum of loss_i / k has the gradient of the mean loss over the whole
// batch: one step after k accumulated micro-batches is the step on the big batch
// (up to float rounding of the sums). With unequal micro-batches (or ignored
// tokens), weight each micro-batch by its share instead: loss_i * n_i / n.
//
// Not here: the update rules (optim/sgd.h, optim/adam.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace ta {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct ParamGroup {
  NamedTensors params;  // leaves that require grad, each with a unique name
  float weight_decay = 0.0f;
};

// One group holding every parameter given: a model's named_parameters(), say.
std::vector<ParamGroup> all_parameters(const NamedTensors& params, float weight_decay = 0.0f);

// The rule for which parameters decay: weight matrices (2 or more dimensions) do;
// tensors of 0 or 1 dimensions (biases, norm gains and offsets, per-dimension
// scales) and any parameter whose dotted name contains "embed" (token and position
// embeddings) do not. Shrinking a bias or a norm gain towards 0 does not limit the
// model's capacity the way shrinking a weight matrix does, it only biases it, and
// an embedding row is only updated when its token occurs, so decaying every row
// every step pulls rare tokens towards 0.
bool gets_weight_decay(const std::string& name, const Tensor& param);

// Two groups of the parameters given (a model's named_parameters()) by that rule:
// {decaying parameters, weight_decay}, {the rest, 0}.
std::vector<ParamGroup> weight_decay_groups(const NamedTensors& params, float weight_decay);

// An optimizer's state, for checkpoints.
struct OptimizerState {
  std::string kind;                        // "SGD", "Adam", "AdamW"
  std::map<std::string, double> hyper;     // hyperparameters; loading checks they are equal
  std::map<std::string, double> counters;  // "step" and per-parameter counts; restored by loading
  std::map<std::string, Tensor> tensors;   // per-parameter buffers, "<param name>.<buffer>"; restored
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual std::string kind() const = 0;

  // One update with learning rate lr of every parameter that has a gradient;
  // parameters without one (unused since the last zero_grad) are left as they are.
  void step(float lr);
  void zero_grad();
  int64_t step_count() const { return steps_; }  // step() calls so far
  std::vector<Tensor> parameters() const;

  // The state, with tensors shared (not copied): "step" and "group.<i>.weight_decay"
  // plus what the subclass adds.
  OptimizerState state() const;
  // Throws, listing every difference, unless `s` has this optimizer's kind, equal
  // hyperparameters, the same counters (each a whole number from 0 to 2^53) and
  // the same tensor names and shapes.
  void check_state(const OptimizerState& s) const;
  // check_state, then copies the counters and tensors in: all or nothing.
  void load_state(const OptimizerState& s);

 protected:
  explicit Optimizer(std::vector<ParamGroup> groups);

  struct Slot {  // one parameter
    std::string name;
    Tensor param;
    float weight_decay;
  };
  const std::vector<Slot>& slots() const { return slots_; }

  // Updates slots()[i] from its gradient (grad mode is off).
  virtual void update(size_t i, const Tensor& grad, float lr) = 0;
  // Adds the subclass's hyperparameters, counters and tensors to s.
  virtual void export_state(OptimizerState& s) const = 0;
  // Copies counters and tensors back from a state that check_state accepted.
  virtual void import_state(const OptimizerState& s) = 0;

 private:
  std::vector<Slot> slots_;
  std::vector<float> group_decays_;
  int64_t steps_ = 0;
};

}  // namespace ta
