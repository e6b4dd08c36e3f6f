// Workload "linear": the fully connected layer with its activation fused into the GEMM,
// ta::linear(x, W, b, act), against the same layer unfused, the activation op after
// ta::linear(x, W, b), on the training step's projections that carry an activation
// (4096 tokens = batch 4 x sequence 1024, d_model 256):
//
//   ffn_up_gelu   x [4096, 256] -> [4096, 1024], exact GELU: the FFN's up projection
//   ffn_up_relu   the same with ReLU (its backward reads the output, not pre)
//   gau_uv_silu   x [4096, 256] -> [4096, 512], SiLU: the GAU's U (and V) projection
//   gau_z_silu    x [4096, 256] -> [4096, 128], SiLU: the GAU's shared base Z
//
// Two passes each: forward alone (no gradients recorded, as in evaluation), and
// forward + backward (x, W and b require gradients, upstream gradient fixed; the
// leaves' gradients are cleared before each call). Protocol as the gemm workload:
// 2 warm-up calls fix k, the calls per block (>= 100 ms); then 3 rounds, each giving
// every case, pass and variant 3 blocks, the two variants taking turns going first;
// median and min of the 9 blocks. The fused and unfused outputs and gradients are
// compared once before timing (note).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "examples/bench/bench.h"
#include "examples/bench/timing.h"
#include "layers/activation.h"
#include "tinyattn.h"

namespace {

struct Case {
  const char* name;
  int64_t rows, in, out;
  ta::Activation act;
  const char* what;
};

const Case kCases[] = {
    {"ffn_up_gelu", 4096, 256, 1024, ta::Activation::Gelu, "FFN up, exact GELU"},
    {"ffn_up_relu", 4096, 256, 1024, ta::Activation::Relu, "FFN up, ReLU"},
    {"gau_uv_silu", 4096, 256, 512, ta::Activation::Silu, "GAU U or V, SiLU"},
    {"gau_z_silu", 4096, 256, 128, ta::Activation::Silu, "GAU Z, SiLU"},
};

enum Variant { kFused, kUnfused, kVariants };
const char* const kVariantNames[] = {"fused", "unfused"};
enum Pass { kForward, kForwardBackward, kPasses };
const char* const kPassMetric[] = {"ms_fwd", "ms_fwd_bwd"};

struct Prepared {
  const Case* c;
  ta::Tensor x, w, b, dy;  // x, w, b require gradients
  int64_t k[kPasses][kVariants] = {};
  std::vector<double> t[kPasses][kVariants];

  ta::Tensor layer(int v) const {
    return v == kFused ? ta::linear(x, w, b, *ta::fused_activation(c->act)) : ta::activate(c->act, ta::linear(x, w, b));
  }
  void call(int pass, int v) {
    if (pass == kForward) {
      ta::NoGradGuard no_grad;
      bench::do_not_optimize(layer(v).data());
      return;
    }
    x.zero_grad(), w.zero_grad(), b.zero_grad();
    ta::backward(layer(v), dy);
    bench::do_not_optimize(w.grad().data());
  }
};

// Largest |fused - unfused| over y and the three gradients, relative to max |unfused|.
double disagreement(Prepared& p) {
  double worst = 0;
  std::vector<ta::Tensor> got[kVariants];
  for (int v = 0; v < kVariants; ++v) {
    p.call(kForwardBackward, v);
    ta::NoGradGuard no_grad;
    got[v] = {p.layer(v), p.x.grad(), p.w.grad(), p.b.grad()};
  }
  for (size_t i = 0; i < got[kFused].size(); ++i) {
    const std::vector<float> a = got[kFused][i].to_vector(), r = got[kUnfused][i].to_vector();
    double diff = 0, scale = 1e-30;
    for (size_t j = 0; j < a.size(); ++j) {
      diff = std::max(diff, std::fabs(double(a[j]) - r[j]));
      scale = std::max(scale, std::fabs(double(r[j])));
    }
    worst = std::max(worst, diff / scale);
  }
  return worst;
}

void run_linear(const bench::Options& opt, bench::Report& report) {
  std::vector<Prepared> cases;
  ta::Generator gen(0);
  for (const Case& c : kCases) {
    if (!opt.selected(c.name)) continue;
    Prepared p;
    p.c = &c;
    p.x = ta::Tensor::normal(ta::Shape{c.rows, c.in}, 0.0f, 1.0f, gen).set_requires_grad();
    p.w = ta::Tensor::normal(ta::Shape{c.out, c.in}, 0.0f, 1.0f / 16.0f, gen).set_requires_grad();
    p.b = ta::Tensor::normal(ta::Shape{c.out}, 0.0f, 1.0f, gen).set_requires_grad();
    p.dy = ta::Tensor::normal(ta::Shape{c.rows, c.out}, 0.0f, 1.0f, gen);
    cases.push_back(std::move(p));
  }
  if (cases.empty()) return;

  double worst = 0;
  for (Prepared& p : cases) {
    worst = std::max(worst, disagreement(p));
    for (int pass = 0; pass < kPasses; ++pass)
      for (int v = 0; v < kVariants; ++v) p.k[pass][v] = bench::calls_per_block([&] { p.call(pass, v); });
  }
  for (int round = 0; round < 3; ++round) {
    for (Prepared& p : cases)
      for (int pass = 0; pass < kPasses; ++pass)
        for (int i = 0; i < kVariants; ++i) {
          const int v = (i + round) % kVariants;
          for (int b = 0; b < 3; ++b) p.t[pass][v].push_back(bench::time_block([&] { p.call(pass, v); }, p.k[pass][v]));
        }
    std::printf("  round %d of 3 done\n", round + 1);
    std::fflush(stdout);
  }

  for (const Prepared& p : cases) {
    char what[96];
    std::snprintf(what, sizeof what, "%lldx%lld -> %lld, %s", static_cast<long long>(p.c->rows),
                  static_cast<long long>(p.c->in), static_cast<long long>(p.c->out), p.c->what);
    report.describe(p.c->name, what);
    for (int pass = 0; pass < kPasses; ++pass) {
      bench::Summary s[kVariants];
      for (int v = 0; v < kVariants; ++v) {
        s[v] = bench::summarize(p.t[pass][v]);
        report.add(kVariantNames[v], p.c->name, kPassMetric[pass], 1e3 * s[v].median, "ms");
        report.add(kVariantNames[v], p.c->name, std::string(kPassMetric[pass]) + "_best", 1e3 * s[v].min, "ms");
      }
      report.add("fused", p.c->name, std::string("speedup_") + (pass == kForward ? "fwd" : "fwd_bwd"),
                 s[kUnfused].median / s[kFused].median, "x");
    }
  }
  report.note("fused: ta::linear(x, W, b, act), bias and activation in the GEMM's epilogue (GELU and SiLU also "
              "keep pre for the backward); unfused: the activation op after ta::linear(x, W, b). ms_fwd: forward "
              "without gradients; ms_fwd_bwd: forward + backward for x, W and b. Median (and _best: min) of 9 "
              "blocks of >= 100 ms; speedup_* = unfused / fused median time.");
  char check[128];
  std::snprintf(check, sizeof check,
                "Check: fused and unfused y, dx, dW, db agree to %.1e (max |diff| / max |unfused|).", worst);
  report.note(check);
}

const bench::RegisterWorkload reg{{"linear",
                                   "the linear layer with its activation fused into the GEMM against the activation "
                                   "op after it, forward and forward + backward ms, the training step's shapes",
                                   run_linear}};

}  // namespace
