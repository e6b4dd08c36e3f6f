// examples/protein_lm — language models of protein sequences, the Performer
// paper's protein experiment: next-residue prediction with causal attention, or
// BERT-style masked-LM with bidirectional attention, scored by accuracy and
// perplexity on held-out sequences next to the empirical baseline (the unigram
// distribution of the training residues) computed by the same program.
//
// `make protein` runs it with its defaults on the bundled data
// (examples/data/protein); `--help` lists every flag. Everything a run writes goes
// under --out: log.csv, curve.png, checkpoint.safetensors (and the one before,
// checkpoint.previous.safetensors), summary.json, and generated.fasta for causal
// models. Exit statuses: examples/common/training_run.h. With --evaluate or
// --sample-from it uses a checkpoint's model instead of training (checkpoint_modes.h).
#include <cmath>
#include <cstdio>
#include <utility>

#include "distributed/world.h"
#include "examples/common/checkpoint_mode.h"
#include "examples/common/run_files.h"
#include "examples/common/shared_flags.h"
#include "examples/common/training_run.h"
#include "examples/protein_lm/data.h"
#include "examples/protein_lm/checkpoint_modes.h"
#include "examples/protein_lm/generated_file.h"
#include "examples/protein_lm/init_from.h"
#include "examples/protein_lm/model.h"
#include "examples/protein_lm/score_report.h"
#include "examples/protein_lm/settings.h"
#include "examples/protein_lm/training.h"
#include "tinyattn.h"

using namespace ta;
using namespace ta::examples;
using namespace ta::protein;

