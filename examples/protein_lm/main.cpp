// examples/protein_lm — language models of protein sequences, the Performer
// paper's protein experiment: next-residue prediction with causal attention, or
// BERT-style masked-LM with bidirectional attention, scored by accuracy and
// perplexity on held-out sequences next to the empirical baseline (the unigram
// distribution of the training residues) computed by the same program.
//
// `make protein` runs it with its defaults on the bundled data
// (examples/data/protein); `--help` lists every flag. Everything a run writes goes
// under --out: log.csv, curve.png, checkpoint.safetensors, summary.json, and
// generated.fasta for causal models.
#include <omp.h>
#include <cblas.h>

#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>

#include "examples/common/attention_flags.h"
#include "examples/common/flags.h"
#include "examples/common/language_model.h"
#include "examples/common/progress.h"
#include "examples/common/run_files.h"
#include "examples/protein_lm/data.h"
#include "examples/protein_lm/fasta.h"
#include "examples/protein_lm/model.h"
#include "tinyattn.h"
#include "viz/plot.h"

using namespace ta;
using namespace ta::examples;
using namespace ta::protein;

namespace {

// FAVOR+, the paper's choice for its protein models.
constexpr const char* kDefaultAttention = "performer";

void declare_flags(Flags& f) {
  f.add("data", "examples/data/protein", "folder with train/valid/test.fasta, or FASTA file(s) to split 90/5/5 by sequence hash");
  f.add("out", "runs/protein_lm", "folder for everything the run writes");
  f.add("objective", "causal", "causal (next residue, causal attention) or masked (BERT masked LM, bidirectional)");
  f.add("layers", "2", "Transformer blocks");
  f.add("d-model", "64", "model width");
  f.add("heads", "2", "attention heads");
  f.add("d-ff", "0", "feed-forward width (0: 4 x d-model)");
  f.add("dropout", "0", "dropout on residual branches and embeddings");
  f.add("max-len", "1024", "tokens the model reads at once; longer sequences are cropped (random crop in training)");
  f.add_bool("pack", "concatenate sequences with <eos> separators into --max-len windows (long-context setting)");
  f.add("batch", "8", "sequences (or windows) per step");
  f.add("steps", "1000", "training steps");
  f.add("lr", "0.001", "peak learning rate (AdamW)");
  f.add("weight-decay", "0.01", "AdamW decoupled weight decay (not on norms, biases, embeddings)");
  f.add("warmup", "50", "linear warmup steps, then cosine decay to lr/10");
  f.add("clip", "1.0", "gradient clipping by global norm (0: none)");
  f.add("seed", "1", "seed of initialization, data order, masking and sampling");
  f.add("device", "cpu", "cpu, or cuda (a build with the CUDA toolkit, on a machine with a GPU)");
  f.add("eval-every", "250", "steps between evaluations on the first --eval-seqs validation sequences");
  f.add("eval-seqs", "200", "validation sequences for the periodic evaluation");
  f.add("final-eval-seqs", "0", "sequences of valid and test for the final evaluation (0: all)");
  f.add("eval-batch", "16", "sequences per evaluation batch");
  f.add("checkpoint-every", "250", "steps between checkpoints (also saved at the end and on Ctrl-C)");
  f.add_bool("resume", "continue from OUT/checkpoint.safetensors (the architecture comes from the checkpoint)");
  f.add("init-from", "", "start from the weights of this checkpoint (e.g. softmax-trained) in a model with --attention; "
        "reports the loss before and after fine-tuning for --steps");
  f.add("generate", "8", "sequences to sample at the end from a causal model (0: none), written to OUT/generated.fasta");
  f.add("prompt", "M", "residues every generated sequence starts with");
  f.add("temperature", "1.0", "sampling temperature");
  f.add("top-k", "0", "sample among the k most likely tokens (0: all)");
  f.add("gen-length", "300", "maximum residues per generated sequence");
  f.add("threads", "0", "threads (0: OMP_NUM_THREADS or all cores)");
  add_attention_flags(f, kDefaultAttention, "the token mixer (with the mode the objective needs)");
}

// Flags that fix the model and the data layout, stored in checkpoints with the
// attention's own options (attention_option_flags): --resume rebuilds the same model,
// --init-from the same shape (with its own attention).
const char* kArchitectureFlags[] = {"objective", "attention", "layers", "d-model", "heads", "d-ff",
                                    "dropout",   "max-len",   "pack",   "seed"};

ModelOptions model_options(const Flags& f) {
  ModelOptions o{language_model_flags(f)};
  o.objective = parse_objective(f.str("objective"));
  o.max_len = f.integer("max-len");
  return o;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.5g", v);
  return buf;
}

void write_curve(const std::string& out, double unigram_ppl) {
  auto csv = read_csv(out + "/log.csv");
  viz::Series train{"train", {}, {}}, valid{"valid", {}, {}}, uni{"unigram baseline (valid)", {}, {}};
  for (size_t i = 0; i < csv["step"].size(); ++i) {
    const double step = std::stod(csv["step"][i]);
    if (!csv["train_ppl"][i].empty()) train.x.push_back(step), train.y.push_back(std::stod(csv["train_ppl"][i]));
    if (!csv["valid_ppl"][i].empty()) valid.x.push_back(step), valid.y.push_back(std::stod(csv["valid_ppl"][i]));
  }
  if (!train.x.empty()) uni.x = {train.x.front(), train.x.back()}, uni.y = {unigram_ppl, unigram_ppl};
  viz::PlotOptions o;
  o.title = "protein LM perplexity";
  o.x_label = "step";
  o.y_label = "perplexity";
  viz::write_plot(out + "/curve.png", {train, valid, uni}, o);
}

int run(int argc, char** argv) {
  Flags flags("protein_lm", "protein sequence language model (causal or masked), scored against the unigram baseline");
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
  const std::string init_from = resume ? "" : flags.str("init-from");
  Metadata resumed_meta;
  if (resume) {  // the architecture comes from the checkpoint, so the model matches it
    TA_CHECK(file_exists(ckpt), "--resume: no checkpoint at '", ckpt, "'");
    resumed_meta = read_safetensors_metadata(ckpt);
    flags.adopt(resumed_meta, {std::begin(kArchitectureFlags), std::end(kArchitectureFlags)}, "the checkpoint");
    flags.adopt(resumed_meta, attention_option_flags(flags.str("attention")), "the checkpoint");
    if (!flags.str("init-from").empty())
      std::fprintf(stderr, "note: --init-from ignored when resuming; the checkpoint holds the weights\n");
  }
  Metadata source_meta;
  if (!init_from.empty()) {  // the same shape and objective; the attention is ours
    TA_CHECK(file_exists(init_from), "--init-from: no checkpoint at '", init_from, "'");
    source_meta = read_safetensors_metadata(init_from);
    flags.adopt(source_meta, {"objective", "layers", "d-model", "heads", "d-ff", "max-len", "pack"},
                "--init-from " + init_from);
  }

  const ModelOptions mo = model_options(flags);
  check_attention_fits(mo.attention, mo.objective);  // before loading data: fail fast
  const bool pack = flags.boolean("pack"), causal = mo.objective == Objective::Causal;
  Splits data = load_splits(flags.str("data"));
  std::printf("protein data: %s\n  train %lld sequences (%lld residues), valid %lld (%lld), test %lld (%lld)\n",
              data.description.c_str(), static_cast<long long>(data.train.size()),
              static_cast<long long>(data.train.residues()), static_cast<long long>(data.valid.size()),
              static_cast<long long>(data.valid.residues()), static_cast<long long>(data.test.size()),
              static_cast<long long>(data.test.residues()));
  const Unigram unigram = unigram_of(data.train);

  auto model = build_model(mo);
  const int64_t steps = flags.integer("steps"), batch = flags.integer("batch");
  TA_CHECK(steps > 0 && batch > 0, "--steps and --batch must be positive");
  const float lr = static_cast<float>(flags.number("lr")), clip = static_cast<float>(flags.number("clip"));
  AdamW optimizer(weight_decay_groups(*model, static_cast<float>(flags.number("weight-decay"))));
  WarmupCosineSchedule schedule(lr, std::min(flags.integer("warmup"), steps - 1), steps, lr / 10);  // short runs: shorter warmup
  Generator data_gen(static_cast<uint64_t>(flags.integer("seed")) + 1);
  const NamedGenerators generators = {{"data", &data_gen}, {"model", &model->gen}};
  Metadata meta;
  for (const char* name : kArchitectureFlags) meta[std::string("flag.") + name] = flags.str(name);
  for (const std::string& name : attention_option_flags(mo.attention)) meta["flag." + name] = flags.str(name);

  const int64_t eval_batch = flags.integer("eval-batch"), max_len = mo.max_len;
  const std::vector<Batch> periodic_eval =
      eval_batches(data.valid, mo.objective, max_len, pack, eval_batch, flags.integer("eval-seqs"));

  // --init-from: the source model as trained, then its parameters in our model.
  double source_loss = NAN, before_loss = NAN;
  std::string source_attention;
  if (resume) {
    load_training_checkpoint(ckpt, *model, optimizer, generators);
    for (const char* key : {"init.from", "init.source_attention", "init.source_loss", "init.before_loss"})
      if (resumed_meta.count(key)) meta[key] = resumed_meta.at(key);
    if (meta.count("init.source_loss")) source_loss = std::stod(meta["init.source_loss"]);
    if (meta.count("init.before_loss")) before_loss = std::stod(meta["init.before_loss"]);
    if (meta.count("init.source_attention")) source_attention = meta["init.source_attention"];
    std::printf("resumed from %s at step %lld\n", ckpt.c_str(), static_cast<long long>(optimizer.step_count()));
  } else if (!init_from.empty()) {
    const SafetensorsContents file = read_safetensors(init_from);
    std::string prefix;
    for (const auto& [name, t] : file.tensors)
      if (name.rfind("model.", 0) == 0) prefix = "model.";  // a training checkpoint; else a save_model file
    source_attention = source_meta.count("flag.attention") ? source_meta.at("flag.attention") : "";
    if (!source_attention.empty()) {
      ModelOptions so = mo;
      so.attention = source_attention;
      so.attention_options = saved_attention_options(source_meta, source_attention);
      auto source = build_model(so);
      std::map<std::string, Tensor> state;
      for (const auto& [name, t] : file.tensors)
        if (name.rfind(prefix, 0) == 0) state[name.substr(prefix.size())] = t;
      source->load_state_dict(state);
      source_loss = evaluate(*source, periodic_eval, unigram).loss();
    }
    const std::vector<std::string> unused = load_parameters_by_name(*model, file.tensors, prefix, init_from);
    before_loss = evaluate(*model, periodic_eval, unigram).loss();
    std::printf("init-from %s: %lld parameter tensors loaded by name into a '%s' model; its own %zu buffers kept",
                init_from.c_str(), static_cast<long long>(model->named_parameters().size()), mo.attention.c_str(),
                model->named_buffers().size());
    if (!unused.empty()) std::printf("; %zu tensors of the file unused (e.g. %s)", unused.size(), unused[0].c_str());
    std::printf("\n  valid loss of the source model (%s): %s nats (perplexity %s)\n",
                source_attention.empty() ? "attention unknown" : source_attention.c_str(), fmt(source_loss).c_str(),
                fmt(std::exp(source_loss)).c_str());
    std::printf("  valid loss with %s attention, before fine-tuning: %s nats (perplexity %s)\n", mo.attention.c_str(),
                fmt(before_loss).c_str(), fmt(std::exp(before_loss)).c_str());
    meta["init.from"] = init_from;
    meta["init.source_attention"] = source_attention;
    meta["init.source_loss"] = fmt(source_loss);
    meta["init.before_loss"] = fmt(before_loss);
  }
  std::printf("model: %s objective, %s attention, %lld layers, d_model %lld, %lld heads, max length %lld%s, "
              "%lld parameters\n",
              objective_name(mo.objective), mo.attention.c_str(), static_cast<long long>(mo.layers),
              static_cast<long long>(mo.d_model), static_cast<long long>(mo.heads), static_cast<long long>(max_len),
              pack ? " (packed windows)" : "", static_cast<long long>(model->parameter_count()));

  const Sampler sampler(data.train, mo.objective, max_len, pack, batch);
  CsvLog log(out + "/log.csv",
             {"step", "lr", "train_loss", "train_ppl", "valid_loss", "valid_ppl", "valid_acc", "tokens_per_s",
              "elapsed_s"},
             resume);
  const int64_t first_step = optimizer.step_count();
  if (first_step >= steps)
    std::printf("the checkpoint is at step %lld of %lld: nothing to train, evaluating it\n",
                static_cast<long long>(first_step), static_cast<long long>(steps));
  Progress progress(steps, first_step);
  int64_t tokens_seen = 0;
  auto save = [&] { save_training_checkpoint(ckpt, *model, optimizer, generators, meta); };

  for (int64_t step = first_step; step < steps; ++step) {
    const Batch b = sampler.next(data_gen);
    const float step_lr = schedule.lr(optimizer.step_count());
    const double loss = train_step(*model, optimizer, b, step_lr, clip);
    TA_CHECK(std::isfinite(loss), "training diverged at step ", step + 1, " (loss ", loss, "); try a lower --lr");
    tokens_seen += b.tokens;
    char metrics[96];
    std::snprintf(metrics, sizeof metrics, "loss %.3f ppl %.2f", loss, std::exp(loss));
    progress.update(step + 1, metrics, b.tokens);

    std::string valid_loss, valid_ppl, valid_acc;
    const bool last = step + 1 == steps;
    if ((step + 1) % flags.integer("eval-every") == 0 && !last) {
      const Scores s = evaluate(*model, periodic_eval, unigram);
      valid_loss = fmt(s.loss()), valid_ppl = fmt(s.perplexity()), valid_acc = fmt(s.accuracy());
      progress.finish_line();
      std::printf("step %lld: valid perplexity %.3f, accuracy %.2f%% (unigram baseline %.3f, %.2f%%; first %lld "
                  "sequences)\n",
                  static_cast<long long>(step + 1), s.perplexity(), 100 * s.accuracy(), s.unigram_perplexity(),
                  100 * s.unigram_accuracy(), static_cast<long long>(flags.integer("eval-seqs")));
    }
    log.row({std::to_string(step + 1), fmt(step_lr), fmt(loss), fmt(std::exp(loss)), valid_loss, valid_ppl, valid_acc,
             fmt(tokens_seen / progress.elapsed_seconds()), fmt(progress.elapsed_seconds())});
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
  const double tokens_per_s = tokens_seen / std::max(1e-9, wall);
  save();

  double after_loss = NAN;
  if (!std::isnan(before_loss)) after_loss = evaluate(*model, periodic_eval, unigram).loss();

  const int64_t final_seqs = flags.integer("final-eval-seqs");
  std::printf("evaluating on %s of valid and test...\n",
              final_seqs > 0 ? (std::to_string(final_seqs) + " sequences").c_str() : "all sequences");
  const Scores valid = evaluate(*model, eval_batches(data.valid, mo.objective, max_len, pack, eval_batch, final_seqs),
                                unigram);
  const Scores test = evaluate(*model, eval_batches(data.test, mo.objective, max_len, pack, eval_batch, final_seqs),
                               unigram);
  log.row({std::to_string(steps), "", "", "", fmt(valid.loss()), fmt(valid.perplexity()), fmt(valid.accuracy()), "",
           fmt(wall)});
  write_curve(out, valid.unigram_perplexity());

  std::printf("\n  %-6s %-22s %9s %11s\n", "split", "model", "accuracy", "perplexity");
  for (const auto& [name, s] : {std::pair<const char*, const Scores&>{"valid", valid}, {"test", test}}) {
    std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name, ("tinyattn " + mo.attention).c_str(), 100 * s.accuracy(),
                s.perplexity());
    std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name, "unigram baseline", 100 * s.unigram_accuracy(),
                s.unigram_perplexity());
  }
  if (!causal) {  // the positions whose input is <mask>: no copy of the answer in sight
    for (const auto& [name, s] : {std::pair<const char*, const Scores&>{"valid", valid}, {"test", test}}) {
      std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name, "  <mask> inputs only", 100 * s.mask_accuracy(),
                  s.mask_perplexity());
      std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name, "  unigram, same", 100 * s.mask_unigram_accuracy(),
                  s.mask_unigram_perplexity());
    }
  }
  std::printf("  (%s objective; %.0f %s scored in test; %.0f training tokens/s)\n", objective_name(mo.objective),
              test.count, causal ? "residues" : "chosen residues", tokens_per_s);
  if (!std::isnan(before_loss))
    std::printf("init-from: valid loss (first %lld sequences) source %s %s, %s before fine-tuning %s, after %lld "
                "steps %s (perplexity %s -> %s -> %s)\n",
                static_cast<long long>(flags.integer("eval-seqs")), source_attention.c_str(), fmt(source_loss).c_str(),
                mo.attention.c_str(), fmt(before_loss).c_str(), static_cast<long long>(steps),
                fmt(after_loss).c_str(), fmt(std::exp(source_loss)).c_str(), fmt(std::exp(before_loss)).c_str(),
                fmt(std::exp(after_loss)).c_str());

  JsonSummary summary;
  summary.set("attention", mo.attention);
  summary.set("objective", objective_name(mo.objective));
  summary.set("pack", pack ? "true" : "false");
  summary.set("steps", static_cast<double>(steps));
  summary.set("wall_s", wall);
  summary.set("tokens_per_s", tokens_per_s);
  summary.set("test_acc", test.accuracy());
  summary.set("test_ppl", test.perplexity());
  summary.set("unigram_acc", test.unigram_accuracy());
  summary.set("unigram_ppl", test.unigram_perplexity());
  summary.set("valid_acc", valid.accuracy());
  summary.set("valid_ppl", valid.perplexity());
  summary.set("valid_unigram_acc", valid.unigram_accuracy());
  summary.set("valid_unigram_ppl", valid.unigram_perplexity());
  summary.set("test_scored", test.count);
  if (!causal) {
    summary.set("test_mask_only_acc", test.mask_accuracy());
    summary.set("test_mask_only_ppl", test.mask_perplexity());
    summary.set("unigram_mask_only_acc", test.mask_unigram_accuracy());
    summary.set("unigram_mask_only_ppl", test.mask_unigram_perplexity());
  }
  summary.set("params", static_cast<double>(model->parameter_count()));
  summary.set("layers", static_cast<double>(mo.layers));
  summary.set("d_model", static_cast<double>(mo.d_model));
  summary.set("heads", static_cast<double>(mo.heads));
  summary.set("max_len", static_cast<double>(max_len));
  summary.set("batch", static_cast<double>(batch));
  if (!std::isnan(before_loss)) {
    summary.set("init_from", meta["init.from"]);
    summary.set("init_source_attention", source_attention);
    summary.set("init_source_valid_loss", source_loss);
    summary.set("init_before_valid_loss", before_loss);
    summary.set("init_after_valid_loss", after_loss);
  }
  summary.write(out + "/summary.json");

  if (causal && flags.integer("generate") > 0) {
    Generator sample_gen(static_cast<uint64_t>(flags.integer("seed")) + 2);
    SamplingOptions so;
    so.temperature = static_cast<float>(flags.number("temperature"));
    so.top_k = flags.integer("top-k");
    so.max_length = flags.integer("gen-length");
    const std::vector<std::string> seqs = generate(*model, flags.str("prompt"), flags.integer("generate"), so, sample_gen);
    std::vector<FastaRecord> records;
    for (size_t i = 0; i < seqs.size(); ++i) {
      if (seqs[i].empty()) continue;  // <eos> at once after an empty prompt
      FastaRecord r;
      r.id = "generated_" + std::to_string(i + 1);
      r.description = cat("len=", seqs[i].size(), " model=", mo.attention, " steps=", steps,
                          " temperature=", so.temperature, " top_k=", so.top_k, " prompt=", flags.str("prompt"));
      r.sequence = seqs[i];
      records.push_back(std::move(r));
    }
    if (!records.empty()) {
      write_fasta(out + "/generated.fasta", records);
      std::printf("wrote %s/generated.fasta (%zu sequences; the first starts %s...)\n", out.c_str(), records.size(),
                  records[0].sequence.substr(0, 40).c_str());
    }
  }
  std::printf("done: test perplexity %.3f (unigram %.3f), accuracy %.2f%% (unigram %.2f%%) after %lld steps in %s; "
              "outputs in %s/\n",
              test.perplexity(), test.unigram_perplexity(), 100 * test.accuracy(), 100 * test.unigram_accuracy(),
              static_cast<long long>(steps), format_duration(wall).c_str(), out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nprotein_lm: error: %s\n", e.what());
    return 1;
  }
}
