// Workload "train-step": one training step of the spec's small decoder LM
// (../shared/bench/README.md, "Spec: training step"; train_step.py is the
// PyTorch side), with the attention variant chosen by name.
//
//   build/bench train-step --attention NAME[,NAME...] [--threads T] [--csv FILE]
//
// Model: vocab 256, d_model 256, batch 4, sequence 1024 (4096 tokens per step),
// token embedding + learned positions (added), pre-LayerNorm blocks, final
// LayerNorm, untied LM head without bias (layers/transformer.h: TransformerLM).
//   Multi-head variants (softmax, performer, sparse-*, ...): 4 blocks of
//   x + Attn(LN1(x)), x + W2 GELU(W1 LN2(x)) (FFN 1024, biases, exact GELU); the
//   mixer of each block from make_attention({name, d_model 256, heads 4, causal}).
//   GAU variants (flash, flash-quad): 8 GAU layers without feed-forward
//   (TransformerConfig::feed_forward = false), built with flash-scaling length and
//   no relative bias: the spec's FLASH model (learned positions, chunk 256).
// Loss: mean cross-entropy over the 4096 next-token targets of one fixed random
// batch of 4 x 1025 tokens (seed 42), the same every step. Optimizer: AdamW(lr 3e-4,
// betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on all parameters).
//
// Timed (train_step.py): one step = zero_grad, forward, loss, backward,
// optimizer step, with the forward (+ loss), backward and optimizer parts timed
// too; 3 warm-up steps then 10 timed steps (1 + 3 if a warm-up step takes > 8 s);
// median and min. tokens/s = 4096 / step time.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "attention/gau.h"
#include "attention/registry.h"
#include "examples/bench/bench.h"
#include "examples/bench/spec_model.h"
#include "examples/bench/timing.h"
#include "tinyattn.h"

namespace {

constexpr int64_t kVocab = 256, kModel = bench::kSpecModel, kHeads = bench::kSpecHeads, kHeadDim = 64, kFfn = bench::kSpecFfn;
constexpr int64_t kBatch = 4, kSeq = 1024, kBlocks = 4, kGauLayers = 8;
constexpr int64_t kFeatures = 256, kChunk = 256, kGauS = 128, kGauE = 512;
constexpr float kLr = 3e-4f, kWeightDecay = 0.01f;

double vm_hwm_bytes() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double v = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmHWM:", 6) == 0) v = std::atof(line + 6) * 1024.0;
  std::fclose(f);
  return v;
}

// Attention FLOP per token, fwd + bwd, all layers, by the spec's model for the
// PyTorch model this variant is compared with (0: no such model).
double attention_flop_per_token(const std::string& name) {
  if (name == "softmax" || name == "softmax-reference")  // full n x n, as the spec counts it
    return 12.0 * kBlocks * kHeads * kHeadDim * kSeq;
  if (name == "performer" || name == "performer-relu")  // the chunked formulation (performer_chunked)
    return 3.0 * kBlocks * kHeads * (8.0 * kFeatures * kHeadDim + 2.0 * kChunk * kFeatures + 2.0 * kChunk * kHeadDim);
  if (name == "flash") return 3.0 * kGauLayers * (2.0 * kChunk * (kGauS + kGauE) + 4.0 * kGauS * kGauE);
  return 0;
}

struct StepTimes {
  double total, fwd, bwd, opt;
};

