// examples/common/trainer.h — what training a language model takes in both example
// programs: the model, AdamW, the learning-rate schedule (by steps, or under a
// time limit by the clock), the generator of the batch order, one update, and
// checkpoints that continue the run exactly.
//
// Each program adds how it draws a batch and computes its loss (cifar_gen's
// training.h, protein_lm's model.h) and hands the result to update(). Started by
// mpirun or srun, several processes train together: each takes its rows of the
// global batch of global_batch() rows, and update() averages the gradients over
// them (examples/common/data_parallel.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/random.h"
#include "examples/common/data_parallel.h"
#include "layers/safetensors.h"
#include "layers/transformer.h"
#include "optim/adam.h"
#include "optim/schedule.h"

namespace ta::examples {

struct TrainOptions {
  int64_t batch = 4, steps = 300, warmup = 40;
  float lr = 3e-3f, weight_decay = 0.01f, clip = 1.0f;  // clip 0: none
  float beta2 = 0.999f;  // AdamW's
  Decay decay = Decay::Cosine;  // after warmup, from lr to final_lr * lr at `steps`
  float final_lr = 0.1f;
  // > 0: training also ends after this many seconds, and the cosine decay follows
  // the clock when that is further along than the steps.
  double time_limit_s = 0;
  double bucket_mb = 25;  // several processes: gradients travel in buckets of this many MB
};

struct StepResult {
  double loss = 0;       // of the batch, before the update
  float grad_norm = 0;   // global norm before clipping; not finite: the update was skipped
  int64_t tokens = 0;    // tokens the model read (for tokens/s), over all processes
};

// One update: gradients of `loss` by backward, their global norm (always
// measured), clipped to `clip` when clip > 0, then the optimizer's step at `lr`,
// unless a gradient is NaN or infinite: then the parameters are left as they were
// (the run has diverged; see loss_watch.h).
StepResult apply_gradients(const Tensor& loss, Optimizer& optimizer, float lr, float clip);
// The same once the gradients are in place: returns their global norm.
float clip_and_step(Optimizer& optimizer, float lr, float clip);

class Trainer {
 public:
  // AdamW without decay on norms, biases and embeddings (optim/optimizer.h); the
  // batch order drawn from a generator seeded with `data_seed`.
  Trainer(std::shared_ptr<TransformerLM> model, const TrainOptions& options, uint64_t data_seed);
  virtual ~Trainer() = default;

  // The learning rate of the next step, `elapsed_s` seconds into training: linear
  // warmup, then the decay (cosine or linear) to final_lr * lr at `steps`; under a
  // time limit, the decay's position is max(steps done, warmup + (steps - warmup) *
  // elapsed / limit).
  float lr(double elapsed_s) const;
  int64_t steps_done() const { return optimizer.step_count(); }
  // True when the steps are done, or the time limit has passed.
  bool finished(double elapsed_s) const;
  // The rows of one step over all processes: options.batch x the number of processes.
  int64_t global_batch() const { return options.batch * dist::world_size(); }
  // One update (as apply_gradients) from this process's `loss`, its mean over its
  // own rows, weighted by dist::mean_weight where processes score different numbers
  // of targets; the gradients are averaged over the processes. The result's loss
  // is the mean over all processes, its tokens the sum of every process's `tokens`.
  StepResult update(const Tensor& loss, float lr, int64_t tokens);

  // Everything the next step depends on: model, optimizer state and step, the
  // batch-order ("data") and dropout ("model") generators, plus the caller's `meta`.
  void save(const std::string& path, const Metadata& meta);
  Metadata load(const std::string& path);

  const TrainOptions options;
  std::shared_ptr<TransformerLM> model;
  AdamW optimizer;
  DataParallel parallel;
  Generator data_gen;

 private:
  std::unique_ptr<Schedule> schedule_;
};

// Throws, naming the tensor, when a parameter, buffer or optimizer state of the
// trainer holds NaN or infinity: checked before every checkpoint is written.
void check_finite(const Trainer& trainer);

}  // namespace ta::examples
