#include "examples/cifar_gen/checkpoint_modes.h"

#include <cstdio>

#include "core/error.h"
#include "examples/cifar_gen/cifar_data.h"
#include "examples/cifar_gen/model.h"
#include "examples/cifar_gen/picture_files.h"
#include "examples/cifar_gen/pictures.h"
#include "examples/cifar_gen/settings.h"
#include "examples/cifar_gen/test_score.h"
#include "examples/common/checkpoint_mode.h"
#include "examples/common/run_files.h"
#include "examples/common/run_folder.h"

namespace ta::cifar {

using namespace ta::examples;

void add_cifar_checkpoint_mode_flags(Flags& f) {
  add_checkpoint_mode_flags(f, "--evaluate: the JSON file of the figures; --sample-from: the folder of the pictures "
                               "(default: beside the run's folder, named after it and the step)");
  f.add(checkpoint_mode_flag(integer_flag("images", 0, 0, 1'000'000, "--evaluate: test images to score (0: all)")));
  f.add(checkpoint_mode_flag(text_flag("test-file", "",
                                       "test images from this file of CIFAR-10 records (e.g. the official "
                                       "test_batch.bin) instead of the test split of --data")));
}

namespace {

// The test images: --test-file, or the test split of --data.
Dataset test_images(const Flags& flags) {
  TA_CHECK(!(flags.given("test-file") && flags.given("data")),
           "--test-file replaces the test split of --data: give one of them");
  const std::string file = flags.str("test-file");
  Dataset test = file.empty() ? load_split(flags.str("data"), Split::Test) : load_file(file);
  std::printf("CIFAR-10: %lld test images (%s)\n", static_cast<long long>(test.size()),
              (file.empty() ? flags.str("data") : file).c_str());
  return test;
}

// Test bits/dim of the model, printed and written to `output` as JSON.
void score_checkpoint(const Flags& flags, const ModelCheckpoint& checkpoint, TransformerLM& model, const std::string& output) {
  const Dataset test = test_images(flags);
  const TestScore score = score_test_images(model, test, flags.integer("images"), flags.integer("batch"));
  JsonSummary figures;
  figures.set("checkpoint", checkpoint.path);
  figures.set("step", static_cast<double>(checkpoint.step));
  figures.set("attention", flags.str("attention"));
  figures.set("test_data", flags.str("test-file").empty() ? flags.str("data") : flags.str("test-file"));
  figures.set("test_images", static_cast<double>(score.images));
  figures.set("test_bpd", score.bpd);
  figures.set("eval_s", score.seconds);
  figures.set("params", static_cast<double>(model.parameter_count()));
  figures.write(output);
  std::printf("wrote %s\n", output.c_str());
}

// The pictures the flags ask for, in the folder `output`.
void draw_from_checkpoint(const Flags& flags, const ModelCheckpoint& checkpoint, TransformerLM& model, const std::string& output) {
  const bool attention = flags.boolean("show-attention");
  TA_CHECK(flags.integer("sample") > 0 || flags.integer("complete") > 0 || attention,
           "--sample-from: nothing to draw: give --sample N, --complete N or --show-attention");
  if (attention) check_attention_map(model, attention_mapped(flags).layers, attention_mapped(flags).heads);
  const Dataset test = flags.integer("complete") > 0 || attention ? test_images(flags) : Dataset{};
  make_dirs(output);
  write_pictures(pictures_in(output), flags, model, test, checkpoint.step);
}

}  // namespace

CheckpointModes cifar_checkpoint_modes() {
  return {.evaluate_reads = {"data", "test-file", "images"},
          .sample_reads = {"data", "test-file", "seed", "sample", "complete", "temperature", "show-attention",
                                    "attention-layers", "attention-heads", "attention-queries"},
          .sample_output = "samples",
          .build = [](const Flags& flags) { return build_model(model_options(flags)); },
          .evaluate = score_checkpoint,
          .sample = draw_from_checkpoint};
}

}  // namespace ta::cifar
