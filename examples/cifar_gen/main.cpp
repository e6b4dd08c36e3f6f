// examples/cifar_gen — autoregressive CIFAR-10 image model, the task of the Sparse
// Transformer paper: each image is 3072 tokens (raster order, R G B of a pixel
// together), each predicted from the ones before with a 256-way softmax; the
// score is bits per dim, the negative log-likelihood in bits averaged over the 3072
// sub-pixels (a uniform guess scores exactly 8).
//
// `make demo` runs it with its defaults on the bundled data (examples/data/cifar10);
// `--help` lists every flag, README.md describes the runs. Everything a run writes
// goes under --out: log.csv, curve.png, checkpoint.safetensors, summary.json,
// samples.png, completions.png and (--show-attention) attention.png.
#include <omp.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <exception>
#include <numeric>
#include <sstream>

#include "examples/cifar_gen/cifar_data.h"
#include "examples/cifar_gen/model.h"
#include "examples/cifar_gen/pictures.h"
#include "examples/cifar_gen/sampling.h"
#include "examples/cifar_gen/training.h"
#include "examples/common/attention_flags.h"
#include "examples/common/flags.h"
#include "examples/common/language_model.h"
#include "examples/common/progress.h"
#include "examples/common/run_files.h"
#include "tinyattn.h"
#include "viz/plot.h"

using namespace ta;
using namespace ta::examples;
using namespace ta::cifar;

