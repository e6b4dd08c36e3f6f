#include "examples/protein_lm/settings.h"

#include <algorithm>

#include "core/error.h"
#include "examples/common/attention_flags.h"
#include "examples/common/language_model.h"
#include "examples/common/shared_flags.h"
#include "examples/protein_lm/checkpoint_modes.h"
#include "examples/protein_lm/vocab.h"

namespace ta::protein {

using namespace ta::examples;

namespace {

constexpr int64_t kMaxLength = 1 << 20, kMaxSequences = 1'000'000'000;

void add_data_flags(Flags& f) {
  f.begin_section("data and objective");
  f.add(text_flag("data", "examples/data/protein",
                  "folder with train/valid/test.fasta, or FASTA file(s) to split 90/5/5 by sequence hash",
                  non_empty_text()));
  f.add(choice_flag("objective", "causal", {"causal", "masked"},
                    "causal (next residue, causal attention) or masked (BERT masked LM, bidirectional)"));
  f.add(integer_flag("max-len", 1024, 2, kMaxLength,
                     "tokens the model reads at once; longer sequences are cropped (random crop in training)"));
  f.add(switch_flag("pack", "concatenate sequences with <eos> separators into --max-len windows (long-context setting)"));
  f.add(integer_flag("length-pool", 16, 1, 1 << 16,
                     "training batches of similar-length sequences: draw this many batches' worth, sort by length, "
                     "train on one group (less padding; 1: random batches; not with --pack)"));
  f.add(text_flag("init-from", "", "start from the weights of this checkpoint (e.g. softmax-trained) in a model with "
                                   "--attention; reports the loss before and after fine-tuning for --steps"));
}

void add_output_flags(Flags& f) {
  f.begin_section("evaluation and sampling");
  f.add(integer_flag("eval-seqs", 200, 0, kMaxSequences, "validation sequences for the periodic evaluation (0: all)"));
  f.add(integer_flag("final-eval-seqs", 0, 0, kMaxSequences,
                     "sequences of valid and test for the final evaluation (0: all)"));
  f.add(integer_flag("eval-batch", 16, 1, 1 << 16, "sequences per evaluation batch"));
  f.add(integer_flag("generate", 8, 0, 1024,
                     "sequences to sample at the end from a causal model (0: none), written to OUT/generated.fasta"));
  f.add(text_flag("prompt", "M", "residues every generated sequence starts with",
                  TextRule{"residue letters (" + residue_letters() + ", either case)", [](const std::string& s) {
                             return static_cast<int64_t>(s.size()) <= kMaxLength &&
                                    std::all_of(s.begin(), s.end(), [](char c) { return residue_token(c) >= 0; });
                           }}));
  f.add(number_flag("temperature", "1.0", Range{1e-3, 1e3}, "sampling temperature"));
  f.add(integer_flag("top-k", 0, 0, kResidues + 1, "sample among the k most likely of the residues and <eos> (0: all)"));
  f.add(integer_flag("gen-length", 300, 1, kMaxLength, "maximum residues per generated sequence"));
}

}  // namespace

Flags program_flags() {
  Flags f("protein_lm", "protein sequence language model (causal or masked), scored against the unigram baseline");
  add_run_flags(f, "runs/protein_lm", "seed of initialization, data order, masking and sampling");
  add_data_flags(f);
  add_model_shape_flags(f, 8);
  add_training_flags(f, {.batch = 8, .steps = 2000, .warmup = 50, .eval_every = 250, .checkpoint_every = 250,
                         .lr = "0.001"},
                     "sequences (or windows) per step");
  add_output_flags(f);
  add_protein_checkpoint_mode_flags(f);
  // 64 features learn as well as 256 here, in less time (examples/protein_lm/README.md).
  add_attention_flags(f, kDefaultAttention, "the token mixer (with the mode the objective needs)",
                      {{"performer-features", "64"}});
  return f;
}

std::vector<std::string> output_files() { return {"curve.png", "summary.json", "generated.fasta"}; }

std::set<std::string> changeable_flags() {
  std::set<std::string> names = shared_changeable_flags();
  names.insert({"eval-seqs", "final-eval-seqs", "eval-batch", "generate", "prompt", "temperature", "top-k",
                "gen-length"});
  return names;
}

const std::vector<std::string>& shape_flags() {
  static const std::vector<std::string> names = {"objective", "layers", "d-model", "heads", "d-ff", "previous-tokens", "max-len", "pack"};
  return names;
}

ModelOptions model_options(const Flags& f) {
  ModelOptions o{language_model_flags(f)};
  o.objective = parse_objective(f.str("objective"));
  o.max_len = f.integer("max-len");
  o.vocab = kVocab;
  check_attention_fits(o.attention, o.objective);
  check_memory_for_training(o, std::max(f.integer("batch"), f.integer("eval-batch")), o.max_len + 1);
  TA_CHECK(f.integer("batch") * f.integer("length-pool") <= kMaxSequences, "--batch ", f.integer("batch"),
           " times --length-pool ", f.integer("length-pool"), " is more than the ", kMaxSequences,
           " sequences a step may draw");
  const int64_t longest = std::min(f.integer("gen-length"), o.max_len - 1);
  TA_CHECK(o.objective != Objective::Causal || f.integer("generate") == 0 ||
               static_cast<int64_t>(f.str("prompt").size()) <= longest,
           "--prompt has ", f.str("prompt").size(), " residues, more than the ", longest,
           " a generated sequence may have (--gen-length, and --max-len - 1)");
  return o;
}

}  // namespace ta::protein
