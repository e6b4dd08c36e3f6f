// examples/protein_lm/training.h — training the protein model: a step on a batch
// from the Sampler (examples/common/trainer.h has the rest: AdamW, the schedule,
// checkpoints), and the job the shared training loop runs
// (examples/common/training_run.h): perplexity in the log, periodic validation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "examples/common/trainer.h"
#include "examples/common/training_run.h"
#include "examples/protein_lm/data.h"
#include "examples/protein_lm/model.h"

namespace ta::protein {

class Trainer : public examples::Trainer {
 public:
  // The batch order (sequences, crops, masks) drawn from a generator seeded seed + 1.
  Trainer(const ModelOptions& model, const examples::TrainOptions& options);
  // One update on this process's rows of the sampler's next batch, which has
  // global_batch() rows (all of them in one process).
  examples::StepResult step(const Sampler& sampler, float lr);
};

class SequenceTrainingJob : public examples::TrainingJob {
 public:
  // Periodic evaluations score `periodic_eval` (the first --eval-seqs validation
  // sequences); `metadata` goes into every checkpoint (--init-from's record).
  SequenceTrainingJob(Trainer& trainer, const Sampler& sampler, const std::vector<Batch>& periodic_eval,
                      const Unigram& unigram, Metadata metadata);
  examples::Trainer& trainer() override { return trainer_; }
  examples::StepResult step(float lr) override { return trainer_.step(sampler_, lr); }
  std::vector<std::string> train_columns() const override { return {"train_ppl"}; }
  std::vector<std::string> eval_columns() const override { return {"valid_loss", "valid_ppl", "valid_acc"}; }
  std::vector<std::string> train_values(double loss) const override;
  std::string progress_text(double loss) const override;
  std::vector<std::string> evaluate(int64_t step) override;
  Metadata metadata() const override { return metadata_; }

 private:
  Trainer& trainer_;
  const Sampler& sampler_;
  const std::vector<Batch>& periodic_eval_;
  const Unigram& unigram_;
  Metadata metadata_;
};

}  // namespace ta::protein