namespace {

void declare_flags(Flags& f) {
  f.add("data", "examples/data/cifar10", "folder with train.bin/test.bin, or the official data_batch_*.bin and test_batch.bin");
  f.add("extra-train", "", "optional extra training file in the same format (e.g. the LOSSY JPEG-decoded set)");
  f.add("out", "runs/cifar_gen", "folder for everything the run writes");
  f.add("layers", "2", "Transformer blocks");
  f.add("d-model", "64", "model width");
  f.add("heads", "2", "attention heads");
  f.add("d-ff", "0", "feed-forward width (0: 4 x d-model)");
  f.add("dropout", "0", "dropout on residual branches and embeddings");
  f.add("tie-embeddings", "true", "the output head is the value embedding matrix (true or false)");
  f.add("smooth-values", "true", "value embeddings start smooth in the value: random Fourier features of v (true or false)");
  f.add("factorized-positions", "true", "learned positions start as row + column + channel vectors (true or false)");
  f.add("lr", "0.004", "peak learning rate (AdamW)");
  f.add("weight-decay", "0.01", "AdamW decoupled weight decay (not on norms, biases, embeddings)");
  f.add("warmup", "100", "linear warmup steps, then cosine decay to lr/10");
  f.add("batch", "2", "images per step");
  f.add("steps", "3500", "training steps");
  f.add("time-limit", "0", "minutes of training after which the run stops, evaluates and writes everything (0: none); "
        "the cosine then follows the clock when that is further along than --steps");
  f.add("clip", "1.0", "gradient clipping by global norm (0: none)");
  f.add("seed", "1", "seed of initialization, data order and sampling");
  f.add("device", "cpu", "cpu, or cuda (a build with the CUDA toolkit, on a machine with a GPU)");
  f.add("eval-every", "500", "steps between evaluations on the first --eval-images test images");
  f.add("eval-images", "32", "test images for the periodic evaluation");
  f.add("final-eval-images", "1000", "test images for the final evaluation (at most the test set)");
  f.add("checkpoint-every", "500", "steps between checkpoints (also saved at the end and on Ctrl-C)");
  f.add_bool("resume", "continue from OUT/checkpoint.safetensors (the architecture comes from the checkpoint)");
  f.add("sample", "16", "images to generate at the end (0: none)");
  f.add("complete", "8", "test images whose bottom half the model completes at the end (0: none)");
  f.add("temperature", "1.0", "sampling temperature");
  f.add_bool("show-attention", "draw attention maps of the trained model (attention.png)");
  f.add("attention-layers", "", "layers for --show-attention, comma-separated (default: all)");
  f.add("attention-heads", "", "heads for --show-attention (default: all)");
  f.add("attention-queries", "1552,2500,3070", "token positions whose attention is drawn");
  f.add("threads", "0", "threads (0: OMP_NUM_THREADS or all cores)");
  // A stride of 96 tokens is one image row: the strided pattern's A1 is then the row
  // before, A2 the column above.
  add_attention_flags(f, "sparse-strided", "the token mixer (a causal variant)",
                      {{"sparse-stride", "96"}});
}

// Flags stored in the checkpoint. --resume takes the model's from it whatever the
// command line says, and the run's unless the command line gives them (to train
// longer, say), so `--resume --out DIR` alone continues the run as it was. The
// attention's own options (attention_option_flags) are stored and taken the same way.
const char* kModelFlags[] = {"attention",     "layers",       "d-model",
                             "heads",         "d-ff",         "dropout",
                             "tie-embeddings", "smooth-values", "factorized-positions",
                             "seed"};
const char* kRunFlags[] = {"data",        "extra-train",       "lr",         "weight-decay", "warmup",
                           "batch",       "steps",             "time-limit", "clip",         "eval-every",
                           "eval-images", "final-eval-images", "checkpoint-every", "sample", "complete",
                           "temperature", "show-attention"};

ModelOptions model_options(const Flags& f) {
  ModelOptions o{language_model_flags(f)};
  o.tie_embeddings = f.boolean("tie-embeddings");
  o.smooth_values = f.boolean("smooth-values");
  o.factorized_positions = f.boolean("factorized-positions");
  return o;
}

TrainOptions train_options(const Flags& f) {
  TrainOptions o;
  o.batch = f.integer("batch");
  o.steps = f.integer("steps");
  o.warmup = f.integer("warmup");
  o.lr = static_cast<float>(f.number("lr"));
  o.weight_decay = static_cast<float>(f.number("weight-decay"));
  o.clip = static_cast<float>(f.number("clip"));
  o.time_limit_s = 60 * f.number("time-limit");
  return o;
}

// "1,2,3" -> {1, 2, 3}; "" -> {0, ..., all - 1}.
std::vector<int64_t> parse_list(const std::string& s, int64_t all) {
  std::vector<int64_t> out;
  if (s.empty()) {
    out.resize(all);
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    TA_CHECK(!item.empty() && *end == '\0', "expected a comma-separated list of whole numbers, got '", s, "'");
    out.push_back(v);
  }
  return out;
}

void write_curve(const std::string& out) {
  auto csv = read_csv(out + "/log.csv");
  viz::Series train{"train", {}, {}}, test{"test", {}, {}};
  for (size_t i = 0; i < csv["step"].size(); ++i) {
    const double step = std::stod(csv["step"][i]);
    if (!csv["train_bpd"][i].empty()) train.x.push_back(step), train.y.push_back(std::stod(csv["train_bpd"][i]));
    if (!csv["test_bpd"][i].empty()) test.x.push_back(step), test.y.push_back(std::stod(csv["test_bpd"][i]));
  }
  viz::PlotOptions o;
  o.title = "CIFAR-10 bits per dim";
  o.x_label = "step";
  o.y_label = "bits/dim";
  viz::write_plot(out + "/curve.png", {train, test}, o);
}

// samples.png, completions.png and (--show-attention) attention.png.
void write_pictures(const Flags& flags, TransformerLM& model, const Dataset& test, const std::string& out) {
  Generator gen(static_cast<uint64_t>(flags.integer("seed")) + 2);
  const float temperature = static_cast<float>(flags.number("temperature"));
  if (flags.integer("sample") > 0) {
    auto images = generate(model, flags.integer("sample"), {}, 0, temperature, gen);
    viz::write_png(out + "/samples.png", grid(images, 8, 3));
    std::printf("wrote %s/samples.png (%zu samples)\n", out.c_str(), images.size());
  }
  if (const int64_t n = std::min(flags.integer("complete"), test.size()); n > 0) {
    const int64_t half = kTokens / 2;
    std::vector<uint8_t> prefixes;
    for (int64_t i = 0; i < n; ++i) prefixes.insert(prefixes.end(), test.image(i), test.image(i) + half);
    auto pairs = generate(model, n, prefixes, half, temperature, gen);  // completions above originals
    for (int64_t i = 0; i < n; ++i) pairs.emplace_back(test.image(i), test.image(i) + kTokens);
    viz::write_png(out + "/completions.png", grid(pairs, static_cast<int>(n), 3));
    std::printf("wrote %s/completions.png (top row: model completions of the bottom half; bottom row: originals)\n",
                out.c_str());
  }
  if (flags.boolean("show-attention")) {
    viz::write_png(out + "/attention.png",
                   attention_map(model, test.image(0), parse_list(flags.str("attention-layers"), flags.integer("layers")),
                                 parse_list(flags.str("attention-heads"), flags.integer("heads")),
                                 parse_list(flags.str("attention-queries"), 0), 3));
    std::printf("wrote %s/attention.png (per row: a query position; columns: layer/head; red = attention weight)\n",
                out.c_str());
  }
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

int run(int argc, char** argv) {
  Flags flags("cifar_gen", "autoregressive CIFAR-10 pixel model, scored in bits per dim");
  declare_flags(flags);
  if (!flags.parse(argc, argv)) return 0;
  if (flags.integer("threads") > 0) {
    omp_set_num_threads(static_cast<int>(flags.integer("threads")));
    openblas_set_num_threads(static_cast<int>(flags.integer("threads")));
  }
  const std::string out = flags.str("out"), ckpt = out + "/checkpoint.safetensors";
  const bool resume = flags.boolean("resume");
  Metadata saved;
  if (resume) {  // the architecture comes from the checkpoint, so the model matches it
    TA_CHECK(file_exists(ckpt), "--resume: no checkpoint at '", ckpt, "' (is --out the folder of the run?)");
    saved = read_safetensors_metadata(ckpt);
    flags.adopt(saved, {std::begin(kModelFlags), std::end(kModelFlags)}, "the checkpoint");
    flags.adopt(saved, attention_option_flags(flags.str("attention")), "the checkpoint");
    std::vector<std::string> not_given;
    for (const char* name : kRunFlags)
      if (!flags.given(name)) not_given.push_back(name);
    flags.adopt(saved, not_given, "the checkpoint");
  }

  const ModelOptions model_opts = model_options(flags);  // bad values fail here, before the data loads
  const TrainOptions train_opts = train_options(flags);
  check_causal(model_opts.attention);
  Dataset train = load_split(flags.str("data"), true), test = load_split(flags.str("data"), false);
  if (!flags.str("extra-train").empty()) {
    train.append(load_file(flags.str("extra-train")));
    std::printf("note: extra training images from %s are added; if they are JPEG-decoded they are LOSSY\n",
                flags.str("extra-train").c_str());
  }
  std::printf("CIFAR-10: %lld training images, %lld test images (%s)\n", static_cast<long long>(train.size()),
              static_cast<long long>(test.size()), flags.str("data").c_str());

  Trainer trainer(model_opts, train_opts);
  make_dirs(out);
  install_interrupt_handler();
  double elapsed_before = 0;  // training time of the earlier sessions of a resumed run
  if (resume) {
    trainer.load(ckpt);
    if (saved.count("elapsed_s")) elapsed_before = std::stod(saved.at("elapsed_s"));
    std::printf("resumed from %s at step %lld (%s of training so far)\n", ckpt.c_str(),
                static_cast<long long>(trainer.steps_done()), format_duration(elapsed_before).c_str());
  }
  TransformerLM& model = *trainer.model;
  std::printf("model: %s attention, %lld layers, d_model %lld, %lld parameters\n", flags.str("attention").c_str(),
              static_cast<long long>(flags.integer("layers")), static_cast<long long>(flags.integer("d-model")),
              static_cast<long long>(model.parameter_count()));

  const int64_t steps = trainer.options.steps, batch = trainer.options.batch, first_step = trainer.steps_done();
  CsvLog log(out + "/log.csv", {"step", "lr", "train_loss", "train_bpd", "test_bpd", "tokens_per_s", "elapsed_s"},
             resume);
  Progress progress(steps, first_step);
  if (trainer.options.time_limit_s > 0) progress.set_time_limit(trainer.options.time_limit_s - elapsed_before);
  auto elapsed = [&] { return elapsed_before + progress.elapsed_seconds(); };
  Metadata meta;
  for (const char* name : kModelFlags) meta[std::string("flag.") + name] = flags.str(name);
  for (const std::string& name : attention_option_flags(flags.str("attention"))) meta["flag." + name] = flags.str(name);
  for (const char* name : kRunFlags) meta[std::string("flag.") + name] = flags.str(name);
  auto save = [&] {
    meta["elapsed_s"] = fmt(elapsed());
    trainer.save(ckpt, meta);
  };
  std::deque<double> recent_bpd;  // training bits/dim of the last 20 steps

  while (!trainer.finished(elapsed())) {
    const float lr = trainer.lr(elapsed());
    const double loss = trainer.step(train, lr), bpd = bits_per_dim(loss);
    const int64_t step = trainer.steps_done();
    TA_CHECK(std::isfinite(loss), "training diverged at step ", step, " (loss ", loss, "); try a lower --lr");
    recent_bpd.push_back(bpd);
    if (recent_bpd.size() > 20) recent_bpd.pop_front();
    char metrics[96];
    std::snprintf(metrics, sizeof metrics, "loss %.3f bpd %.3f", loss, bpd);
    progress.update(step, metrics, batch * kTokens);

    std::string test_bpd;
    if (step % flags.integer("eval-every") == 0 && !trainer.finished(elapsed())) {
      test_bpd = fmt(evaluate_bpd(model, test, flags.integer("eval-images"), batch));
      progress.finish_line();
      std::printf("step %lld: test bits/dim %s (first %lld test images)\n", static_cast<long long>(step),
                  test_bpd.c_str(), static_cast<long long>(flags.integer("eval-images")));
      std::fflush(stdout);
    }
    log.row({std::to_string(step), fmt(lr), fmt(loss), fmt(bpd), test_bpd,
             fmt(batch * kTokens * (step - first_step) / progress.elapsed_seconds()), fmt(elapsed())});
    if (step % flags.integer("checkpoint-every") == 0 || interrupted()) save();
    if (interrupted()) {
      progress.finish_line();
      std::printf("interrupted: checkpoint saved at step %lld in %s; continue with --resume --out %s\n",
                  static_cast<long long>(step), ckpt.c_str(), out.c_str());
      return 130;
    }
  }
  progress.finish_line();
  const double wall = elapsed();
  save();
  if (trainer.steps_done() < steps)
    std::printf("time limit of %s reached after %lld of %lld steps\n",
                format_duration(trainer.options.time_limit_s).c_str(), static_cast<long long>(trainer.steps_done()),
                static_cast<long long>(steps));

  const int64_t final_images = std::min(flags.integer("final-eval-images"), test.size());
  std::printf("evaluating on %lld test images...\n", static_cast<long long>(final_images));
  const auto eval_start = std::chrono::steady_clock::now();
  const double test_bpd = evaluate_bpd(model, test, final_images, batch);
  const double eval_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
  log.row({std::to_string(trainer.steps_done()), "", "", "", fmt(test_bpd), "", fmt(wall)});
  std::printf("test bits/dim: %.4f on %lld test images (uniform model: 8.0), %s to evaluate\n", test_bpd,
              static_cast<long long>(final_images), format_duration(eval_s).c_str());
  write_curve(out);

  JsonSummary summary;
  summary.set("attention", flags.str("attention"));
  summary.set("steps", static_cast<double>(trainer.steps_done()));
  summary.set("wall_s", wall);
  summary.set("train_bpd", std::accumulate(recent_bpd.begin(), recent_bpd.end(), 0.0) / recent_bpd.size());
  summary.set("test_bpd", test_bpd);
  summary.set("test_images", static_cast<double>(final_images));
  summary.set("eval_s", eval_s);
  summary.set("params", static_cast<double>(model.parameter_count()));
  summary.set("layers", static_cast<double>(flags.integer("layers")));
  summary.set("d_model", static_cast<double>(flags.integer("d-model")));
  summary.set("batch", static_cast<double>(batch));
  summary.set("lr", trainer.options.lr);
  summary.write(out + "/summary.json");

  write_pictures(flags, model, test, out);
  std::printf("done: test bits/dim %.4f after %lld steps in %s; outputs in %s/\n", test_bpd,
              static_cast<long long>(trainer.steps_done()), format_duration(wall).c_str(), out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\ncifar_gen: error: %s\n", e.what());
    return 1;
  }
}
