// Workload "chunked": a chunked kernel written from autograd ops, forward + backward,
// to show what a variant author's code costs: the causal linear attention of
// Katharopoulos et al. (2020), "Transformers are RNNs", in its chunked form.
//
//   build/bench chunked [--n N[,N...]] [--threads T] [--csv FILE]
//
// With the feature map phi(x) = elu(x) + 1 (positive, so every denominator is > 0),
// output row i is
//   o_i = phi(q_i)^T S_i / phi(q_i)^T z_i,   S_i = sum_{j <= i} phi(k_j) v_j^T,
//                                            z_i = sum_{j <= i} phi(k_j).
// Cut the sequence into chunks of C = 64 rows. For the rows of chunk c, the sums
// split into the chunks before c (a state S, z carried from chunk to chunk, updated
// after the chunk: S += Kc^T Vc, z += colsum(Kc)) and the rows of chunk c itself up
// to i (a masked C x C product):
//   A = (Qc Kc^T) * tril,   numerator = A Vc + Qc S,   denominator = rowsum(A) + Qc z.
// The chunks are cut with narrow() and the outputs joined with concat(), so the
// backward runs one narrow backward per chunk and input: a narrow backward that cost
// O(n) each would make the whole backward O(n^2 / C).
//
// One iteration: gradients cleared, O = attention(q, k, v) on q, k, v [1, 4, n, 64]
// (N(0, 1), requires_grad), backward(O, dO) with a fixed dO. One warm-up iteration,
// then attention.py's number of timed ones (timing.h); median and min of forward,
// backward and their sum. At the first n <= 1024 the output is checked against the
// unchunked quadratic form (the full n x n masked product).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "examples/bench/bench.h"
#include "examples/bench/timing.h"
#include "tinyattn.h"

namespace {

constexpr int64_t kChunk = 64, kHeads = 4, kHeadDim = 64;

// phi(x) = elu(x) + 1: x + 1 for x > 0, e^x for x <= 0.
ta::Tensor feature(const ta::Tensor& x) { return ta::elu(x) + 1.0f; }

// [len, len] lower triangle of ones, diagonal included: row i sees columns j <= i.
ta::Tensor causal_mask(int64_t len) {
  const ta::Tensor i = ta::reshape(ta::Tensor::arange(0, static_cast<float>(len)), {len, 1});
  const ta::Tensor j = ta::reshape(ta::Tensor::arange(0, static_cast<float>(len)), {1, len});
  return ta::ge(i, j);
}

// The chunked causal linear attention of the header, q, k, v [B, H, n, d] -> [B, H, n, d].
ta::Tensor chunked_linear_attention(const ta::Tensor& q, const ta::Tensor& k, const ta::Tensor& v) {
  const int64_t n = q.shape()[2], d = q.shape()[3], dv = v.shape()[3];
  const ta::Tensor fq = feature(q), fk = feature(k);
  const ta::Tensor mask = causal_mask(kChunk);
  ta::Tensor state = ta::Tensor::zeros(ta::Shape{q.shape()[0], q.shape()[1], d, dv});
  ta::Tensor norm = ta::Tensor::zeros(ta::Shape{q.shape()[0], q.shape()[1], 1, d});
  std::vector<ta::Tensor> outputs;
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t len = std::min(kChunk, n - start);
    const ta::Tensor qc = ta::narrow(fq, 2, start, len), kc = ta::narrow(fk, 2, start, len);
    const ta::Tensor vc = ta::narrow(v, 2, start, len);
    const ta::Tensor m = len == kChunk ? mask : ta::narrow(ta::narrow(mask, 0, 0, len), 1, 0, len);
    const ta::Tensor a = ta::matmul(qc, kc, ta::Transposed::B) * m;
    const ta::Tensor numerator = ta::matmul(a, vc) + ta::matmul(qc, state);
    const ta::Tensor denominator = ta::sum(a, {-1}, ta::KeepDims::Yes) + ta::matmul(qc, norm, ta::Transposed::B);
    outputs.push_back(numerator / denominator);
    state = state + ta::matmul(kc, vc, ta::Transposed::A);
    norm = norm + ta::sum(kc, {2}, ta::KeepDims::Yes);
  }
  return ta::concat(outputs, 2);
}

// The same function unchunked: the full n x n masked product (quadratic in n).
ta::Tensor quadratic_linear_attention(const ta::Tensor& q, const ta::Tensor& k, const ta::Tensor& v) {
  const ta::Tensor a = ta::matmul(feature(q), feature(k), ta::Transposed::B) * causal_mask(q.shape()[2]);
  return ta::matmul(a, v) / ta::sum(a, {-1}, ta::KeepDims::Yes);
}

