#include "examples/protein_lm/checkpoint_modes.h"

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "examples/common/checkpoint_mode.h"
#include "examples/common/run_files.h"
#include "examples/protein_lm/data.h"
#include "examples/protein_lm/fasta.h"
#include "examples/protein_lm/generated_file.h"
#include "examples/protein_lm/model.h"
#include "examples/protein_lm/score_report.h"
#include "examples/protein_lm/settings.h"

namespace ta::protein {

using namespace ta::examples;

void add_protein_checkpoint_mode_flags(Flags& f) {
  add_checkpoint_mode_flags(f, "--evaluate: the JSON file of the figures; --sample-from: the FASTA file of the "
                               "sequences (default: beside the run's folder, named after it and the step)");
  f.add(checkpoint_mode_flag(text_flag("test-file", "",
                                       "--evaluate: score every sequence of this FASTA file instead of the test split "
                                       "of --data (the unigram baseline still comes from the training split of --data)")));
}

namespace {

// Accuracy and perplexity of the model and the unigram baseline on every test
// sequence, printed and written to `output` as JSON.
void score_checkpoint(const Flags& flags, const ModelCheckpoint& checkpoint, TransformerLM& model, const std::string& output) {
  const ModelOptions mo = model_options(flags);
  const Splits data = load_splits(flags.str("data"));
  const std::string test_file = flags.str("test-file");
  const Corpus test = test_file.empty() ? data.test : make_corpus(read_fasta(test_file));
  const std::string test_data = test_file.empty() ? "the test split of " + data.description : test_file;
  std::printf("unigram baseline: the %lld residues of the training split of %s\ntest: %lld sequences (%lld residues), "
              "%s\n",
              static_cast<long long>(data.train.residues()), data.description.c_str(),
              static_cast<long long>(test.size()), static_cast<long long>(test.residues()), test_data.c_str());

  const auto start = std::chrono::steady_clock::now();
  const Scores scores = evaluate(
      model,
      eval_batches(test, mo.objective, mo.max_len, packing_if(flags.boolean("pack")), flags.integer("eval-batch"), 0),
      unigram_of(data.train));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  print_scores(mo.attention, mo.objective, {{"test", scores}});

  JsonSummary figures;
  figures.set("checkpoint", checkpoint.path);
  figures.set("step", static_cast<double>(checkpoint.step));
  figures.set("attention", mo.attention);
  figures.set("objective", objective_name(mo.objective));
  figures.set("pack", flags.boolean("pack") ? "true" : "false");
  figures.set("test_data", test_data);
  figures.set("unigram_data", "the training split of " + data.description);
  add_test_scores(figures, scores);
  figures.set("eval_s", seconds);
  figures.set("params", static_cast<double>(model.parameter_count()));
  figures.write(output);
  std::printf("wrote %s\n", output.c_str());
}

// --generate sequences from a causal model, written to `output` as FASTA.
void draw_from_checkpoint(const Flags& flags, const ModelCheckpoint& checkpoint, TransformerLM& model, const std::string& output) {
  TA_CHECK(model.config.causal, "--sample-from: ", checkpoint.path,
           " holds a masked (bidirectional) model; sequences are sampled from causal models only");
  TA_CHECK(flags.integer("generate") > 0, "--sample-from: nothing to draw: give --generate N (N > 0)");
  TA_CHECK(write_generated(output, flags, flags.str("attention"), model, checkpoint.step) > 0,
           "--sample-from: every sequence ended at once (an empty --prompt and <eos> drawn first); nothing written");
}

}  // namespace

CheckpointModes protein_checkpoint_modes() {
  return {.evaluate_reads = {"data", "test-file", "eval-batch"},
          .sample_reads = {"seed", "generate", "prompt", "temperature", "top-k", "gen-length"},
          .sample_output = "generated.fasta",
          .build = [](const Flags& flags) { return build_model(model_options(flags)); },
          .evaluate = score_checkpoint,
          .sample = draw_from_checkpoint};
}

}  // namespace ta::protein
