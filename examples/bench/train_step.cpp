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
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
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

constexpr int64_t kHeads = bench::kSpecHeads, kHeadDim = 64;
constexpr int64_t kBatch = bench::kSpecBatch, kSeq = bench::kSpecSeq, kBlocks = bench::kSpecBlocks,
                  kGauLayers = bench::kSpecGauLayers;
constexpr int64_t kFeatures = 256, kChunk = 256, kGauS = 128, kGauE = 512;
constexpr float kLr = 3e-4f, kWeightDecay = 0.01f;

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

// Parameter counts: all, and the matrices that take part in matmuls (Linear
// weights: 2-D parameters other than embeddings and GAU scale-offsets).
struct ParamCounts {
  int64_t all = 0, matmul = 0;
};

ParamCounts count_parameters(const ta::Module& model) {
  ParamCounts n;
  for (const auto& [pname, t] : model.named_parameters()) {
    n.all += t.numel();
    const bool embedding = pname.find("tokens") != std::string::npos || pname.find("positions") != std::string::npos;
    const bool scale_offset = pname.find("gamma") != std::string::npos || pname.find("beta") != std::string::npos;
    if (t.ndim() == 2 && !embedding && !scale_offset) n.matmul += t.numel();
  }
  return n;
}

// One step's parts, in seconds, and its loss.
struct StepTimes {
  double total, fwd, bwd, opt, loss;
};

// What the steps of one model measured: the timed steps' parts, every step's loss,
// the CPU seconds per timed step and the steal share during them.
struct Measured {
  std::vector<double> total, fwd, bwd, opt, losses;
  int warmup = 3, timed = 10;
  bool reduced = false;  // a warm-up step took > 8 s: 1 warm-up + 3 timed steps
  double cpu_user_s = 0, cpu_sys_s = 0, steal = 0;
};

// Warm-up steps, then the timed ones (train_step.py's protocol), each printed.
Measured time_steps(const std::function<StepTimes()>& step) {
  Measured m;
  for (int w = 0; w < m.warmup; ++w) {
    const StepTimes t = step();
    m.losses.push_back(t.loss);
    std::printf("    warm-up step %d: %.3f s (loss %.4f)\n", w + 1, t.total, t.loss);
    std::fflush(stdout);
    if (t.total > 8.0 && !m.reduced) m.reduced = true, m.warmup = 1, m.timed = 3;
  }
  const bench::CpuSeconds cpu0 = bench::cpu_seconds();
  const double steal0 = bench::steal_seconds(), w0 = bench::now_s();
  for (int s = 0; s < m.timed; ++s) {
    const StepTimes t = step();
    m.total.push_back(t.total), m.fwd.push_back(t.fwd), m.bwd.push_back(t.bwd), m.opt.push_back(t.opt);
    m.losses.push_back(t.loss);
    std::printf("    step %2d: %.3f s (fwd %.3f, bwd %.3f, opt %.4f), loss %.4f\n", s + 1, t.total, t.fwd, t.bwd, t.opt,
                t.loss);
    std::fflush(stdout);
  }
  const bench::CpuSeconds cpu1 = bench::cpu_seconds();
  const double wall = bench::now_s() - w0;
  m.steal = (bench::steal_seconds() - steal0) / (wall * sysconf(_SC_NPROCESSORS_ONLN));
  m.cpu_user_s = (cpu1.user - cpu0.user) / m.timed;
  m.cpu_sys_s = (cpu1.sys - cpu0.sys) / m.timed;
  return m;
}

void report_model(const std::string& name, const std::string& label, const ParamCounts& params, const Measured& m,
                  bench::Report& report) {
  const double tokens = static_cast<double>(kBatch * kSeq);
  const bench::Summary st = bench::summarize(m.total), sf = bench::summarize(m.fwd), sb = bench::summarize(m.bwd),
                       so = bench::summarize(m.opt);
  report.add(name, label, "tokens_per_s", tokens / st.median, "tokens/s");
  report.add(name, label, "tokens_per_s_best", tokens / st.min, "tokens/s");
  report.add(name, label, "step_s", st.median, "s");
  report.add(name, label, "step_s_best", st.min, "s");
  report.add(name, label, "fwd_s", sf.median, "s");
  report.add(name, label, "bwd_s", sb.median, "s");
  report.add(name, label, "opt_s", so.median, "s");
  const double flop = 6.0 * static_cast<double>(params.matmul) * tokens + attention_flop_per_token(name) * tokens;
  if (attention_flop_per_token(name) > 0) report.add(name, label, "gflops", flop / st.median / 1e9, "GFLOP/s");
  report.add(name, label, "params", static_cast<double>(params.all), "count");
  report.add(name, label, "params_matmul", static_cast<double>(params.matmul), "count");
  report.add(name, label, "steps", m.warmup + m.timed, "count");
  report.add(name, label, "loss_first", m.losses.front(), "nats");
  report.add(name, label, "loss_last", m.losses.back(), "nats");
  report.add(name, label, "cpu_user_s", m.cpu_user_s, "s/step");
  report.add(name, label, "cpu_sys_s", m.cpu_sys_s, "s/step");
  report.add(name, label, "peak_rss_mib", bench::status_bytes("/proc/self/status", "VmHWM:") / 1048576.0, "MiB");
  report.add(name, label, "steal_pct", 100 * m.steal, "%");
  if (m.reduced) report.remark(name, label, "a warm-up step took > 8 s: 1 warm-up + 3 timed steps");
  if (!std::isfinite(m.losses.back())) report.remark(name, label, "CHECK FAILED: loss not finite");
}

void run_model(const std::string& name, ta::Device device, bench::Report& report, const std::string& label) {
  const bool gau = bench::is_gau_variant(name);
  std::shared_ptr<ta::TransformerLM> model = bench::spec_lm(name);
  const ParamCounts params = count_parameters(*model);
  model->to(device);  // before the optimizer, whose state follows the parameters
  ta::AdamOptions ao;
  ao.beta1 = 0.9f;
  ao.beta2 = 0.999f;
  ao.eps = 1e-8f;
  ta::AdamW optimizer(ta::all_parameters(model->named_parameters(), kWeightDecay), ao);
  const auto [x, y] = bench::spec_batch(42, device);  // one fixed batch of 4 x 1025 random tokens

  auto step = [&, x = x, y = y]() {
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
    return StepTimes{t3 - t0, t1 - t0, t2 - t1, t3 - t2, loss.item()};
  };
  std::printf("  %s: %lld parameters (%lld in matmul weights), %lld layers%s\n", name.c_str(),
              static_cast<long long>(params.all), static_cast<long long>(params.matmul),
              static_cast<long long>(model->config.n_layers), gau ? " of GAU, no FFN" : " of attention + FFN");
  std::fflush(stdout);
  report_model(name, label, params, time_steps(step), report);
}

void run_train_step(const bench::Options& opt, bench::Report& report) {
  report.set_layout(bench::Report::Layout::ByVariantAndN);
  const std::vector<std::string> names = bench::split_commas(opt.value("attention", "softmax"));
  bench::check_causal_variants(names, "--attention");  // all known before minutes of measuring
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