void run_model(const std::string& name, ta::Device device, bench::Report& report, const std::string& label) {
  // Multi-head attention or a GAU? Ask the registry for one mixer.
  ta::Generator probe_gen(0);
  const bool gau =
      std::dynamic_pointer_cast<ta::GatedAttentionUnit>(ta::make_attention(bench::spec_attention_config(name), probe_gen)) != nullptr;

  ta::TransformerConfig c;
  c.vocab_size = kVocab;
  c.d_model = kModel;
  c.n_layers = gau ? kGauLayers : kBlocks;
  c.d_ff = kFfn;
  c.max_len = kSeq;
  c.causal = true;
  c.positions = ta::Positions::Learned;
  c.norm = ta::NormKind::LayerNorm;
  c.activation = ta::Activation::Gelu;
  c.feed_forward = !gau;
  c.dropout = 0.0f;
  c.tie_embeddings = false;
  c.seed = 0;
  ta::Generator attention_gen(7);
  const ta::AttentionConfig a = bench::spec_attention_config(name);
  auto model = std::make_shared<ta::TransformerLM>(c, [&](int64_t index) {
    ta::AttentionConfig al = a;
    al.layer = index;
    return ta::make_attention(al, attention_gen);
  });

  // Parameter counts: all, and the matrices that take part in matmuls (Linear
  // weights: 2-D parameters other than embeddings and GAU scale-offsets).
  int64_t params = 0, matmul = 0;
  for (const auto& [pname, t] : model->named_parameters()) {
    params += t.numel();
    const bool embedding = pname.find("tokens") != std::string::npos || pname.find("positions") != std::string::npos;
    const bool scale_offset = pname.find("gamma") != std::string::npos || pname.find("beta") != std::string::npos;
    if (t.ndim() == 2 && !embedding && !scale_offset) matmul += t.numel();
  }

  model->to(device);  // before the optimizer, whose state follows the parameters
  ta::AdamOptions ao;
  ao.beta1 = 0.9f;
  ao.beta2 = 0.999f;
  ao.eps = 1e-8f;
  ta::AdamW optimizer(ta::all_parameters(*model, kWeightDecay), ao);

  // One fixed batch of 4 x 1025 random tokens.
  ta::Generator data_gen(42);
  std::vector<float> in, out;
  for (int64_t b = 0; b < kBatch; ++b) {
    std::vector<float> row;
    for (int64_t t = 0; t <= kSeq; ++t)
      row.push_back(static_cast<float>(std::min<int64_t>(kVocab - 1, static_cast<int64_t>(data_gen.next_uniform() * kVocab))));
    in.insert(in.end(), row.begin(), row.end() - 1);
    out.insert(out.end(), row.begin() + 1, row.end());
  }
  const ta::Tensor x = ta::Tensor::from_vector(in, {kBatch, kSeq}, device),
                   y = ta::Tensor::from_vector(out, {kBatch, kSeq}, device);

  std::vector<double> losses;
  auto step = [&]() {
    const double t0 = bench::now_s();
    optimizer.zero_grad();
    ta::Tensor loss = ta::cross_entropy(model->forward(x), y);
    bench::synchronize(device);
    const double t1 = bench::now_s();
    ta::backward(loss);
    bench::synchronize(device);
    const double t2 = bench::now_s();
    optimizer.step(kLr);
    bench::synchronize(device);
    const double t3 = bench::now_s();
    losses.push_back(loss.item());
    return StepTimes{t3 - t0, t1 - t0, t2 - t1, t3 - t2};
  };

  int warmup = 3, timed = 10;
  bool reduced = false;
  std::printf("  %s: %lld parameters (%lld in matmul weights), %lld layers%s\n", name.c_str(),
              static_cast<long long>(params), static_cast<long long>(matmul), static_cast<long long>(c.n_layers),
              gau ? " of GAU, no FFN" : " of attention + FFN");
  std::fflush(stdout);
  for (int w = 0; w < warmup; ++w) {
    const StepTimes t = step();
    std::printf("    warm-up step %d: %.3f s (loss %.4f)\n", w + 1, t.total, losses.back());
    std::fflush(stdout);
    if (t.total > 8.0 && !reduced) reduced = true, warmup = 1, timed = 3;
  }
  rusage ru0{}, ru1{};
  getrusage(RUSAGE_SELF, &ru0);
  const double steal0 = bench::steal_seconds(), w0 = bench::now_s();
  std::vector<double> total, fwd, bwd, opt;
  for (int s = 0; s < timed; ++s) {
    const StepTimes t = step();
    total.push_back(t.total), fwd.push_back(t.fwd), bwd.push_back(t.bwd), opt.push_back(t.opt);
    std::printf("    step %2d: %.3f s (fwd %.3f, bwd %.3f, opt %.4f), loss %.4f\n", s + 1, t.total, t.fwd, t.bwd, t.opt,
                losses.back());
    std::fflush(stdout);
  }
  getrusage(RUSAGE_SELF, &ru1);
  const double wall = bench::now_s() - w0;
  const double steal = (bench::steal_seconds() - steal0) / (wall * sysconf(_SC_NPROCESSORS_ONLN));
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };

  const double tokens = static_cast<double>(kBatch * kSeq);
  const bench::Summary st = bench::summarize(total), sf = bench::summarize(fwd), sb = bench::summarize(bwd),
                       so = bench::summarize(opt);
  report.add(name, label, "tokens_per_s", tokens / st.median, "tokens/s");
  report.add(name, label, "tokens_per_s_best", tokens / st.min, "tokens/s");
  report.add(name, label, "step_s", st.median, "s");
  report.add(name, label, "step_s_best", st.min, "s");
  report.add(name, label, "fwd_s", sf.median, "s");
  report.add(name, label, "bwd_s", sb.median, "s");
  report.add(name, label, "opt_s", so.median, "s");
  const double flop = 6.0 * static_cast<double>(matmul) * tokens + attention_flop_per_token(name) * tokens;
  if (attention_flop_per_token(name) > 0) report.add(name, label, "gflops", flop / st.median / 1e9, "GFLOP/s");
  report.add(name, label, "params", static_cast<double>(params), "count");
  report.add(name, label, "params_matmul", static_cast<double>(matmul), "count");
  report.add(name, label, "steps", warmup + timed, "count");
  report.add(name, label, "loss_first", losses.front(), "nats");
  report.add(name, label, "loss_last", losses.back(), "nats");
  report.add(name, label, "cpu_user_s", (secs(ru1.ru_utime) - secs(ru0.ru_utime)) / timed, "s/step");
  report.add(name, label, "cpu_sys_s", (secs(ru1.ru_stime) - secs(ru0.ru_stime)) / timed, "s/step");
  report.add(name, label, "peak_rss_mib", vm_hwm_bytes() / 1048576.0, "MiB");
  report.add(name, label, "steal_pct", 100 * steal, "%");
  if (reduced) report.remark(name, label, "a warm-up step took > 8 s: 1 warm-up + 3 timed steps");
  if (!std::isfinite(losses.back())) report.remark(name, label, "CHECK FAILED: loss not finite");
}

