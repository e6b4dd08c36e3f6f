// Workload "gemm": C = op(A) op(B) in float32, the cases of the spec's gemm table
// (../shared/bench/README.md, gemm.py) plus square 3072 and 4096 and the shape classes
// the backend's choice of engine rests on, timed four ways on the same inputs:
//
//   framework  ta::matmul(a, b, transposed) on tensors: the backend's choice per
//              shape (core/cpu/gemm/dispatch.cpp); NT has b stored [N, K] with
//              Transposed::B, TN has a stored [K, M] with Transposed::A (no copies)
//   own        the project's packed GEMM itself (core/cpu/gemm/), whatever the choice
//   cblas      OpenBLAS's cblas_sgemm as this environment configures it (here its
//              Haswell kernels: OPENBLAS_CORETYPE=Haswell)
//   skylakex   the same cblas_sgemm in a child process started with
//              OPENBLAS_CORETYPE=SKYLAKEX, OpenBLAS's AVX-512 kernels: a ceiling
//              reference for this benchmark only (the environment pins Haswell because
//              those kernels misbehave on this processor family elsewhere; the child's
//              outputs are checked against ours)
// own, cblas and skylakex write a freshly allocated output (64-byte aligned malloc),
// freed by every call, as torch.mm does; framework's comes from the caching allocator.
//
// Protocol (gemm.py): per case and variant, 2 warm-up calls fix k, the calls per block
// (a block lasts >= 100 ms); then 3 rounds over all cases, each giving every case and
// variant 3 blocks (9 blocks each, spread over the run; the in-process variants rotate
// which goes first; the skylakex child runs once per round, after them). Time per
// call = block / k; median and min over the 9 blocks; GFLOP/s = 2 M N K / time.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/cpu/gemm/threading.h"
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
    {"square_3072", 3072, 3072, 3072, "NN", "square"},
    {"square_4096", 4096, 4096, 4096, "NN", "square"},
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
    // Not in the spec: the shape classes the backend's choice of engine is measured on
    // (core/cpu/gemm/dispatch.cpp): attention tiles (one thread, inside the fused
    // kernels), small squares, and thin products (one decoded token, narrow outputs).
    {"tile_qk_nt", 64, 64, 128, "NT", "attention tile S = Q @ K^T"},
    {"tile_pv_nn", 64, 128, 64, "NN", "attention tile O += P @ V"},
    {"small_32", 32, 32, 32, "NN", "small square"},
    {"small_64", 64, 64, 64, "NN", "small square"},
    {"thin_m1_nt", 1, 256, 1024, "NT", "one token through nn.Linear"},
    {"thin_m4_nt", 4, 256, 1024, "NT", "four tokens through nn.Linear"},
    {"thin_m8_nt", 8, 256, 1024, "NT", "eight tokens through nn.Linear"},
    {"thin_n1_nn", T, 256, 1, "NN", "matrix-vector"},
    {"thin_n8_nt", T, 256, 8, "NT", "nn.Linear to 8 outputs"},
    {"thin_n16_nt", T, 256, 16, "NT", "nn.Linear to 16 outputs"},
};

