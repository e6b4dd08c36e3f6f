#include "examples/protein_lm/training.h"

#include <cmath>
#include <cstdio>

#include "autograd/ops.h"
#include "examples/common/run_files.h"

namespace ta::protein {

Trainer::Trainer(const ModelOptions& model_options, const examples::TrainOptions& options)
    : examples::Trainer(build_model(model_options), options, model_options.seed + 1) {}

// This process's rows of the global batch. Their loss is a mean over the targets
// they score, which differ from process to process (padding, masking): weighted by
// dist::mean_weight, the processes' mean is the mean over the global batch.
examples::StepResult Trainer::step(const Sampler& sampler, float lr) {
  const Batch global = sampler.next(data_gen);
  const dist::RowRange mine = examples::rows_of_this_process(global.inputs.shape()[0]);
  const Batch batch = rows_of(global, mine.begin, mine.count);
  Tensor loss = batch_loss(*model, batch);
  if (dist::world_size() > 1) loss = loss * static_cast<float>(dist::mean_weight(batch.scored));
  return update(loss, lr, batch.tokens);
}

SequenceTrainingJob::SequenceTrainingJob(Trainer& trainer, const Sampler& sampler,
                                         const std::vector<Batch>& periodic_eval, const Unigram& unigram,
                                         Metadata metadata)
    : trainer_(trainer),
      sampler_(sampler),
      periodic_eval_(periodic_eval),
      unigram_(unigram),
      metadata_(std::move(metadata)) {}

std::vector<std::string> SequenceTrainingJob::train_values(double loss) const {
  return {examples::fmt(std::exp(loss))};
}

std::string SequenceTrainingJob::progress_text(double loss) const {
  char text[96];
  std::snprintf(text, sizeof text, "loss %.3f ppl %.2f", loss, std::exp(loss));
  return text;
}

std::vector<std::string> SequenceTrainingJob::evaluate(int64_t step) {
  const Scores s = protein::evaluate(*trainer_.model, periodic_eval_, unigram_);
  std::printf("step %lld: valid perplexity %.3f, accuracy %.2f%% (unigram baseline %.3f, %.2f%%)\n",
              static_cast<long long>(step), s.perplexity(), 100 * s.accuracy(), s.unigram_perplexity(),
              100 * s.unigram_accuracy());
  std::fflush(stdout);
  return {examples::fmt(s.loss()), examples::fmt(s.perplexity()), examples::fmt(s.accuracy())};
}

}  // namespace ta::protein