void run_train_step(const bench::Options& opt, bench::Report& report) {
  report.set_layout(bench::Report::Layout::ByVariantAndN);
  const std::vector<std::string> names = bench::split_commas(opt.value("attention", "softmax"));
  const auto& registered = ta::attention_variants();
  for (const std::string& name : names) {  // all known before minutes of measuring
    bool ok = false;
    for (const auto& r : registered) ok = ok || (r.name == name && r.supports_causal);
    if (!ok) {
      std::string known;
      for (const auto& r : registered)
        if (r.supports_causal) known += (known.empty() ? "" : ", ") + r.name;
      throw bench::UsageError("--attention: '" + name + "' is not a registered causal variant (" + known + ")");
    }
  }
  const std::string label = "4x1024";
  if (!opt.selected(label)) return;
  report.describe(label, "batch 4 x seq 1024");
  for (const std::string& name : names) run_model(name, opt.device, report, label);
  report.note("Training step (fwd + loss, bwd, AdamW), batch 4 x seq 1024 = 4096 tokens, d_model 256, vocab 256: "
              "multi-head variants 4 blocks (4 heads x 64, FFN 1024), GAU variants 8 layers without FFN. "
              "3 warm-up + 10 timed steps (1 + 3 if a warm-up step takes > 8 s), median (min).");
  report.note("params_matmul = Linear weights; gflops = (6 x params_matmul + the spec's attention FLOP per token) x "
              "4096 / median step (softmax: full n x n; performer: the chunked model, performer_chunked; flash: "
              "chunk 256), so it counts the same work as the PyTorch row it is compared with. cpu_* = CPU seconds "
              "per timed step; peak_rss = VmHWM of the process so far (cumulative over the models of one run).");
}

const bench::RegisterWorkload reg{{
    "train-step",
    "decoder LM training step (fwd, bwd, AdamW), tokens/s, per attention variant",
    run_train_step,
    {{"attention", "NAME[,NAME...]", "attention variants (default softmax); GAU ones (flash) give the 8-layer FLASH model"}},
}};

}  // namespace