enum Variant { kFramework, kOwn, kCblas, kInProcess };
const char* const kVariantNames[] = {"framework", "own", "cblas"};
const char* const kSkylakeX = "skylakex";

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
  ta::Transpose trans_a, trans_b;
  ta::Tensor a, b;                 // framework operands, stored as the layout says
  std::unique_ptr<Buffer> ra, rb;  // the same values as raw buffers
  int64_t k[kInProcess] = {1, 1, 1};
  std::vector<double> t[kInProcess];  // seconds per call, one per block
  std::vector<double> t_skylakex;

  int64_t lda() const { return trans_a == ta::Transpose::Yes ? c->M : c->K; }
  int64_t ldb() const { return trans_b == ta::Transpose::Yes ? c->K : c->N; }
  // The layout as ta::matmul names it.
  ta::Transposed transposed() const {
    if (trans_a == ta::Transpose::Yes) return trans_b == ta::Transpose::Yes ? ta::Transposed::Both : ta::Transposed::A;
    return trans_b == ta::Transpose::Yes ? ta::Transposed::B : ta::Transposed::None;
  }

  void own_into(float* out) const {
    namespace g = ta::cpu::gemm;
    const g::Product p{trans_a, trans_b, c->M, c->N, c->K, 1.0f, ra->p, lda(), rb->p, ldb(), 0.0f, out, c->N, {}};
    g::multiply_batch(g::best_kernel(), p, g::Batch{1, 0, 0, 0}, g::threads_for(c->M, c->N, c->K, 1));
  }
  void cblas_into(float* out) const {
    cblas_sgemm(CblasRowMajor, trans_a == ta::Transpose::Yes ? CblasTrans : CblasNoTrans,
                trans_b == ta::Transpose::Yes ? CblasTrans : CblasNoTrans, static_cast<blasint>(c->M),
                static_cast<blasint>(c->N), static_cast<blasint>(c->K), 1.0f, ra->p, static_cast<blasint>(lda()),
                rb->p, static_cast<blasint>(ldb()), 0.0f, out, static_cast<blasint>(c->N));
  }
  void call(int v) const {
    if (v == kFramework) {
      ta::Tensor out = ta::matmul(a, b, transposed());
      bench::do_not_optimize(out.data());
      return;
    }
    Buffer out(c->M * c->N);
    if (v == kOwn) own_into(out.p);
    else cblas_into(out.p);
    bench::do_not_optimize(out.p);
  }
};

std::vector<Prepared> prepare(const bench::Options& opt) {
  ta::Generator gen(0);
  std::vector<Prepared> cases;
  cases.reserve(std::size(kCases));
  for (const Case& c : kCases) {
    if (!opt.selected(c.name)) continue;
    Prepared p;
    p.c = &c;
    p.trans_a = c.layout[0] == 'T' ? ta::Transpose::Yes : ta::Transpose::No;
    p.trans_b = c.layout[1] == 'T' ? ta::Transpose::Yes : ta::Transpose::No;
    p.a = ta::Tensor::normal(c.layout[0] == 'T' ? ta::Shape{c.K, c.M} : ta::Shape{c.M, c.K}, 0.0f, 1.0f, gen);
    p.b = ta::Tensor::normal(c.layout[1] == 'T' ? ta::Shape{c.N, c.K} : ta::Shape{c.K, c.N}, 0.0f, 1.0f, gen);
    p.ra = std::make_unique<Buffer>(p.a.numel());
    p.rb = std::make_unique<Buffer>(p.b.numel());
    std::memcpy(p.ra->p, p.a.data(), p.a.numel() * sizeof(float));
    std::memcpy(p.rb->p, p.b.data(), p.b.numel() * sizeof(float));
    cases.push_back(std::move(p));
  }
  return cases;
}

// sum of |C| in double: the check that two processes computed the same product.
double abs_sum(const float* c, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(c[i]);
  return s;
}

// ---- the SkylakeX child ---------------------------------------------------------------

// Runs in the child (OPENBLAS_CORETYPE=SKYLAKEX): for each selected case, calibrates k,
// times 3 blocks of cblas_sgemm and prints "RESULT name t1 t2 t3 abs_sum"; first a line
// "CORE name" with the kernel OpenBLAS chose.
int skylakex_child(const bench::Options& opt) {
  std::cout << "CORE " << openblas_get_corename() << "\n" << std::flush;
  for (const Prepared& p : prepare(opt)) {
    const int64_t k = bench::calls_per_block([&] { p.call(kCblas); });
    std::cout << "RESULT " << p.c->name;
    for (int b = 0; b < 3; ++b) std::cout << " " << bench::time_block([&] { p.call(kCblas); }, k);
    Buffer out(p.c->M * p.c->N);
    p.cblas_into(out.p);
    std::cout << " " << abs_sum(out.p, p.c->M * p.c->N) << "\n" << std::flush;
  }
  return 0;
}

struct ChildRound {
  std::string core, error;
  std::map<std::string, std::vector<double>> times;
  std::map<std::string, double> abs_sums;
};

