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
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "examples/cifar_gen/cifar_data.h"
#include "examples/cifar_gen/model.h"
#include "examples/cifar_gen/pictures.h"
#include "examples/cifar_gen/sampling.h"
#include "examples/cifar_gen/settings.h"
#include "examples/cifar_gen/training.h"
#include "distributed/world.h"
#include "examples/common/progress.h"
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
  Data d{load_split(flags.str("data"), true), load_split(flags.str("data"), false)};
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

struct FinalScore {
  double bpd = 0, seconds = 0;
  int64_t images = 0;
};

FinalScore final_evaluation(const Flags& flags, Trainer& trainer, const Dataset& test) {
  FinalScore s;
  s.images = std::min(flags.integer("final-eval-images"), test.size());
  std::printf("evaluating on %lld test images...\n", static_cast<long long>(s.images));
  const auto start = std::chrono::steady_clock::now();
  s.bpd = evaluate_bpd(*trainer.model, test, s.images, trainer.options.batch);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("test bits/dim: %.4f on %lld test images (uniform model: 8.0), %s to evaluate\n", s.bpd,
              static_cast<long long>(s.images), format_duration(s.seconds).c_str());
  return s;
}

void write_curve(const TrainingRun& run) {
  const auto csv = read_csv(run.file("log.csv"));
  viz::PlotOptions o;
  o.title = "CIFAR-10 bits per dim";
  o.x_label = "step";
  o.y_label = "bits/dim";
  write_png_file(run.file("curve.png"),
                 viz::plot({log_series(csv, "train_bpd", "train"), log_series(csv, "test_bpd", "test")}, o));
}

void write_summary(const TrainingRun& run, const Flags& flags, const Trainer& trainer, const ImageTrainingJob& job,
                   const FinalScore& score) {
  JsonSummary summary;
  summary.set("attention", flags.str("attention"));
  summary.set("steps", static_cast<double>(trainer.steps_done()));
  summary.set("wall_s", run.training_seconds());
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

std::vector<int64_t> all_below(int64_t n) {
  std::vector<int64_t> all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) all[static_cast<size_t>(i)] = i;
  return all;
}

// What --show-attention draws: --attention-layers, -heads (empty: all) and -queries.
struct AttentionMapped {
  std::vector<int64_t> layers, heads, queries;
};

AttentionMapped attention_mapped(const Flags& flags) {
  AttentionMapped m{flags.integer_list("attention-layers"), flags.integer_list("attention-heads"),
                    flags.integer_list("attention-queries")};
  if (m.layers.empty()) m.layers = all_below(flags.integer("layers"));
  if (m.heads.empty()) m.heads = all_below(flags.integer("heads"));
  return m;
}

// samples.png, completions.png and (--show-attention) attention.png.
void write_pictures(const TrainingRun& run, const Flags& flags, TransformerLM& model, const Dataset& test) {
  Generator gen(static_cast<uint64_t>(flags.integer("seed")) + 2);
  const float temperature = static_cast<float>(flags.number("temperature"));
  if (flags.integer("sample") > 0) {
    auto images = generate(model, flags.integer("sample"), {}, 0, temperature, gen);
    write_png_file(run.file("samples.png"), grid(images, 8, 3));
    std::printf("wrote %s (%zu samples)\n", run.file("samples.png").c_str(), images.size());
  }
  if (const int64_t n = std::min(flags.integer("complete"), test.size()); n > 0) {
    const int64_t half = kTokens / 2;
    std::vector<uint8_t> prefixes;
    for (int64_t i = 0; i < n; ++i) prefixes.insert(prefixes.end(), test.image(i), test.image(i) + half);
    auto pairs = generate(model, n, prefixes, half, temperature, gen);  // completions above originals
    for (int64_t i = 0; i < n; ++i) pairs.emplace_back(test.image(i), test.image(i) + kTokens);
    write_png_file(run.file("completions.png"), grid(pairs, static_cast<int>(n), 3));
    std::printf("wrote %s (top row: model completions of the bottom half; bottom row: originals)\n",
                run.file("completions.png").c_str());
  }
  if (flags.boolean("show-attention")) {
    const AttentionMapped m = attention_mapped(flags);
    write_png_file(run.file("attention.png"), attention_map(model, test.image(0), m.layers, m.heads, m.queries, 3));
    std::printf("wrote %s (per row: a query position; columns: layer/head; red = attention weight)\n",
                run.file("attention.png").c_str());
  }
}

int run_program(int argc, char** argv) {
  Flags flags = program_flags();
  if (flags.parse(argc, argv) == ParseResult::HelpShown) return kExitDone;
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

  const FinalScore score = final_evaluation(flags, trainer, data.test);
  run.log_final(job, {fmt(score.bpd)});
  if (dist::is_root()) {  // of several processes (mpirun, srun), rank 0 writes the files
    write_curve(run);
    write_summary(run, flags, trainer, job, score);
    write_pictures(run, flags, *trainer.model, data.test);
  }
  std::printf("done: test bits/dim %.4f after %lld steps in %s; outputs in %s/\n", score.bpd,
              static_cast<long long>(trainer.steps_done()), format_duration(run.training_seconds()).c_str(),
              run.dir().c_str());
  return kExitDone;
}

}  // namespace

int main(int argc, char** argv) {
  return run_main("cifar_gen", [&] { return run_program(argc, argv); });
}
