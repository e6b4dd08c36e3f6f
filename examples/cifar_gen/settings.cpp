#include "examples/cifar_gen/settings.h"

#include "examples/cifar_gen/checkpoint_modes.h"
#include "examples/cifar_gen/cifar_data.h"
#include "examples/common/attention_flags.h"
#include "examples/common/language_model.h"
#include "examples/common/shared_flags.h"

namespace ta::cifar {

using namespace ta::examples;

namespace {

void add_data_flags(Flags& f) {
  f.begin_section("data");
  f.add(text_flag("data", "examples/data/cifar10",
                  "folder with train.bin/test.bin, or the official data_batch_*.bin and test_batch.bin", non_empty_text()));
  f.add(text_flag("extra-train", "", "optional extra training file in the same format (e.g. the LOSSY JPEG-decoded set)"));
}

void add_image_model_flags(Flags& f) {
  add_model_shape_flags(f, 6);
  f.add(boolean_flag("tie-embeddings", true, "the output head is the value embedding matrix"));
  f.add(boolean_flag("smooth-values", true, "value embeddings start smooth in the value: random Fourier features of v"));
  f.add(boolean_flag("factorized-positions", true, "learned positions start as row + column + channel vectors"));
}

void add_output_flags(Flags& f) {
  f.begin_section("evaluation and pictures");
  f.add(integer_flag("eval-images", 32, 1, 1'000'000, "test images for the periodic evaluation"));
  f.add(integer_flag("final-eval-images", 1000, 1, 1'000'000,
                     "test images for the final evaluation (at most the test set)"));
  f.add(integer_flag("sample", 16, 0, 256, "images to generate at the end (0: none)"));
  f.add(integer_flag("complete", 8, 0, 64, "test images whose bottom half the model completes at the end (0: none)"));
  f.add(number_flag("temperature", "1.0", Range{1e-3, 1e3}, "sampling temperature"));
  f.add(switch_flag("show-attention", "draw attention maps of the trained model (attention.png)"));
  f.add(integer_list_flag("attention-layers", "", 0, kMaxLayers - 1, 16,
                          "layers for --show-attention, comma-separated (default: all)"));
  f.add(integer_list_flag("attention-heads", "", 0, kMaxHeads - 1, 16, "heads for --show-attention (default: all)"));
  f.add(integer_list_flag("attention-queries", "1552,2500,3070", 0, kTokens - 1, 16,
                          "token positions whose attention is drawn"));
}

}  // namespace

Flags program_flags() {
  Flags f("cifar_gen", "autoregressive CIFAR-10 pixel model, scored in bits per dim");
  add_run_flags(f, "runs/cifar_gen", "seed of initialization, data order and sampling");
  add_data_flags(f);
  add_image_model_flags(f);
  add_training_flags(f, {.batch = 2, .steps = 3500, .warmup = 100, .eval_every = 500, .checkpoint_every = 500,
                         .lr = "0.004"},
                     "images per step");
  add_output_flags(f);
  add_cifar_checkpoint_mode_flags(f);
  // A stride of 96 tokens is one image row: the strided pattern's A1 is then the row
  // before, A2 the column above.
  add_attention_flags(f, "sparse-strided", "the token mixer (a causal variant)", {{"sparse-stride", "96"}});
  return f;
}

std::vector<std::string> output_files() {
  return {"curve.png", "summary.json", "samples.png", "completions.png", "attention.png"};
}

std::set<std::string> changeable_flags() {
  std::set<std::string> names = shared_changeable_flags();
  names.insert({"eval-images", "final-eval-images", "sample", "complete", "temperature", "show-attention",
                "attention-layers", "attention-heads", "attention-queries"});
  return names;
}

ModelOptions model_options(const Flags& f) {
  ModelOptions o{language_model_flags(f)};
  o.tie_embeddings = f.boolean("tie-embeddings");
  o.smooth_values = f.boolean("smooth-values");
  o.factorized_positions = f.boolean("factorized-positions");
  check_causal(o.attention);
  o.vocab = kVocab;
  o.max_len = kTokens;
  check_memory_for_training(o, f.integer("batch"), kTokens);
  return o;
}

}  // namespace ta::cifar