// One round of the child: this program again, with OpenBLAS forced to SkylakeX.
ChildRound run_skylakex_round(const std::vector<Prepared>& cases, int threads) {
  std::ostringstream command;
  command << "OPENBLAS_CORETYPE=SKYLAKEX '" << std::filesystem::read_symlink("/proc/self/exe").string()
          << "' gemm --threads " << threads << " --skylakex-child 1 --only ";
  for (size_t i = 0; i < cases.size(); ++i) command << (i ? "," : "") << cases[i].c->name;
  ChildRound round;
  FILE* pipe = popen(command.str().c_str(), "r");
  if (!pipe) {
    round.error = "could not start the child";
    return round;
  }
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    std::istringstream in(line);
    std::string tag, name;
    in >> tag;
    if (tag == "CORE") in >> round.core;
    if (tag != "RESULT") continue;
    in >> name;
    double t;
    for (int b = 0; b < 3 && in >> t; ++b) round.times[name].push_back(t);
    in >> round.abs_sums[name];
  }
  const int status = pclose(pipe);
  if (status != 0) round.error = "the child exited with status " + std::to_string(status);
  return round;
}

// ---- the workload ---------------------------------------------------------------------

// What the calibration found: the largest disagreement of own and framework with
// cblas (relative to the largest |C|), and each case's sum of |C| from our GEMM.
struct Calibration {
  double worst_diff = 0;
  std::map<std::string, double> own_abs_sum;
};

// Calibration (2 warm-up calls each) and the agreement check of own and framework
// against cblas.
Calibration calibrate(std::vector<Prepared>& cases) {
  Calibration cal;
  for (Prepared& p : cases) {
    for (int v = 0; v < kInProcess; ++v) p.k[v] = bench::calls_per_block([&] { p.call(v); });
    const int64_t n = p.c->M * p.c->N;
    Buffer own(n), ref(n);
    p.own_into(own.p);
    p.cblas_into(ref.p);
    const ta::Tensor fw = ta::matmul(p.a, p.b, p.transposed());
    double diff = 0, scale = 1e-30;
    for (int64_t i = 0; i < n; ++i) {
      diff = std::max({diff, std::fabs(double(own.p[i]) - ref.p[i]), std::fabs(double(fw.data()[i]) - ref.p[i])});
      scale = std::max(scale, std::fabs(double(ref.p[i])));
    }
    cal.worst_diff = std::max(cal.worst_diff, diff / scale);
    cal.own_abs_sum[p.c->name] = abs_sum(own.p, n);
    std::printf("  calibrated %-15s k = %lld (framework), %lld (own), %lld (cblas)\n", p.c->name,
                static_cast<long long>(p.k[kFramework]), static_cast<long long>(p.k[kOwn]),
                static_cast<long long>(p.k[kCblas]));
    std::fflush(stdout);
  }
  return cal;
}

// How the SkylakeX child processes went: its OpenBLAS core, an error that stopped
// them, and the largest disagreement of its sums of |C| with ours.
struct SkylakeX {
  std::string core, error;
  double worst_diff = 0;
};

// Three rounds: every case's in-process variants, 3 blocks each, in an order that
// rotates from round to round, then a SkylakeX child process over all cases.
SkylakeX time_rounds(std::vector<Prepared>& cases, const Calibration& cal, int threads) {
  SkylakeX sx;
  for (int round = 0; round < 3; ++round) {
    for (Prepared& p : cases)
      for (int i = 0; i < kInProcess; ++i) {
        const int v = (i + round) % kInProcess;
        for (int b = 0; b < 3; ++b) p.t[v].push_back(bench::time_block([&] { p.call(v); }, p.k[v]));
      }
    if (sx.error.empty()) {
      const ChildRound child = run_skylakex_round(cases, threads);
      sx.core = child.core;
      sx.error = child.error;
      for (Prepared& p : cases) {
        const auto t = child.times.find(p.c->name);
        if (t == child.times.end()) continue;
        p.t_skylakex.insert(p.t_skylakex.end(), t->second.begin(), t->second.end());
        const double ours = cal.own_abs_sum.at(p.c->name);
        sx.worst_diff = std::max(sx.worst_diff, std::fabs(child.abs_sums.at(p.c->name) - ours) / ours);
      }
    }
    std::printf("  round %d of 3 done\n", round + 1);
    std::fflush(stdout);
  }
  return sx;
}

