#include "examples/cifar_gen/training.h"

#include <algorithm>

#include "autograd/engine.h"
#include "core/error.h"
#include "optim/clip.h"
#include "optim/training_checkpoint.h"

namespace ta::cifar {

static int64_t warmup_of(const TrainOptions& o) { return std::min(o.warmup, o.steps - 1); }  // short runs

Trainer::Trainer(const ModelOptions& model_options, const TrainOptions& o)
    : options(o),
      model(build_model(model_options)),
      optimizer(weight_decay_groups(*model, o.weight_decay)),
      data_gen(model_options.seed + 1),
      schedule_(o.lr, warmup_of(o), o.steps, o.lr / 10) {
  TA_CHECK(o.steps > 0 && o.batch > 0, "--steps and --batch must be positive, got ", o.steps, " and ", o.batch);
  TA_CHECK(o.lr > 0, "--lr must be positive, got ", o.lr);
}

float Trainer::lr(double elapsed_s) const {
  int64_t s = steps_done();
  const int64_t warmup = warmup_of(options);
  if (options.time_limit_s > 0 && s >= warmup)
    s = std::max(s, warmup + static_cast<int64_t>(elapsed_s / options.time_limit_s * (options.steps - warmup)));
  return schedule_.lr(s);
}

double Trainer::step(const Dataset& train, float lr) {
  TA_CHECK(train.size() > 0, "training: no training images");
  std::vector<int64_t> idx(options.batch);
  for (int64_t& i : idx)
    i = std::min<int64_t>(train.size() - 1, static_cast<int64_t>(data_gen.next_uniform() * train.size()));
  Tensor inputs, targets;
  make_batch(train, idx, inputs, targets);
  Tensor loss = pixel_loss(model->forward(inputs.to(model->device())), targets.to(model->device()));
  optimizer.zero_grad();
  backward(loss);
  if (options.clip > 0) clip_grad_norm(optimizer.parameters(), options.clip);
  optimizer.step(lr);
  return loss.item();
}

bool Trainer::finished(double elapsed_s) const {
  return steps_done() >= options.steps || (options.time_limit_s > 0 && elapsed_s >= options.time_limit_s);
}

void Trainer::save(const std::string& path, const Metadata& meta) {
  save_training_checkpoint(path, *model, optimizer, {{"data", &data_gen}, {"model", &model->gen}}, meta);
}

Metadata Trainer::load(const std::string& path) {
  return load_training_checkpoint(path, *model, optimizer, {{"data", &data_gen}, {"model", &model->gen}});
}

}  // namespace ta::cifar