void run_chunked(const bench::Options& opt, bench::Report& report) {
  report.set_layout(bench::Report::Layout::ByVariantAndN);
  const std::vector<int64_t> ns = bench::split_sizes(opt.value("n", "1024,4096,16384"), "--n");
  const std::string variant = "linear-elu-chunked";
  bool checked = false;
  for (const int64_t n : ns) {
    const std::string label = std::to_string(n);
    if (!opt.selected(label)) continue;
    report.describe(label, "q, k, v [1, 4, " + label + ", 64], chunk 64");
    ta::Generator gen(3);
    const ta::Shape shape{1, kHeads, n, kHeadDim};
    ta::Tensor q = ta::Tensor::normal(shape, 0.0f, 1.0f, gen).set_requires_grad();
    ta::Tensor k = ta::Tensor::normal(shape, 0.0f, 1.0f, gen).set_requires_grad();
    ta::Tensor v = ta::Tensor::normal(shape, 0.0f, 1.0f, gen).set_requires_grad();
    const ta::Tensor d_o = ta::Tensor::normal(shape, 0.0f, 1.0f, gen);
    if (!checked && n <= 1024) {
      ta::NoGradGuard no_grad;
      const ta::Tensor error = chunked_linear_attention(q, k, v) - quadratic_linear_attention(q, k, v);
      const float diff = ta::max(ta::abs(error)).item();
      char line[160];
      std::snprintf(line, sizeof line, "Check at n = %s: largest |chunked - quadratic form| = %.2e%s", label.c_str(),
                    diff, diff < 1e-4f ? "" : "  CHECK FAILED (above 1e-4)");
      report.note(line);
      checked = true;
    }
    auto iteration = [&] {
      for (ta::Tensor* t : {&q, &k, &v}) t->zero_grad();
      const double t0 = bench::now_s();
      const ta::Tensor o = chunked_linear_attention(q, k, v);
      const double t1 = bench::now_s();
      ta::backward(o, d_o);
      return std::pair<double, double>{t1 - t0, bench::now_s() - t1};
    };
    const auto [fwd_w, bwd_w] = iteration();
    std::vector<double> fwd, bwd, total;
    for (int r = bench::timed_repetitions(fwd_w + bwd_w); r > 0; --r) {
      const auto [f, b] = iteration();
      fwd.push_back(f);
      bwd.push_back(b);
      total.push_back(f + b);
    }
    const bench::Summary st = bench::summarize(total), sf = bench::summarize(fwd), sb = bench::summarize(bwd);
    std::printf("  n=%-6lld fwd+bwd %9.2f ms (min %9.2f, r %zu)  fwd %8.2f ms  bwd %8.2f ms\n",
                static_cast<long long>(n), 1e3 * st.median, 1e3 * st.min, total.size(), 1e3 * sf.median,
                1e3 * sb.median);
    std::fflush(stdout);
    report.add(variant, label, "ms_fwd_bwd", 1e3 * st.median, "ms");
    report.add(variant, label, "ms_fwd_bwd_best", 1e3 * st.min, "ms");
    report.add(variant, label, "ms_fwd", 1e3 * sf.median, "ms");
    report.add(variant, label, "ms_bwd", 1e3 * sb.median, "ms");
    report.add(variant, label, "ms_bwd_best", 1e3 * sb.min, "ms");
    report.add(variant, label, "ms_bwd_per_1k_tokens", 1e6 * sb.median / static_cast<double>(n), "ms");
    const float grad_sum = ta::sum(q.grad()).item() + ta::sum(k.grad()).item() + ta::sum(v.grad()).item();
    if (!std::isfinite(grad_sum)) report.remark(variant, label, "CHECK FAILED: gradient not finite");
  }
  report.note("Causal linear attention (Katharopoulos et al. 2020, phi = elu + 1) written from autograd ops, "
              "chunks of 64 cut with narrow and joined with concat; batch 1, 4 heads, head dim 64, gradients of "
              "q, k, v. 1 warm-up + attention.py's number of timed iterations, median (min). A backward linear in "
              "n keeps ms_bwd_per_1k_tokens flat as n grows.");
}

const bench::RegisterWorkload reg{{
    "chunked",
    "chunked causal linear attention written from ops (narrow/concat per chunk), fwd and bwd ms",
    run_chunked,
    {{"n", "N[,N...]", "sequence lengths (default 1024,4096,16384)"}},
}};

}  // namespace
