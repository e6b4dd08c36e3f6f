// examples/cifar_gen/training.h — one training run of the image model: the batch
// order, an AdamW step, the learning-rate schedule (by steps, or under a time
// limit by the clock) and checkpoints that continue the run exactly.
#pragma once

#include <memory>
#include <string>

#include "core/random.h"
#include "examples/cifar_gen/cifar_data.h"
#include "examples/cifar_gen/model.h"
#include "layers/safetensors.h"
#include "optim/adam.h"
#include "optim/schedule.h"

namespace ta::cifar {

struct TrainOptions {
  int64_t batch = 4, steps = 300, warmup = 40;
  float lr = 3e-3f, weight_decay = 0.01f, clip = 1.0f;
  // > 0: training also ends after this many seconds, and the cosine decay follows
  // the clock when that is further along than the steps.
  double time_limit_s = 0;
};

class Trainer {
 public:
  Trainer(const ModelOptions& model, const TrainOptions& options);

  // The learning rate of the next step, `elapsed_s` seconds into training: linear
  // warmup, then cosine to lr/10 at `steps`; under a time limit, the cosine's
  // position is max(steps done, warmup + (steps - warmup) * elapsed / limit).
  float lr(double elapsed_s) const;
  // One step: `batch` images drawn uniformly (with replacement) from `train`,
  // loss = pixel_loss, gradients clipped by global norm, AdamW at `lr`. Returns
  // the loss in nats per sub-pixel.
  double step(const Dataset& train, float lr);
  int64_t steps_done() const { return optimizer.step_count(); }
  // True when the steps are done, or the time limit has passed.
  bool finished(double elapsed_s) const;

  // Everything the next step depends on: model, optimizer state and step, the
  // batch-order and dropout generators, plus the caller's `meta`.
  void save(const std::string& path, const Metadata& meta);
  Metadata load(const std::string& path);

  const TrainOptions options;
  std::shared_ptr<TransformerLM> model;
  AdamW optimizer;
  Generator data_gen;  // the batch order

 private:
  WarmupCosineSchedule schedule_;
};

}  // namespace ta::cifar
