#include "examples/common/trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/engine.h"
#include "core/error.h"
#include "optim/clip.h"
#include "layers/training_checkpoint.h"

namespace ta::examples {

StepResult apply_gradients(const Tensor& loss, Optimizer& optimizer, float lr, float clip) {
  StepResult r;
  r.loss = loss.item();
  optimizer.zero_grad();
  backward(loss);
  r.grad_norm = clip_and_step(optimizer, lr, clip);
  return r;
}

float clip_and_step(Optimizer& optimizer, float lr, float clip) {
  // Without clipping the norm is still measured (FLT_MAX never clips), so that a
  // non-finite gradient never reaches the parameters.
  const float max_norm = clip > 0 ? clip : std::numeric_limits<float>::max();
  const float norm = clip_grad_norm(optimizer.parameters(), max_norm, NonFiniteNorm::Return);
  if (std::isfinite(norm)) optimizer.step(lr);
  return norm;
}

static int64_t warmup_of(const TrainOptions& o) { return std::min(o.warmup, o.steps - 1); }  // short runs

Trainer::Trainer(std::shared_ptr<TransformerLM> m, const TrainOptions& o, uint64_t data_seed)
    : options(o),
      model(std::move(m)),
      optimizer(weight_decay_groups(model->named_parameters(), o.weight_decay), AdamOptions{.beta2 = o.beta2}),
      parallel(*model, o.bucket_mb),
      data_gen(data_seed),
      schedule_(warmup_decay_schedule(o.decay, o.lr, warmup_of(o), o.steps, o.final_lr * o.lr)) {
  TA_CHECK(o.steps > 0 && o.batch > 0, "--steps and --batch must be positive, got ", o.steps, " and ", o.batch);
  TA_CHECK(std::isfinite(o.lr) && o.lr > 0, "--lr must be positive, got ", o.lr);
  TA_CHECK(o.final_lr >= 0 && o.final_lr <= 1, "--final-lr must be in [0, 1], got ", o.final_lr);
}

float Trainer::lr(double elapsed_s) const {
  int64_t s = steps_done();
  const int64_t warmup = warmup_of(options);
  if (options.time_limit_s > 0 && s >= warmup) {
    const double clock = std::min(1.0, elapsed_s / options.time_limit_s) * static_cast<double>(options.steps - warmup);
    s = std::max(s, warmup + static_cast<int64_t>(clock));
  }
  return schedule_->lr(s);
}

// The loss and tokens travel together (one sum over processes); the mean loss is
// then rank 0's on every process, so that all judge the same number.
StepResult Trainer::update(const Tensor& loss, float lr, int64_t tokens) {
  StepResult r;
  optimizer.zero_grad();
  parallel.backward(loss);
  r.grad_norm = clip_and_step(optimizer, lr, options.clip);
  const std::vector<double> sums = dist::sum_over_ranks({loss.item(), static_cast<double>(tokens)});
  r.loss = rank0_value(sums[0] / dist::world_size());
  r.tokens = static_cast<int64_t>(sums[1]);
  return r;
}

bool Trainer::finished(double elapsed_s) const {
  return steps_done() >= options.steps || (options.time_limit_s > 0 && elapsed_s >= options.time_limit_s);
}

void Trainer::save(const std::string& path, const Metadata& meta) {
  Metadata with_processes = meta;
  store_processes(with_processes);
  save_training_checkpoint(path, *model, optimizer, {{"data", &data_gen}, {"model", &model->gen}}, with_processes);
}

Metadata Trainer::load(const std::string& path) {
  Metadata meta = load_training_checkpoint(path, *model, optimizer, {{"data", &data_gen}, {"model", &model->gen}});
  parallel.key_dropout_by_rank();  // the checkpoint holds rank 0's generator
  return meta;
}

void check_finite(const Trainer& trainer) {
  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : trainer.model->state_dict()) state["model " + name] = t;
  for (const auto& [name, t] : trainer.optimizer.state().tensors) state["optimizer state " + name] = t;
  for (const auto& [name, t] : state) {
    const std::vector<float> values = t.to_vector();
    const auto bad = std::count_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
    TA_CHECK(bad == 0, "the ", name, " ", t.shape(), " holds ", bad, " NaN or infinite value", bad > 1 ? "s" : "");
  }
}

}  // namespace ta::examples