void report_case(const Prepared& p, bench::Report& report) {
  const double flop = 2.0 * p.c->M * p.c->N * p.c->K;
  char what[96];
  std::snprintf(what, sizeof what, "%lldx%lldx%lld %s, %s", static_cast<long long>(p.c->M),
                static_cast<long long>(p.c->K), static_cast<long long>(p.c->N), p.c->layout, p.c->what);
  report.describe(p.c->name, what);
  bench::Summary s[kInProcess];
  for (int v = 0; v < kInProcess; ++v) {
    s[v] = bench::summarize(p.t[v]);
    report.add(kVariantNames[v], p.c->name, "gflops", flop / s[v].median / 1e9, "GFLOP/s");
    report.add(kVariantNames[v], p.c->name, "gflops_best", flop / s[v].min / 1e9, "GFLOP/s");
  }
  report.add("framework", p.c->name, "vs_cblas", s[kCblas].median / s[kFramework].median, "ratio");
  report.add("own", p.c->name, "vs_cblas", s[kCblas].median / s[kOwn].median, "ratio");
  report.add("own", p.c->name, "vs_cblas_best", s[kCblas].min / s[kOwn].min, "ratio");
  if (p.t_skylakex.empty()) return;
  const bench::Summary x = bench::summarize(p.t_skylakex);
  report.add(kSkylakeX, p.c->name, "gflops", flop / x.median / 1e9, "GFLOP/s");
  report.add(kSkylakeX, p.c->name, "gflops_best", flop / x.min / 1e9, "GFLOP/s");
  report.add("own", p.c->name, "vs_skylakex", x.median / s[kOwn].median, "ratio");
  report.add("own", p.c->name, "vs_skylakex_best", x.min / s[kOwn].min, "ratio");
}

void add_notes(bench::Report& report, const Calibration& cal, const SkylakeX& sx) {
  report.note("gflops: from the median of 9 blocks of >= 100 ms; gflops_best: from the fastest block. "
              "vs_X = own (or framework) / X throughput (median-based; _best: best-based).");
  report.note("own: the project's GEMM (micro-kernel " + std::string(ta::cpu::gemm::best_kernel().name) +
              "); framework: ta::matmul, the backend's choice per shape.");
  char check[160];
  std::snprintf(check, sizeof check,
                "Check: own and framework agree with cblas to %.1e (max |diff| / max |C|).", cal.worst_diff);
  report.note(check);
  if (!sx.error.empty()) {
    report.note("skylakex: " + sx.error + (sx.core.empty() ? "" : " (core " + sx.core + ")"));
    return;
  }
  std::snprintf(check, sizeof check, "skylakex: a child process with OPENBLAS_CORETYPE=SKYLAKEX (OpenBLAS core %s); "
                "its sums of |C| agree with ours to %.1e.", sx.core.c_str(), sx.worst_diff);
  report.note(check);
}

void run_gemm(const bench::Options& opt, bench::Report& report) {
  std::vector<Prepared> cases = prepare(opt);
  if (cases.empty()) return;
  const Calibration cal = calibrate(cases);
  const SkylakeX sx = time_rounds(cases, cal, report.threads());
  for (const Prepared& p : cases) report_case(p, report);
  add_notes(report, cal, sx);
}

const bench::RegisterWorkload reg{{"gemm",
                                   "float32 matrix-product GFLOP/s: ta::matmul, the project's GEMM, OpenBLAS as "
                                   "configured and forced to SkylakeX; the spec's 19 cases, square 3072, 4096, small and thin shapes",
                                   run_gemm,
                                   {{"skylakex-child", "1", ""}},  // hidden: the SkylakeX reference's process
                                   "skylakex-child",
                                   skylakex_child}};

}  // namespace