namespace {

using Trainer = protein::Trainer;  // not the shared examples::Trainer it extends

Splits load_data(const Flags& flags) {
  Splits data = load_splits(flags.str("data"));
  std::printf("protein data: %s\n  train %lld sequences (%lld residues), valid %lld (%lld), test %lld (%lld)\n",
              data.description.c_str(), static_cast<long long>(data.train.size()),
              static_cast<long long>(data.train.residues()), static_cast<long long>(data.valid.size()),
              static_cast<long long>(data.valid.residues()), static_cast<long long>(data.test.size()),
              static_cast<long long>(data.test.residues()));
  return data;
}

// Where the parameters start: the run's checkpoint when resuming, another run's
// with --init-from, else the initialization.
InitRecord starting_point(TrainingRun& run, const Flags& flags, Trainer& trainer, const Metadata& source_meta,
                          const ModelOptions& mo, const std::vector<Batch>& eval, const Unigram& unigram) {
  if (run.resuming()) return InitRecord::from_metadata(run.restore(trainer));
  if (flags.str("init-from").empty()) return {};
  return init_from(flags.str("init-from"), source_meta, *trainer.model, mo, eval, unigram);
}

void describe_model(const Flags& flags, const ModelOptions& mo, const Trainer& trainer) {
  std::printf("model: %s objective, %s attention, %lld layers, d_model %lld, %lld heads, max length %lld%s, "
              "%lld parameters\n",
              objective_name(mo.objective), mo.attention.c_str(), static_cast<long long>(mo.layers),
              static_cast<long long>(mo.d_model), static_cast<long long>(mo.heads), static_cast<long long>(mo.max_len),
              flags.boolean("pack") ? " (packed windows)" : "", static_cast<long long>(trainer.model->parameter_count()));
}

struct FinalScores {
  Scores valid, test;
};

FinalScores final_evaluation(const Flags& flags, const ModelOptions& mo, TransformerLM& model, const Splits& data,
                             const Unigram& unigram) {
  const int64_t seqs = flags.integer("final-eval-seqs"), batch = flags.integer("eval-batch");
  const Packing packing = packing_if(flags.boolean("pack"));
  std::printf("evaluating on %s of valid and test...\n",
              seqs > 0 ? (std::to_string(seqs) + " sequences").c_str() : "all sequences");
  return {evaluate(model, eval_batches(data.valid, mo.objective, mo.max_len, packing, batch, seqs), unigram),
          evaluate(model, eval_batches(data.test, mo.objective, mo.max_len, packing, batch, seqs), unigram)};
}

void print_init_outcome(const Flags& flags, const ModelOptions& mo, const InitRecord& init, int64_t steps,
                        double after_loss) {
  std::printf("init-from: valid loss (first %lld sequences) source %s %s, %s before fine-tuning %s, after %lld "
              "steps %s (perplexity %s -> %s -> %s)\n",
              static_cast<long long>(flags.integer("eval-seqs")), init.source_attention.c_str(),
              fmt(init.source_loss).c_str(), mo.attention.c_str(), fmt(init.before_loss).c_str(),
              static_cast<long long>(steps), fmt(after_loss).c_str(), fmt(std::exp(init.source_loss)).c_str(),
              fmt(std::exp(init.before_loss)).c_str(), fmt(std::exp(after_loss)).c_str());
}

void write_curve(const TrainingRun& run, const FinalScores& scores, int64_t steps) {
  char title[128];
  std::snprintf(title, sizeof title, "protein LM perplexity: test %.3f (unigram %.3f) after %lld steps",
                scores.test.perplexity(), scores.test.unigram_perplexity(), static_cast<long long>(steps));
  write_training_curve(run.file("log.csv"), run.file("curve.png"),
                       {.train_column = "train_ppl",
                        .eval_column = "valid_ppl",
                        .eval_label = "valid",
                        .baseline_label = "unigram baseline (valid)",
                        .baseline = scores.valid.unigram_perplexity(),
                        .title = title,
                        .y_label = "perplexity"});
}

void add_valid_scores(JsonSummary& summary, const Scores& valid) {
  summary.set("valid_acc", valid.accuracy());
  summary.set("valid_ppl", valid.perplexity());
  summary.set("valid_unigram_acc", valid.unigram_accuracy());
  summary.set("valid_unigram_ppl", valid.unigram_perplexity());
}

void write_summary(const TrainingRun& run, const Flags& flags, const ModelOptions& mo, const Trainer& trainer,
                   const FinalScores& scores, const InitRecord& init, double after_loss) {
  JsonSummary summary;
  summary.set("attention", mo.attention);
  summary.set("objective", objective_name(mo.objective));
  summary.set("pack", flags.boolean("pack") ? "true" : "false");
  summary.set("steps", static_cast<double>(trainer.steps_done()));
  add_training_time(summary, run);
  summary.set("tokens_per_s", run.tokens_per_second());
  add_test_scores(summary, scores.test);
  add_valid_scores(summary, scores.valid);
  summary.set("params", static_cast<double>(trainer.model->parameter_count()));
  summary.set("layers", static_cast<double>(mo.layers));
  summary.set("d_model", static_cast<double>(mo.d_model));
  summary.set("heads", static_cast<double>(mo.heads));
  summary.set("max_len", static_cast<double>(mo.max_len));
  summary.set("batch", static_cast<double>(trainer.options.batch));
  if (init.active()) {
    summary.set("init_from", init.from);
    summary.set("init_source_attention", init.source_attention);
    summary.set("init_source_valid_loss", init.source_loss);
    summary.set("init_before_valid_loss", init.before_loss);
    summary.set("init_after_valid_loss", after_loss);
  }
  summary.write(run.file("summary.json"));
}

// The scores table, then what was scored and how fast this invocation trained.
void print_final_scores(const TrainingRun& run, const ModelOptions& mo, const FinalScores& scores) {
  print_scores(mo.attention, mo.objective, {{"valid", scores.valid}, {"test", scores.test}});
  const std::string speed = run.session_steps() > 0
                                ? std::to_string(std::lround(run.tokens_per_second())) + " training tokens/s"
                                : std::string("no training in this invocation");
  std::printf("  (%s objective; %.0f %s scored in test; %s)\n", objective_name(mo.objective), scores.test.count,
              mo.objective == Objective::Causal ? "residues" : "chosen residues", speed.c_str());
}

int train(Flags& flags) {
  TrainingRun run(flags, output_files(), changeable_flags());
  const bool init = !run.resuming() && !flags.str("init-from").empty();
  const Metadata source_meta = init ? adopt_source_shape(flags, flags.str("init-from")) : Metadata{};
  apply_threads(flags);
  const ModelOptions mo = model_options(flags);
  Trainer trainer(mo, train_options(flags));
  const Splits data = load_data(flags);
  const Unigram unigram = unigram_of(data.train);
  const Packing packing = packing_if(flags.boolean("pack"));
  const std::vector<Batch> periodic_eval = eval_batches(data.valid, mo.objective, mo.max_len, packing,
                                                        flags.integer("eval-batch"), flags.integer("eval-seqs"));
  const InitRecord start = starting_point(run, flags, trainer, source_meta, mo, periodic_eval, unigram);
  describe_model(flags, mo, trainer);

  const Sampler sampler(data.train, mo.objective, mo.max_len, packing, trainer.global_batch(),
                        flags.integer("length-pool"));
  SequenceTrainingJob job(trainer, sampler, periodic_eval, unigram, start.metadata());
  const RunEnd end = run.train(job);
  if (end != RunEnd::Finished) return run.exit_status(end);

  const double after_loss = start.active() ? evaluate(*trainer.model, periodic_eval, unigram).loss() : NAN;
  const FinalScores scores = final_evaluation(flags, mo, *trainer.model, data, unigram);
  run.log_final(job, {fmt(scores.valid.loss()), fmt(scores.valid.perplexity()), fmt(scores.valid.accuracy())});
  print_final_scores(run, mo, scores);
  if (start.active()) print_init_outcome(flags, mo, start, trainer.steps_done(), after_loss);
  if (dist::is_root()) {  // of several processes (mpirun, srun), rank 0 writes the files
    write_curve(run, scores, trainer.steps_done());
    write_summary(run, flags, mo, trainer, scores, start, after_loss);
    if (mo.objective == Objective::Causal && flags.integer("generate") > 0)
      write_generated(run.file("generated.fasta"), flags, mo.attention, *trainer.model, trainer.steps_done());
  }
  std::printf("done: test perplexity %.3f (unigram %.3f), accuracy %.2f%% (unigram %.2f%%) %s; outputs in %s/\n",
              scores.test.perplexity(), scores.test.unigram_perplexity(), 100 * scores.test.accuracy(),
              100 * scores.test.unigram_accuracy(), run.time_report().c_str(), run.dir().c_str());
  return kExitDone;
}

}  // namespace

int main(int argc, char** argv) {
  return run_training_program("protein_lm", argc, argv, program_flags, train, protein_checkpoint_modes);
}
