// examples/cifar_gen/training.h — training the image model: a step on images drawn
// uniformly with replacement (examples/common/trainer.h has the rest: AdamW, the
// schedule, checkpoints), and the job the shared training loop runs
// (examples/common/training_run.h): bits/dim in the log, periodic test bits/dim.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "examples/cifar_gen/cifar_data.h"
#include "examples/cifar_gen/model.h"
#include "examples/common/trainer.h"
#include "examples/common/training_run.h"

namespace ta::cifar {

using examples::StepResult;
using examples::TrainOptions;

class Trainer : public examples::Trainer {
 public:
  Trainer(const ModelOptions& model, const TrainOptions& options);
  // One step: global_batch() images drawn uniformly (with replacement) from
  // `train`, of which this process takes its own block (all of them in one
  // process), loss = pixel_loss, then the update (gradients averaged over the
  // processes and clipped by global norm, AdamW at `lr`). The loss is in nats per
  // sub-pixel.
  StepResult step(const Dataset& train, float lr);
};

class ImageTrainingJob : public examples::TrainingJob {
 public:
  // Periodic evaluations score the first `eval_images` test images.
  ImageTrainingJob(Trainer& trainer, const Dataset& train, const Dataset& test, int64_t eval_images);
  examples::Trainer& trainer() override { return trainer_; }
  StepResult step(float lr) override;
  std::vector<std::string> train_columns() const override { return {"train_bpd"}; }
  std::vector<std::string> eval_columns() const override { return {"test_bpd"}; }
  std::vector<std::string> train_values(double loss) const override;
  std::string progress_text(double loss) const override;
  std::vector<std::string> evaluate(int64_t step) override;
  // Training bits/dim, mean of the last 20 steps.
  double recent_train_bpd() const;

 private:
  Trainer& trainer_;
  const Dataset& train_;
  const Dataset& test_;
  int64_t eval_images_;
  std::deque<double> recent_bpd_;
};

}  // namespace ta::cifar
