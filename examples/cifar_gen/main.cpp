// examples/cifar_gen — autoregressive CIFAR-10 image model, the task of the Sparse
// Transformer paper: each image is 3072 tokens (raster order, R G B of a pixel
// together), each predicted from the ones before with a 256-way softmax; the
// score is bits per dim, the negative log-likelihood in bits averaged over the 3072
// sub-pixels (a uniform guess scores exactly 8).
//
// `make demo` runs it with its defaults on the bundled data (examples/data/cifar10);
// `--help` lists every flag, README.md describes the runs. Everything a run writes
// goes under --out: log.csv, curve.png, checkpoint.safetensors (and the one before,
// checkpoint.previous.safetensors), summary.json, samples.png, completions.png and
// (--show-attention) attention.png. Exit statuses: examples/common/training_run.h.
// With --evaluate or --sample-from it uses a checkpoint's model instead of training
// (checkpoint_modes.h).
#include <cstdio>

#include "examples/cifar_gen/checkpoint_modes.h"
#include "examples/cifar_gen/cifar_data.h"
#include "examples/cifar_gen/model.h"
#include "examples/cifar_gen/picture_files.h"
#include "examples/cifar_gen/pictures.h"
#include "examples/cifar_gen/settings.h"
#include "examples/cifar_gen/test_score.h"
#include "examples/cifar_gen/training.h"
#include "distributed/world.h"
#include "examples/common/checkpoint_mode.h"
#include "examples/common/run_files.h"
#include "examples/common/shared_flags.h"
#include "examples/common/training_run.h"
#include "tinyattn.h"

using namespace ta;
using namespace ta::examples;
using namespace ta::cifar;

namespace {

using Trainer = cifar::Trainer;  // not the shared examples::Trainer it extends

struct Data {
  Dataset train, test;
};

Data load_data(const Flags& flags) {
  Data d{load_split(flags.str("data"), Split::Train), load_split(flags.str("data"), Split::Test)};
  if (!flags.str("extra-train").empty()) {
    d.train.append(load_file(flags.str("extra-train")));
    std::printf("note: extra training images from %s are added; if they are JPEG-decoded they are LOSSY\n",
                flags.str("extra-train").c_str());
  }
  std::printf("CIFAR-10: %lld training images, %lld test images (%s)\n", static_cast<long long>(d.train.size()),
              static_cast<long long>(d.test.size()), flags.str("data").c_str());
  return d;
}

void describe_model(const Flags& flags, const Trainer& trainer) {
  std::printf("model: %s attention, %lld layers, d_model %lld, %lld parameters\n", flags.str("attention").c_str(),
              static_cast<long long>(flags.integer("layers")), static_cast<long long>(flags.integer("d-model")),
              static_cast<long long>(trainer.model->parameter_count()));
}

void write_curve(const TrainingRun& run, const TestScore& score, int64_t steps) {
  char title[96];
  std::snprintf(title, sizeof title, "CIFAR-10 bits per dim: test %.4f after %lld steps", score.bpd,
                static_cast<long long>(steps));
  write_training_curve(run.file("log.csv"), run.file("curve.png"),
                       {.train_column = "train_bpd",
                        .eval_column = "test_bpd",
                        .eval_label = "test",
                        .baseline_label = "uniform model (8 bits/dim)",
                        .baseline = 8.0,
                        .title = title,
                        .y_label = "bits per dim"});
}

void write_summary(const TrainingRun& run, const Flags& flags, const Trainer& trainer, const ImageTrainingJob& job,
                   const TestScore& score) {
  JsonSummary summary;
  summary.set("attention", flags.str("attention"));
  summary.set("steps", static_cast<double>(trainer.steps_done()));
  add_training_time(summary, run);
  summary.set("train_bpd", job.recent_train_bpd());
  summary.set("test_bpd", score.bpd);
  summary.set("test_images", static_cast<double>(score.images));
  summary.set("eval_s", score.seconds);
  summary.set("params", static_cast<double>(trainer.model->parameter_count()));
  summary.set("layers", static_cast<double>(flags.integer("layers")));
  summary.set("d_model", static_cast<double>(flags.integer("d-model")));
  summary.set("batch", static_cast<double>(trainer.options.batch));
  summary.set("lr", trainer.options.lr);
  summary.write(run.file("summary.json"));
}

int train(Flags& flags) {
  TrainingRun run(flags, output_files(), changeable_flags());
  apply_threads(flags);
  Trainer trainer(model_options(flags), train_options(flags));
  const Data data = load_data(flags);
  run.restore(trainer);
  describe_model(flags, trainer);
  if (flags.boolean("show-attention"))  // a layer or head it lacks is an error now, not after training
    check_attention_map(*trainer.model, attention_mapped(flags).layers, attention_mapped(flags).heads);

  ImageTrainingJob job(trainer, data.train, data.test, flags.integer("eval-images"));
  const RunEnd end = run.train(job);
  if (end != RunEnd::Finished) return run.exit_status(end);

  const TestScore score =
      score_test_images(*trainer.model, data.test, flags.integer("final-eval-images"), trainer.options.batch);
  run.log_final(job, {fmt(score.bpd)});
  if (dist::is_root()) {  // of several processes (mpirun, srun), rank 0 writes the files
    write_curve(run, score, trainer.steps_done());
    write_summary(run, flags, trainer, job, score);
    write_pictures(pictures_in(run.dir()), flags, *trainer.model, data.test, trainer.steps_done());
  }
  std::printf("done: test bits/dim %.4f %s; outputs in %s/\n", score.bpd, run.time_report().c_str(),
              run.dir().c_str());
  return kExitDone;
}

}  // namespace

int main(int argc, char** argv) {
  return run_training_program("cifar_gen", argc, argv, program_flags, train, cifar_checkpoint_modes);
}
