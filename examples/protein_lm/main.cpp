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
// models. Exit statuses: examples/common/training_run.h.
#include <cmath>
#include <cstdio>
#include <utility>

#include "distributed/world.h"
#include "examples/common/progress.h"
#include "examples/common/run_files.h"
#include "examples/common/shared_flags.h"
#include "examples/common/training_run.h"
#include "examples/protein_lm/data.h"
#include "examples/protein_lm/fasta.h"
#include "examples/protein_lm/init_from.h"
#include "examples/protein_lm/model.h"
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
  const bool pack = flags.boolean("pack");
  std::printf("evaluating on %s of valid and test...\n",
              seqs > 0 ? (std::to_string(seqs) + " sequences").c_str() : "all sequences");
  return {evaluate(model, eval_batches(data.valid, mo.objective, mo.max_len, pack, batch, seqs), unigram),
          evaluate(model, eval_batches(data.test, mo.objective, mo.max_len, pack, batch, seqs), unigram)};
}

void print_scores(const ModelOptions& mo, const FinalScores& s, double tokens_per_s) {
  const std::pair<const char*, const Scores*> splits[] = {{"valid", &s.valid}, {"test", &s.test}};
  std::printf("\n  %-6s %-22s %9s %11s\n", "split", "model", "accuracy", "perplexity");
  for (const auto& [name, sc] : splits) {
    std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name, ("tinyattn " + mo.attention).c_str(), 100 * sc->accuracy(),
                sc->perplexity());
    std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name, "unigram baseline", 100 * sc->unigram_accuracy(),
                sc->unigram_perplexity());
  }
  const bool causal = mo.objective == Objective::Causal;
  if (!causal) {  // the positions whose input is <mask>: no copy of the answer in sight
    for (const auto& [name, sc] : splits) {
      std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name, "  <mask> inputs only", 100 * sc->mask_accuracy(),
                  sc->mask_perplexity());
      std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name, "  unigram, same", 100 * sc->mask_unigram_accuracy(),
                  sc->mask_unigram_perplexity());
    }
  }
  std::printf("  (%s objective; %.0f %s scored in test; %.0f training tokens/s)\n", objective_name(mo.objective),
              s.test.count, causal ? "residues" : "chosen residues", tokens_per_s);
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

void write_curve(const TrainingRun& run, double unigram_ppl) {
  const auto csv = read_csv(run.file("log.csv"));
  const viz::Series train = log_series(csv, "train_ppl", "train");
  viz::Series unigram{"unigram baseline (valid)", {}, {}};
  if (!train.x.empty()) unigram.x = {train.x.front(), train.x.back()}, unigram.y = {unigram_ppl, unigram_ppl};
  viz::PlotOptions o;
  o.title = "protein LM perplexity";
  o.x_label = "step";
  o.y_label = "perplexity";
  write_png_file(run.file("curve.png"), viz::plot({train, log_series(csv, "valid_ppl", "valid"), unigram}, o));
}

void add_scores(JsonSummary& summary, const FinalScores& s) {
  summary.set("test_acc", s.test.accuracy());
  summary.set("test_ppl", s.test.perplexity());
  summary.set("unigram_acc", s.test.unigram_accuracy());
  summary.set("unigram_ppl", s.test.unigram_perplexity());
  summary.set("valid_acc", s.valid.accuracy());
  summary.set("valid_ppl", s.valid.perplexity());
  summary.set("valid_unigram_acc", s.valid.unigram_accuracy());
  summary.set("valid_unigram_ppl", s.valid.unigram_perplexity());
  summary.set("test_scored", s.test.count);
  if (s.test.mask_count > 0) {
    summary.set("test_mask_only_acc", s.test.mask_accuracy());
    summary.set("test_mask_only_ppl", s.test.mask_perplexity());
    summary.set("unigram_mask_only_acc", s.test.mask_unigram_accuracy());
    summary.set("unigram_mask_only_ppl", s.test.mask_unigram_perplexity());
  }
}

