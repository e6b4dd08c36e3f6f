// Workload "gemm": C = op(A) op(B) in float32, the cases of the spec's gemm table
// (../shared/bench/README.md, gemm.py), timed two ways on the same inputs:
//
//   framework  ta::matmul(a, b, transpose_a, transpose_b) on tensors; NT has b stored
//              [N, K] with transpose_b, TN has a stored [K, M] with transpose_a (no copies)
//   cblas      cblas_sgemm on raw buffers holding the same values, the output freshly
//              allocated (64-byte aligned malloc) and freed by every call, as torch.mm does
//
// Protocol (gemm.py): per case and variant, 2 warm-up calls fix k, the calls per block
// (a block lasts >= 100 ms); then 3 rounds over all cases, each giving every case and
// variant 3 blocks (9 blocks each, spread over the run; the variant that goes first
// alternates between rounds). Time per call = block / k; median and min over the 9
// blocks; GFLOP/s = 2 M N K / time.
#include <cblas.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <algorithm>
#include <string>
#include <vector>

#include "examples/bench/bench.h"
#include "examples/bench/timing.h"
#include "tinyattn.h"

namespace {

struct Case {
  const char* name;
  int64_t M, K, N;
  const char* layout;  // "NN", "NT" (B stored N x K), "TN" (A stored K x M)
  const char* what;
};

constexpr int64_t T = 4096;  // tokens per training step: batch 4 x sequence 1024

const Case kCases[] = {
    {"square_128", 128, 128, 128, "NN", "square"},
    {"square_256", 256, 256, 256, "NN", "square"},
    {"square_512", 512, 512, 512, "NN", "square"},
    {"square_1024", 1024, 1024, 1024, "NN", "square"},
    {"square_2048", 2048, 2048, 2048, "NN", "square"},
    {"ffn_up_nn", T, 256, 1024, "NN", "FFN up fwd, x @ W"},
    {"ffn_up_nt", T, 256, 1024, "NT", "FFN up fwd, nn.Linear"},
    {"ffn_down_nt", T, 1024, 256, "NT", "FFN down fwd, nn.Linear"},
    {"qkv_nt", T, 256, 768, "NT", "fused QKV fwd, nn.Linear"},
    {"attn_out_nt", T, 256, 256, "NT", "attn out / LM head fwd"},
    {"ffn_up_dx_nn", T, 1024, 256, "NN", "FFN up bwd dX = dY @ W"},
    {"ffn_up_dw_tn", 1024, T, 256, "TN", "FFN up bwd dW = dY^T @ X"},
    {"ffn_down_dw_tn", 256, T, 1024, "TN", "FFN down bwd dW = dY^T @ X"},
    {"attn_s_nt", 1024, 64, 1024, "NT", "attn/head S = Q @ K^T"},
    {"attn_o_nn", 1024, 1024, 64, "NN", "attn/head O = P @ V"},
    {"gau_in_nt", T, 256, 1152, "NT", "GAU in-proj 256 -> 1152"},
    {"gau_out_nt", T, 512, 256, "NT", "GAU out-proj 512 -> 256"},
    {"gau_qk_nt", 256, 128, 256, "NT", "GAU chunk Qq @ Kq^T"},
    {"gau_kv_nn", 256, 256, 512, "NN", "GAU chunk kernel @ V"},
};

// A raw float buffer, 64-byte aligned, freed on scope exit.
struct Buffer {
  float* p = nullptr;
  explicit Buffer(int64_t n) : p(static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64))) {
    if (!p) throw std::bad_alloc();
  }
  ~Buffer() { std::free(p); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
};

struct Prepared {
  const Case* c;
  bool trans_a, trans_b;
  ta::Tensor a, b;               // framework operands, stored as the layout says
  std::unique_ptr<Buffer> ra, rb;  // the same values as raw buffers for cblas
  int64_t k_fw = 1, k_blas = 1;
  std::vector<double> t_fw, t_blas;  // seconds per call, one per block

  void framework() const {
    ta::Tensor c = ta::matmul(a, b, trans_a, trans_b);
    bench::do_not_optimize(c.data());
  }
  void cblas() const {
    const int64_t M = c->M, N = c->N, K = c->K;
    float* out = static_cast<float*>(std::aligned_alloc(64, (M * N * sizeof(float) + 63) / 64 * 64));
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(M),
                static_cast<blasint>(N), static_cast<blasint>(K), 1.0f, ra->p, static_cast<blasint>(trans_a ? M : K), rb->p,
                static_cast<blasint>(trans_b ? K : N), 0.0f, out, static_cast<blasint>(N));
    bench::do_not_optimize(out);
    std::free(out);
  }
};

