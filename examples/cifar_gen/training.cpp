#include "examples/cifar_gen/training.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "examples/common/run_files.h"

namespace ta::cifar {

Trainer::Trainer(const ModelOptions& model_options, const TrainOptions& o)
    : examples::Trainer(build_model(model_options), o, model_options.seed + 1) {}

StepResult Trainer::step(const Dataset& train, float lr) {
  TA_CHECK(train.size() > 0, "training: no training images");
  std::vector<int64_t> idx(global_batch());
  for (int64_t& i : idx)
    i = std::min<int64_t>(train.size() - 1, static_cast<int64_t>(data_gen.next_uniform() * train.size()));
  const dist::RowRange mine = examples::rows_of_this_process(global_batch());
  idx = std::vector<int64_t>(idx.begin() + mine.begin, idx.begin() + mine.begin + mine.count);
  Tensor inputs, targets;
  make_batch(train, idx, inputs, targets);
  // Every image scores 3072 sub-pixels: the processes' means weigh the same.
  return update(pixel_loss(model->forward(inputs.to(model->device())), targets.to(model->device())), lr,
                mine.count * kTokens);
}

ImageTrainingJob::ImageTrainingJob(Trainer& trainer, const Dataset& train, const Dataset& test, int64_t eval_images)
    : trainer_(trainer), train_(train), test_(test), eval_images_(eval_images) {}

StepResult ImageTrainingJob::step(float lr) {
  const StepResult r = trainer_.step(train_, lr);
  recent_bpd_.push_back(bits_per_dim(r.loss));
  if (recent_bpd_.size() > 20) recent_bpd_.pop_front();
  return r;
}

std::vector<std::string> ImageTrainingJob::train_values(double loss) const { return {examples::fmt(bits_per_dim(loss))}; }

std::string ImageTrainingJob::progress_text(double loss) const {
  char text[96];
  std::snprintf(text, sizeof text, "loss %.3f bpd %.3f", loss, bits_per_dim(loss));
  return text;
}

std::vector<std::string> ImageTrainingJob::evaluate(int64_t step) {
  const double bpd = evaluate_bpd(*trainer_.model, test_, eval_images_, trainer_.options.batch);
  std::printf("step %lld: test bits/dim %s (first %lld test images)\n", static_cast<long long>(step),
              examples::fmt(bpd).c_str(), static_cast<long long>(std::min(eval_images_, test_.size())));
  std::fflush(stdout);
  return {examples::fmt(bpd)};
}

double ImageTrainingJob::recent_train_bpd() const {
  if (recent_bpd_.empty()) return std::numeric_limits<double>::quiet_NaN();
  return std::accumulate(recent_bpd_.begin(), recent_bpd_.end(), 0.0) / static_cast<double>(recent_bpd_.size());
}

}  // namespace ta::cifar
