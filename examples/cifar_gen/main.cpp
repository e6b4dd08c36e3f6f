// examples/cifar_gen — autoregressive CIFAR-10 image model, the task of the Sparse
// Transformer paper: each image is 3072 tokens (raster order, R G B of a pixel
// together), each predicted from the ones before with a 256-way softmax; the
// score is bits per dim, the negative log-likelihood in bits averaged over the 3072
// sub-pixels (a uniform guess scores exactly 8).
//
// `make demo` runs it with its defaults on the bundled data (examples/data/cifar10);
// `--help` lists every flag. Everything a run writes goes under --out.
#include <omp.h>
#include <cblas.h>

#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <numeric>

#include "examples/cifar_gen/cifar_data.h"
#include "examples/cifar_gen/pictures.h"
#include "examples/common/flags.h"
#include "examples/common/progress.h"
#include "examples/common/run_files.h"
#include "tinyattn.h"
#include "viz/plot.h"

using namespace ta;
using namespace ta::examples;

namespace {

constexpr double kLn2 = 0.69314718055994531;

void declare_flags(Flags& f) {
  f.add("data", "examples/data/cifar10", "folder with train.bin/test.bin, or the official data_batch_*.bin and test_batch.bin");
  f.add("extra-train", "", "optional extra training file in the same format (e.g. the LOSSY JPEG-decoded set)");
  f.add("out", "runs/cifar_gen", "folder for everything the run writes");
  f.add("attention", "sparse-strided", "token mixer from the attention registry (causal variants)");
  f.add("sparse-stride", "96", "stride l of sparse patterns: 96 tokens = one image row, so A1 is the row before and A2 the column above");
  f.add("layers", "2", "Transformer blocks");
  f.add("d-model", "64", "model width");
  f.add("heads", "2", "attention heads");
  f.add("d-ff", "0", "feed-forward width (0: 4 x d-model)");
  f.add("dropout", "0", "dropout on residual branches and embeddings");
  f.add("lr", "0.003", "peak learning rate (AdamW)");
  f.add("weight-decay", "0.01", "AdamW decoupled weight decay (not on norms, biases, embeddings)");
  f.add("warmup", "40", "linear warmup steps, then cosine decay to lr/10");
  f.add("batch", "4", "images per step");
  f.add("steps", "300", "training steps");
  f.add("clip", "1.0", "gradient clipping by global norm");
  f.add("seed", "1", "seed of initialization, data order and sampling");
  f.add("eval-every", "100", "steps between evaluations on the first --eval-images test images");
  f.add("eval-images", "64", "test images for the periodic evaluation");
  f.add("final-eval-images", "1000", "test images for the final evaluation (at most the test set)");
  f.add("checkpoint-every", "100", "steps between checkpoints (also saved at the end and on Ctrl-C)");
  f.add_bool("resume", "continue from OUT/checkpoint.safetensors (same architecture flags)");
  f.add("sample", "16", "images to generate at the end (0: none)");
  f.add("complete", "8", "test images whose bottom half the model completes at the end (0: none)");
  f.add("temperature", "1.0", "sampling temperature");
  f.add_bool("show-attention", "draw attention maps of the trained model (attention.png)");
  f.add("attention-layers", "", "layers for --show-attention, comma-separated (default: all)");
  f.add("attention-heads", "", "heads for --show-attention (default: all)");
  f.add("attention-queries", "1552,2500,3070", "token positions whose attention is drawn");
  f.add("threads", "0", "threads (0: OMP_NUM_THREADS or all cores)");
}

std::vector<int64_t> parse_list(const std::string& s, int64_t all) {
  std::vector<int64_t> out;
  if (s.empty()) {
    for (int64_t i = 0; i < all; ++i) out.push_back(i);
    return out;
  }
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    TA_CHECK(!item.empty() && *end == '\0', "expected a comma-separated list of whole numbers, got '", s, "'");
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The architecture flags, stored in the checkpoint so a resumed run rebuilds the same model.
const char* kArchitectureFlags[] = {"attention", "sparse-stride", "layers", "d-model", "heads", "d-ff", "dropout", "seed"};

TransformerConfig model_config(const Flags& f) {
  TransformerConfig c;
  c.vocab_size = cifar::kVocab;
  c.d_model = f.integer("d-model");
  c.n_layers = f.integer("layers");
  c.d_ff = f.integer("d-ff");
  c.max_len = cifar::kTokens;
  c.causal = true;
  c.dropout = static_cast<float>(f.number("dropout"));
  c.seed = static_cast<uint64_t>(f.integer("seed"));
  return c;
}

std::shared_ptr<TransformerLM> build_model(const Flags& f) {
  const TransformerConfig c = model_config(f);
  Generator attention_gen(c.seed + 7);
  AttentionConfig a;
  a.name = f.str("attention");
  a.d_model = c.d_model;
  a.heads = f.integer("heads");
  a.causal = true;
  a.sparse_stride = f.integer("sparse-stride");
  return std::make_shared<TransformerLM>(c, [&](int64_t layer) {
    a.layer = layer;
    return make_attention(a, attention_gen);
  });
}

// Mean negative log-likelihood in bits per sub-pixel over the first `count` images.
double evaluate_bpd(TransformerLM& model, const cifar::Dataset& data, int64_t count, int64_t batch) {
  NoGradGuard no_grad;
  model.eval();
  count = std::min(count, data.size());
  double total = 0.0;
  for (int64_t start = 0; start < count; start += batch) {
    std::vector<int64_t> idx;
    for (int64_t i = start; i < std::min(count, start + batch); ++i) idx.push_back(i);
    Tensor inputs, targets;
    cifar::make_batch(data, idx, inputs, targets);
    total += cross_entropy(model.forward(inputs), targets).item() * static_cast<double>(idx.size());
  }
  model.train();
  return total / count / kLn2;
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

int run(int argc, char** argv) {
  Flags flags("cifar_gen", "autoregressive CIFAR-10 pixel model, scored in bits per dim");
  declare_flags(flags);
  if (!flags.parse(argc, argv)) return 0;
  if (flags.integer("threads") > 0) {
    omp_set_num_threads(static_cast<int>(flags.integer("threads")));
    openblas_set_num_threads(static_cast<int>(flags.integer("threads")));
  }
  const std::string out = flags.str("out"), ckpt = out + "/checkpoint.safetensors";
  make_dirs(out);
  install_interrupt_handler();

  const bool resume = flags.boolean("resume");
  if (resume) {  // the architecture comes from the checkpoint, so the model matches it
    TA_CHECK(file_exists(ckpt), "--resume: no checkpoint at '", ckpt, "'");
    Metadata meta = read_safetensors_metadata(ckpt);
    std::vector<std::string> args = {"cifar_gen"};
    for (const char* name : kArchitectureFlags)
      if (meta.count(std::string("flag.") + name)) {
        if (flags.given(name) && flags.str(name) != meta.at(std::string("flag.") + name))
          std::fprintf(stderr, "note: --%s %s ignored; the checkpoint was trained with %s\n", name,
                       flags.str(name).c_str(), meta.at(std::string("flag.") + name).c_str());
        args.push_back(std::string("--") + name + "=" + meta.at(std::string("flag.") + name));
      }
    std::vector<char*> argv2;
    for (auto& a : args) argv2.push_back(a.data());
    flags.parse(static_cast<int>(argv2.size()), argv2.data());
  }

  cifar::Dataset train = cifar::load_split(flags.str("data"), true), test = cifar::load_split(flags.str("data"), false);
  if (!flags.str("extra-train").empty()) {
    train.append(cifar::load_file(flags.str("extra-train")));
    std::printf("note: extra training images from %s are added; if they are JPEG-decoded they are LOSSY\n",
                flags.str("extra-train").c_str());
  }
  std::printf("CIFAR-10: %lld training images, %lld test images (%s)\n", static_cast<long long>(train.size()),
              static_cast<long long>(test.size()), flags.str("data").c_str());

  auto model = build_model(flags);
  const int64_t steps = flags.integer("steps"), batch = flags.integer("batch");
  TA_CHECK(steps > 0 && batch > 0, "--steps and --batch must be positive");
  const float lr = static_cast<float>(flags.number("lr"));
  AdamW optimizer(weight_decay_groups(*model, static_cast<float>(flags.number("weight-decay"))));
  WarmupCosineSchedule schedule(lr, flags.integer("warmup"), steps, lr / 10);
  Generator data_gen(static_cast<uint64_t>(flags.integer("seed")) + 1);
  const NamedGenerators generators = {{"data", &data_gen}, {"model", &model->gen}};
  Metadata meta;
  for (const char* name : kArchitectureFlags) meta[std::string("flag.") + name] = flags.str(name);
  if (resume) {
    load_training_checkpoint(ckpt, *model, optimizer, generators);
    std::printf("resumed from %s at step %lld\n", ckpt.c_str(), static_cast<long long>(optimizer.step_count()));
  }
  std::printf("model: %s attention, %lld layers, d_model %lld, %lld parameters\n", flags.str("attention").c_str(),
              static_cast<long long>(flags.integer("layers")), static_cast<long long>(flags.integer("d-model")),
              static_cast<long long>(model->parameter_count()));

  CsvLog log(out + "/log.csv", {"step", "lr", "train_loss", "train_bpd", "test_bpd", "tokens_per_s", "elapsed_s"},
             resume);
  Progress progress(steps, optimizer.step_count());
  double recent_bpd = 0.0;
  int64_t recent = 0;
  const int64_t first_step = optimizer.step_count();
  auto save = [&] { save_training_checkpoint(ckpt, *model, optimizer, generators, meta); };

  for (int64_t step = first_step; step < steps; ++step) {
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < batch; ++i)
      idx.push_back(std::min<int64_t>(train.size() - 1, static_cast<int64_t>(data_gen.next_uniform() * train.size())));
    Tensor inputs, targets;
    cifar::make_batch(train, idx, inputs, targets);
    Tensor loss = cross_entropy(model->forward(inputs), targets);
    optimizer.zero_grad();
    backward(loss);
    clip_grad_norm(optimizer.parameters(), static_cast<float>(flags.number("clip")));
    const float step_lr = schedule.lr(optimizer.step_count());
    optimizer.step(step_lr);
    const double loss_value = loss.item(), bpd = loss_value / kLn2;
    TA_CHECK(std::isfinite(loss_value), "training diverged at step ", step + 1, " (loss ", loss_value,
             "); try a lower --lr");
    if (step >= steps - std::max<int64_t>(1, (steps - first_step) / 10)) recent_bpd += bpd, ++recent;
    char metrics[96];
    std::snprintf(metrics, sizeof metrics, "loss %.3f bpd %.3f", loss_value, bpd);
    progress.update(step + 1, metrics, batch * cifar::kTokens);

    std::string test_bpd;
    const bool last = step + 1 == steps;
    if ((step + 1) % flags.integer("eval-every") == 0 && !last) {
      test_bpd = std::to_string(evaluate_bpd(*model, test, flags.integer("eval-images"), batch));
      progress.finish_line();
      std::printf("step %lld: test bits/dim %s (first %lld test images)\n", static_cast<long long>(step + 1),
                  test_bpd.c_str(), static_cast<long long>(flags.integer("eval-images")));
    }
    log.row({std::to_string(step + 1), std::to_string(step_lr), std::to_string(loss_value), std::to_string(bpd),
             test_bpd, std::to_string(batch * cifar::kTokens * (step + 1 - first_step) / progress.elapsed_seconds()),
             std::to_string(progress.elapsed_seconds())});
    if ((step + 1) % flags.integer("checkpoint-every") == 0 || interrupted()) save();
    if (interrupted()) {
      progress.finish_line();
      std::printf("interrupted: checkpoint saved at step %lld in %s; continue with --resume\n",
                  static_cast<long long>(step + 1), ckpt.c_str());
      return 130;
    }
  }
  progress.finish_line();
  const double wall = progress.elapsed_seconds();
  save();

  const int64_t final_images = std::min(flags.integer("final-eval-images"), test.size());
  std::printf("evaluating on %lld test images...\n", static_cast<long long>(final_images));
  const double test_bpd = evaluate_bpd(*model, test, final_images, batch);
  log.row({std::to_string(steps), "", "", "", std::to_string(test_bpd), "", std::to_string(wall)});
  std::printf("test bits/dim: %.4f (uniform model: 8.0)\n", test_bpd);
  write_curve(out);

  JsonSummary summary;
  summary.set("attention", flags.str("attention"));
  summary.set("steps", static_cast<double>(steps));
  summary.set("wall_s", wall);
  summary.set("train_bpd", recent > 0 ? recent_bpd / recent : NAN);
  summary.set("test_bpd", test_bpd);
  summary.set("test_images", static_cast<double>(final_images));
  summary.set("params", static_cast<double>(model->parameter_count()));
  summary.set("layers", static_cast<double>(flags.integer("layers")));
  summary.set("d_model", static_cast<double>(flags.integer("d-model")));
  summary.set("batch", static_cast<double>(batch));
  summary.write(out + "/summary.json");

  Generator sample_gen(static_cast<uint64_t>(flags.integer("seed")) + 2);
  const float temperature = static_cast<float>(flags.number("temperature"));
  if (flags.integer("sample") > 0) {
    auto images = cifar::generate(*model, flags.integer("sample"), {}, 0, temperature, sample_gen);
    viz::write_png(out + "/samples.png", cifar::grid(images, 8, 3));
    std::printf("wrote %s/samples.png (%lld samples)\n", out.c_str(), static_cast<long long>(images.size()));
  }
  if (const int64_t n = std::min(flags.integer("complete"), test.size()); n > 0) {
    std::vector<uint8_t> prefixes;
    const int64_t half = cifar::kTokens / 2;
    for (int64_t i = 0; i < n; ++i) prefixes.insert(prefixes.end(), test.image(i), test.image(i) + half);
    auto completed = cifar::generate(*model, n, prefixes, half, temperature, sample_gen);
    std::vector<std::vector<uint8_t>> pairs;  // completion above original, column by column
    for (int64_t i = 0; i < n; ++i) pairs.push_back(completed[i]);
    for (int64_t i = 0; i < n; ++i) pairs.emplace_back(test.image(i), test.image(i) + cifar::kTokens);
    viz::write_png(out + "/completions.png", cifar::grid(pairs, static_cast<int>(n), 3));
    std::printf("wrote %s/completions.png (top row: model completions of the bottom half; bottom row: originals)\n",
                out.c_str());
  }
  if (flags.boolean("show-attention")) {
    const int64_t heads = flags.integer("heads");
    viz::write_png(out + "/attention.png",
                   cifar::attention_map(*model, test.image(0),
                                        parse_list(flags.str("attention-layers"), flags.integer("layers")),
                                        parse_list(flags.str("attention-heads"), heads),
                                        parse_list(flags.str("attention-queries"), 0), 3));
    std::printf("wrote %s/attention.png (per row: a query position; columns: layer/head; red = attention weight)\n",
                out.c_str());
  }
  std::printf("done: test bits/dim %.4f after %lld steps in %s; outputs in %s/\n", test_bpd,
              static_cast<long long>(steps), format_duration(wall).c_str(), out.c_str());
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