void write_summary(const TrainingRun& run, const Flags& flags, const ModelOptions& mo, const Trainer& trainer,
                   const FinalScores& scores, const InitRecord& init, double after_loss) {
  JsonSummary summary;
  summary.set("attention", mo.attention);
  summary.set("objective", objective_name(mo.objective));
  summary.set("pack", flags.boolean("pack") ? "true" : "false");
  summary.set("steps", static_cast<double>(trainer.steps_done()));
  summary.set("wall_s", run.training_seconds());
  summary.set("tokens_per_s", run.tokens_per_second());
  add_scores(summary, scores);
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

// generated.fasta: causal models only.
void write_generated(const TrainingRun& run, const Flags& flags, const ModelOptions& mo, const Trainer& trainer) {
  if (mo.objective != Objective::Causal || flags.integer("generate") == 0) return;
  Generator gen(static_cast<uint64_t>(flags.integer("seed")) + 2);
  SamplingOptions so;
  so.temperature = static_cast<float>(flags.number("temperature"));
  so.top_k = flags.integer("top-k");
  so.max_length = flags.integer("gen-length");
  const std::vector<std::string> seqs = generate(*trainer.model, flags.str("prompt"), flags.integer("generate"), so, gen);
  std::vector<FastaRecord> records;
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i].empty()) continue;  // <eos> at once after an empty prompt
    records.push_back({"generated_" + std::to_string(i + 1),
                       cat("len=", seqs[i].size(), " model=", mo.attention, " steps=", trainer.steps_done(),
                           " temperature=", so.temperature, " top_k=", so.top_k, " prompt=", flags.str("prompt")),
                       seqs[i]});
  }
  if (records.empty()) return;
  write_fasta(run.file("generated.fasta"), records);
  std::printf("wrote %s (%zu sequences; the first starts %s...)\n", run.file("generated.fasta").c_str(), records.size(),
              records[0].sequence.substr(0, 40).c_str());
}

int run_program(int argc, char** argv) {
  Flags flags = program_flags();
  if (flags.parse(argc, argv) == ParseResult::HelpShown) return kExitDone;
  TrainingRun run(flags, output_files(), changeable_flags());
  const bool init = !run.resuming() && !flags.str("init-from").empty();
  const Metadata source_meta = init ? adopt_source_shape(flags, flags.str("init-from")) : Metadata{};
  apply_threads(flags);
  const ModelOptions mo = model_options(flags);
  Trainer trainer(mo, train_options(flags));
  const Splits data = load_data(flags);
  const Unigram unigram = unigram_of(data.train);
  const std::vector<Batch> periodic_eval = eval_batches(data.valid, mo.objective, mo.max_len, flags.boolean("pack"),
                                                        flags.integer("eval-batch"), flags.integer("eval-seqs"));
  const InitRecord start = starting_point(run, flags, trainer, source_meta, mo, periodic_eval, unigram);
  describe_model(flags, mo, trainer);

  const Sampler sampler(data.train, mo.objective, mo.max_len, flags.boolean("pack"), trainer.global_batch());
  SequenceTrainingJob job(trainer, sampler, periodic_eval, unigram, start.metadata());
  const RunEnd end = run.train(job);
  if (end != RunEnd::Finished) return run.exit_status(end);

  const double after_loss = start.active() ? evaluate(*trainer.model, periodic_eval, unigram).loss() : NAN;
  const FinalScores scores = final_evaluation(flags, mo, *trainer.model, data, unigram);
  run.log_final(job, {fmt(scores.valid.loss()), fmt(scores.valid.perplexity()), fmt(scores.valid.accuracy())});
  print_scores(mo, scores, run.tokens_per_second());
  if (start.active()) print_init_outcome(flags, mo, start, trainer.steps_done(), after_loss);
  if (dist::is_root()) {  // of several processes (mpirun, srun), rank 0 writes the files
    write_curve(run, scores.valid.unigram_perplexity());
    write_summary(run, flags, mo, trainer, scores, start, after_loss);
    write_generated(run, flags, mo, trainer);
  }
  std::printf("done: test perplexity %.3f (unigram %.3f), accuracy %.2f%% (unigram %.2f%%) after %lld steps in %s; "
              "outputs in %s/\n",
              scores.test.perplexity(), scores.test.unigram_perplexity(), 100 * scores.test.accuracy(),
              100 * scores.test.unigram_accuracy(), static_cast<long long>(trainer.steps_done()),
              format_duration(run.training_seconds()).c_str(), run.dir().c_str());
  return kExitDone;
}

}  // namespace

int main(int argc, char** argv) {
  return run_main("protein_lm", [&] { return run_program(argc, argv); });
}