// Both variants once on the same inputs: they must agree (same BLAS call underneath).
double max_rel_diff(const Prepared& p) {
  ta::Tensor c = ta::matmul(p.a, p.b, p.trans_a, p.trans_b);
  const int64_t M = p.c->M, N = p.c->N, K = p.c->K;
  Buffer out(M * N);
  cblas_sgemm(CblasRowMajor, p.trans_a ? CblasTrans : CblasNoTrans, p.trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(M), static_cast<blasint>(N), static_cast<blasint>(K), 1.0f, p.ra->p,
              static_cast<blasint>(p.trans_a ? M : K), p.rb->p, static_cast<blasint>(p.trans_b ? K : N), 0.0f, out.p,
              static_cast<blasint>(N));
  const float* x = c.data();
  double diff = 0, scale = 1e-30;
  for (int64_t i = 0; i < M * N; ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(x[i]) - out.p[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(out.p[i])));
  }
  return diff / scale;
}

void run_gemm(const bench::Options& opt, bench::Report& report) {
  ta::Generator gen(0);
  std::vector<Prepared> cases;
  cases.reserve(std::size(kCases));
  for (const Case& c : kCases) {
    if (!opt.selected(c.name)) continue;
    Prepared p;
    p.c = &c;
    p.trans_a = c.layout[0] == 'T';
    p.trans_b = c.layout[1] == 'T';
    p.a = ta::Tensor::normal(p.trans_a ? ta::Shape{c.K, c.M} : ta::Shape{c.M, c.K}, 0.0f, 1.0f, gen);
    p.b = ta::Tensor::normal(p.trans_b ? ta::Shape{c.N, c.K} : ta::Shape{c.K, c.N}, 0.0f, 1.0f, gen);
    p.ra = std::make_unique<Buffer>(p.a.numel());
    p.rb = std::make_unique<Buffer>(p.b.numel());
    std::memcpy(p.ra->p, p.a.data(), p.a.numel() * sizeof(float));
    std::memcpy(p.rb->p, p.b.data(), p.b.numel() * sizeof(float));
    cases.push_back(std::move(p));
  }
  if (cases.empty()) return;

  // Calibration (2 warm-up calls each) and the agreement check.
  double worst_diff = 0;
  for (Prepared& p : cases) {
    p.k_fw = bench::calls_per_block([&] { p.framework(); });
    p.k_blas = bench::calls_per_block([&] { p.cblas(); });
    worst_diff = std::max(worst_diff, max_rel_diff(p));
    std::printf("  calibrated %-15s k = %lld (framework), %lld (cblas)\n", p.c->name,
                static_cast<long long>(p.k_fw), static_cast<long long>(p.k_blas));
    std::fflush(stdout);
  }

  for (int round = 0; round < 3; ++round) {
    for (Prepared& p : cases) {
      auto fw = [&] {
        for (int b = 0; b < 3; ++b) p.t_fw.push_back(bench::time_block([&] { p.framework(); }, p.k_fw));
      };
      auto bl = [&] {
        for (int b = 0; b < 3; ++b) p.t_blas.push_back(bench::time_block([&] { p.cblas(); }, p.k_blas));
      };
      if (round % 2 == 0) fw(), bl();
      else bl(), fw();
    }
    std::printf("  round %d of 3 done\n", round + 1);
    std::fflush(stdout);
  }

  for (const Prepared& p : cases) {
    const double flop = 2.0 * p.c->M * p.c->N * p.c->K;
    bench::Summary f = bench::summarize(p.t_fw), b = bench::summarize(p.t_blas);
    char what[96];
    std::snprintf(what, sizeof what, "%lldx%lldx%lld %s, %s", static_cast<long long>(p.c->M),
                  static_cast<long long>(p.c->K), static_cast<long long>(p.c->N), p.c->layout, p.c->what);
    report.describe(p.c->name, what);
    report.add("framework", p.c->name, "gflops", flop / f.median / 1e9, "GFLOP/s");
    report.add("framework", p.c->name, "gflops_best", flop / f.min / 1e9, "GFLOP/s");
    report.add("cblas", p.c->name, "gflops", flop / b.median / 1e9, "GFLOP/s");
    report.add("cblas", p.c->name, "gflops_best", flop / b.min / 1e9, "GFLOP/s");
    report.add("framework", p.c->name, "vs_cblas", b.median / f.median, "ratio");
    report.add("framework", p.c->name, "vs_cblas_best", b.min / f.min, "ratio");
  }
  report.note("gflops: from the median of 9 blocks of >= 100 ms; gflops_best: from the fastest block. "
              "vs_cblas = framework / cblas throughput (median-based, best-based).");
  char check[128];
  std::snprintf(check, sizeof check, "Check: framework and cblas outputs agree to %.1e (max |diff| / max |C|).",
                worst_diff);
  report.note(check);
}

const bench::RegisterWorkload reg{
    {"gemm", "float32 matrix-product GFLOP/s, ta::matmul vs direct cblas_sgemm, the spec's 19 cases", run_gemm}};

}  // namespace
