// Workload "layer": one Transformer layer pair against the FLASH layers that replace
// it, forward + backward, for the FLASH issue's target ("at n = 8192, FLASH at least
// 3x faster than our fused softmax Transformer layer pair of the same width").
//
//   build/bench layer [--variant NAME[,NAME...]] [--n N[,N...]] [--threads T] [--device D] [--csv FILE]
//
// The units compared, at the spec's width (d_model 256), batch 1, causal:
//   multi-head variants (softmax, ...): one pre-LayerNorm TransformerBlock, attention
//     (4 heads x 64, fused QKV and output projections) and feed-forward
//     (256 -> 1024 -> 256, exact GELU) with their residual adds — the "layer pair";
//   GAU variants (flash, flash-quad): two GAU blocks (pre-LayerNorm, no feed-forward),
//     since the FLASH paper replaces each attention + FFN pair by two GAUs of about
//     the same parameters and FLOPs (here 2 x 430,592 against 788,736 parameters).
// One iteration: gradients cleared, y = unit(x) for x [1, n, 256] ~ N(0, 1),
// backward(y, dy) with a fixed dy; one warm-up iteration, then attention.py's number
// of timed ones (timing.h); median and min. Each GAU row also reports its speed-up
// over the first multi-head variant given (`vs_<name>`, ratio of median times).
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "attention/gau.h"
#include "attention/registry.h"
#include "examples/bench/bench.h"
#include "examples/bench/spec_model.h"
#include "examples/bench/timing.h"
#include "tinyattn.h"

namespace {

// The unit of comparison for variant `name`: its blocks and whether it is a GAU.
struct Unit {
  std::vector<std::shared_ptr<ta::TransformerBlock>> blocks;
  bool gau = false;
  int64_t params = 0;
};

Unit make_unit(const std::string& name, ta::Generator& gen) {
  const ta::AttentionConfig a = bench::spec_attention_config(name);
  Unit u;
  u.gau = std::dynamic_pointer_cast<ta::GatedAttentionUnit>(ta::make_attention(a, gen)) != nullptr;
  ta::TransformerConfig c{.d_model = bench::kSpecModel, .d_ff = bench::kSpecFfn, .causal = true,
                          .norm = ta::NormKind::LayerNorm, .activation = ta::Activation::Gelu,
                          .feed_forward = !u.gau};
  for (int i = 0; i < (u.gau ? 2 : 1); ++i) {
    ta::AttentionConfig al = a;
    al.layer = i;
    u.blocks.push_back(std::make_shared<ta::TransformerBlock>(c, ta::make_attention(al, gen), gen));
    u.params += u.blocks.back()->parameter_count();
  }
  return u;
}

void run_layer(const bench::Options& opt, bench::Report& report) {
  report.set_layout(bench::Report::Layout::ByVariantAndN);
  const std::vector<std::string> names = bench::split_commas(opt.value("variant", "softmax,flash"));
  const std::vector<int64_t> ns = bench::split_sizes(opt.value("n", "8192"), "--n");
  bench::check_causal_variants(names, "--variant");

  for (const int64_t n : ns) {
    const std::string label = std::to_string(n);
    if (!opt.selected(label)) continue;
    report.describe(label, "batch 1 x seq " + label + ", d_model 256");
    std::string baseline;   // the first multi-head variant
    double baseline_ms = 0;
    for (const std::string& name : names) {
      ta::Generator gen(1);
      Unit u = make_unit(name, gen);
      for (auto& b : u.blocks) b->to(opt.device);
      ta::Generator data_gen(2);
      ta::Tensor x =
          ta::Tensor::normal(ta::Shape{1, n, bench::kSpecModel}, 0.0f, 1.0f, data_gen, opt.device).set_requires_grad();
      const ta::Tensor dy = ta::Tensor::normal(ta::Shape{1, n, bench::kSpecModel}, 0.0f, 1.0f, data_gen, opt.device);
      auto iteration = [&] {
        for (auto& b : u.blocks) b->zero_grad();
        x.zero_grad();
        const double t0 = bench::now_s();
        ta::Tensor y = x;
        for (auto& b : u.blocks) y = b->forward(y);
        bench::synchronize(opt.device);
        const double t1 = bench::now_s();
        ta::backward(y, dy);
        bench::synchronize(opt.device);
        return std::pair<double, double>{t1 - t0, bench::now_s() - t0};
      };
      const double t_w = iteration().second;
      std::vector<double> fwd, total;
      for (int r = bench::timed_repetitions(t_w); r > 0; --r) {
        const auto [f, t] = iteration();
        fwd.push_back(f);
        total.push_back(t);
      }
      const bench::Summary st = bench::summarize(total), sf = bench::summarize(fwd);
      std::printf("  %-12s n=%-6lld fwd+bwd %9.2f ms (min %9.2f, r %zu)  fwd %8.2f ms  %s\n", name.c_str(),
                  static_cast<long long>(n), 1e3 * st.median, 1e3 * st.min, total.size(), 1e3 * sf.median,
                  u.gau ? "(2 GAU blocks)" : "(attention + FFN block)");
      std::fflush(stdout);
      report.add(name, label, "ms_fwd_bwd", 1e3 * st.median, "ms");
      report.add(name, label, "ms_fwd_bwd_best", 1e3 * st.min, "ms");
      report.add(name, label, "ms_fwd", 1e3 * sf.median, "ms");
      report.add(name, label, "params", static_cast<double>(u.params), "count");
      if (!std::isfinite(ta::sum(x.grad()).item())) report.remark(name, label, "CHECK FAILED: gradient not finite");
      if (!u.gau && baseline.empty()) baseline = name, baseline_ms = 1e3 * st.median;
      if (u.gau && !baseline.empty())
        report.add(name, label, "vs_" + baseline, baseline_ms / (1e3 * st.median), "x");
    }
  }
  report.note("Forward + backward of one Transformer layer pair (pre-LN attention block with FFN 1024) for "
              "multi-head variants, of two GAU blocks (no FFN) for GAU variants; d_model 256, batch 1, causal, "
              "gradients of x and all parameters. 1 warm-up + attention.py's number of timed iterations, median "
              "(min). vs_* = the first multi-head variant's median time / this row's.");
}

const bench::RegisterWorkload reg{{
    "layer",
    "Transformer layer pair (attention + FFN) vs two GAU layers, fwd+bwd ms (the FLASH comparison)",
    run_layer,
    {{"variant", "NAME[,NAME...]", "variants (default softmax,flash): multi-head ones as one attention + FFN block, "
                                   "GAU ones as two GAU blocks"},
     {"n", "N[,N...]", "sequence lengths (default 8192)"}},
}};

}  // namespace
