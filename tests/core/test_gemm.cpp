// tests/core/test_gemm.cpp — the project's GEMM (core/cpu/gemm/) against OpenBLAS.
//
// Every micro-kernel this machine can run (AVX-512, AVX2, portable: each is called
// directly, whichever one the library would pick), one and two threads, every
// transpose, alpha and beta (beta = 0 over NaN), leading dimensions wider than the
// matrices (with the gaps checked untouched), sizes 1, odd, prime and large, and sizes
// below, at, just above and several times each blocking parameter (MR, NR, MC, KC, NC;
// see blocking.h), with the real blocking and with a tiny one that
// makes small products cross many blocks. Then the backend's entry points: batches
// with strides (shared operands, gaps between outputs), the tile GEMM from inside a
// parallel region, the aliasing rules, and the fused epilogues (bias, activation,
// pre-activation) against the unfused reference.
// The cases, their OpenBLAS reference and the tolerance: gemm_testing.h.
#include <cblas.h>
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/cpu/cpu_backend.h"
#include "core/cpu/gemm/dispatch.h"
#include "core/cpu/gemm/openblas.h"
#include "core/cpu/gemm/threading.h"
#include "core/epilogue_math.h"
#include "core/kernels.h"
#include "core/random.h"
#include "core/tensor.h"
#include "tests/core/gemm_testing.h"
#include "tests/testing.h"

using ta::EpilogueActivation;
using ta::GemmEpilogue;
using ta::Transpose;
using namespace ta::cpu::gemm;
using namespace gemm_testing;

namespace {

// The case through `kernel` with the given blocking on `threads` threads, against OpenBLAS.
void check_kernel(const MicroKernel& kernel, const Case& c, int threads, const Blocking& blocking = {}) {
  CAPTURE(kernel.name);
  CAPTURE(describe(c));
  CAPTURE(threads);
  const Data d = make_data(c);
  std::vector<float> ours = d.C0;
  const Product p{c.ta,  c.tb,          c.M,    c.N,         c.K,      c.alpha, d.A.data(), c.lda(),
                  d.B.data(), c.ldb(), c.beta, ours.data(), c.ldc(), GemmEpilogue{}};
  multiply_batch(kernel, p, Batch{1, 0, 0, 0}, threads, blocking);
  check_close(c, d, ours, openblas_product(c, d.A, d.B, d.C0, c.alpha, c.beta));
}

struct Flavor {
  float alpha, beta;
};
const Flavor kFlavors[] = {{1.0f, 0.0f}, {-0.5f, 1.0f}, {2.0f, 0.25f}};

}  // namespace

TEST_CASE("gemm: the AVX-512 micro-kernel is the one used wherever the processor has it") {
  const std::vector<const MicroKernel*> kernels = available_kernels();
  REQUIRE(!kernels.empty());
  CHECK(kernels.back() == &portable_kernel());
  CHECK(&best_kernel() == kernels.front());
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) {
    REQUIRE(avx512_kernel() != nullptr);
    CHECK(&best_kernel() == avx512_kernel());
    CHECK(best_kernel().mr == 12);
    CHECK(best_kernel().nr == 32);
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) CHECK(avx2_kernel() != nullptr);
#endif
  MESSAGE("micro-kernels on this machine: ", kernels.size(), ", used: ", std::string(best_kernel().name));
}

TEST_CASE("gemm: every micro-kernel equals OpenBLAS for every transpose, alpha and beta, 1 and 2 threads") {
  const int64_t sizes[][3] = {{1, 1, 1}, {3, 5, 7}, {37, 41, 43}, {97, 131, 256}, {256, 257, 300}};
  for (const MicroKernel* kernel : available_kernels())
    for (const auto& s : sizes)
      for (Transpose ta : kTransposes)
        for (Transpose tb : kTransposes)
          for (const Flavor& f : kFlavors)
            for (int threads : {1, 2}) {
              const int64_t pad = s[0] % 2;  // wider leading dimensions on half the cases
              check_kernel(*kernel, Case{ta, tb, s[0], s[1], s[2], f.alpha, f.beta, pad, uint64_t(s[0])}, threads);
            }
}

TEST_CASE("gemm: sizes below, at, above and several times MR, NR, MC, KC and NC") {
  const Blocking real;
  for (const MicroKernel* kernel : available_kernels()) {
    const int64_t mr = kernel->mr, nr = kernel->nr, mc = real.mc, kc = real.kc, nc = real.nc;
    const std::vector<int64_t> ms = {1, mr - 1, mr, mr + 1, 2 * mr, 3 * mr + 1};
    const std::vector<int64_t> m_blocks = {mc - 1, mc, mc + 1, 3 * mc + 5};
    const std::vector<int64_t> ns = {1, nr - 1, nr, nr + 1, 2 * nr, 3 * nr + 5};
    const std::vector<int64_t> ks = {kc - 1, kc, kc + 1, 2 * kc, 2 * kc + 3};
    const std::vector<int64_t> n_panels = {nc - 1, nc, nc + 1, 2 * nc, 2 * nc + 7};
    for (Transpose ta : kTransposes)
      for (Transpose tb : kTransposes) {
        for (int64_t m : ms)
          for (int64_t n : ns) check_kernel(*kernel, Case{ta, tb, m, n, 9, 1.0f, 0.5f, 0, uint64_t(m * n)}, 1);
        for (int64_t k : ks) check_kernel(*kernel, Case{ta, tb, mr + 3, nr + 3, k, 1.5f, 1.0f, 1, uint64_t(k)}, 1);
        for (int64_t n : n_panels) check_kernel(*kernel, Case{ta, tb, 2 * mr + 1, n, 33, 1.0f, 0.0f, 2, 7}, 2);
        for (int64_t m : m_blocks) check_kernel(*kernel, Case{ta, tb, m, nr + 5, 19, 1.0f, 0.5f, 1, uint64_t(m)}, 1);
      }
  }
}

// The last sliver of C's rows holds 1 to MR valid rows; multiply_tile computes a third,
// two thirds or all of MR for it. Every count, through the direct store (alpha 1, beta 0
// or 1, whole columns) and through the epilogue (alpha, beta 0.5, a part strip).
TEST_CASE("gemm: every count of valid rows in the last sliver") {
  for (const MicroKernel* kernel : available_kernels())
    for (int64_t rows = 1; rows <= kernel->mr; ++rows)
      for (Transpose ta : kTransposes) {
        const int64_t m = 2 * kernel->mr + rows;
        check_kernel(*kernel, Case{ta, Transpose::No, m, kernel->nr, 21, 1.0f, 0.0f, 0, uint64_t(rows)}, 1);
        check_kernel(*kernel, Case{ta, Transpose::No, m, 2 * kernel->nr, 300, 1.0f, 1.0f, 3, uint64_t(rows)}, 1);
        check_kernel(*kernel, Case{ta, Transpose::Yes, m, kernel->nr - 3, 21, 1.5f, 0.5f, 2, uint64_t(rows)}, 1);
      }
}

TEST_CASE("gemm: a tiny blocking (KC = 5, NC = 2 NR, MC = 2 MR) makes every product cross many blocks") {
  for (const MicroKernel* kernel : available_kernels()) {
    const Blocking tiny{5, 2 * kernel->nr, 2 * kernel->mr};
    for (Transpose ta : kTransposes)
      for (Transpose tb : kTransposes)
        for (const Flavor& f : kFlavors)
          for (const auto& s : {std::array<int64_t, 3>{1, 1, 1}, {13, 70, 5}, {29, 131, 16}, {61, 65, 37}})
            for (int threads : {1, 2})
              check_kernel(*kernel, Case{ta, tb, s[0], s[1], s[2], f.alpha, f.beta, 3, uint64_t(s[1])}, threads, tiny);
  }
}

TEST_CASE("gemm: random shapes, primes and a large product") {
  ta::Generator gen(2026);
  for (int trial = 0; trial < 40; ++trial) {
    const std::vector<float> r = ta::Tensor::uniform(ta::Shape{8}, 0.0f, 1.0f, gen).to_vector();
    const Case c{r[0] < 0.5f ? Transpose::No : Transpose::Yes,
                 r[1] < 0.5f ? Transpose::No : Transpose::Yes,
                 1 + int64_t(r[2] * 300),
                 1 + int64_t(r[3] * 300),
                 1 + int64_t(r[4] * 600),
                 r[5] < 0.5f ? 1.0f : -1.25f,
                 r[6] < 0.3f ? 0.0f : 0.75f,
                 int64_t(r[7] * 3),
                 uint64_t(trial)};
    check_kernel(best_kernel(), c, 1 + trial % 2);
  }
  for (Transpose ta : kTransposes)
    for (Transpose tb : kTransposes) check_kernel(best_kernel(), Case{ta, tb, 257, 509, 1031, 1.0f, 0.0f, 0, 3}, 2);
  check_kernel(best_kernel(), Case{Transpose::No, Transpose::Yes, 1024, 1152, 600, 1.0f, 1.0f, 0, 4}, 2);
}

TEST_CASE("gemm: beta = 0 never reads C (NaN stays out); alpha = 0 and K = 0 never read A or B") {
  ta::cpu::CpuBackend be;
  const int64_t M = 29, N = 45, K = 17;
  std::vector<float> A = random_values(M * K, 5), B = random_values(K * N, 6), C(M * N, kNaN);
  be.gemm(Transpose::No, Transpose::No, M, N, K, 1.0f, A.data(), 0, B.data(), 0, 0.0f, C.data(), 0, 1);
  for (float x : C) REQUIRE(std::isfinite(x));

  std::vector<float> nan_a(M * K, kNaN), c0 = random_values(M * N, 7), C2 = c0;
  be.gemm(Transpose::No, Transpose::No, M, N, K, 0.0f, nan_a.data(), 0, B.data(), 0, 0.5f, C2.data(), 0, 1);
  for (int64_t i = 0; i < M * N; ++i) REQUIRE(C2[i] == 0.5f * c0[i]);

  std::vector<float> C3 = c0;
  be.gemm(Transpose::Yes, Transpose::No, M, N, 0, 1.0f, nan_a.data(), 0, nan_a.data(), 0, -2.0f, C3.data(), 0, 1);
  for (int64_t i = 0; i < M * N; ++i) REQUIRE(C3[i] == -2.0f * c0[i]);
  std::vector<float> C4(M * N, kNaN);
  be.gemm(Transpose::No, Transpose::Yes, M, N, 0, 1.0f, nullptr, 0, nullptr, 0, 0.0f, C4.data(), 0, 1);
  for (float x : C4) REQUIRE(x == 0.0f);
}

TEST_CASE("gemm: batches with strides: shared operands, gaps between outputs, every split over threads") {
  ta::cpu::CpuBackend be;
  const int64_t M = 37, N = 70, K = 23, gap = 5;
  for (int64_t batch : {1, 2, 3, 4, 9})
    for (Transpose ta : kTransposes)
      for (Transpose tb : kTransposes) {
        CAPTURE(batch);
        // A is shared by every product (stride 0), B and C are not; C's products are
        // M * N + gap apart, the gaps hold kSentinel.
        const Case c{ta, tb, M, N, K, 0.5f, 1.0f, 0, uint64_t(batch)};
        const std::vector<float> A = random_values(M * K, 11), B = random_values(batch * K * N, 12);
        std::vector<float> C = random_values(batch * (M * N + gap), 13);
        for (int64_t b = 0; b < batch; ++b)
          for (int64_t g = 0; g < gap; ++g) C[b * (M * N + gap) + M * N + g] = kSentinel;
        std::vector<float> ref = C;
        be.gemm(ta, tb, M, N, K, c.alpha, A.data(), 0, B.data(), K * N, c.beta, C.data(), M * N + gap, batch);
        for (int64_t b = 0; b < batch; ++b) {
          float* r = ref.data() + b * (M * N + gap);
          cblas_sgemm(CblasRowMajor, cblas_op(ta), cblas_op(tb), M, N, K, c.alpha, A.data(), ta == Transpose::Yes ? M : K,
                      B.data() + b * K * N, tb == Transpose::Yes ? K : N, c.beta, r, N);
        }
        for (size_t i = 0; i < C.size(); ++i) REQUIRE(C[i] == doctest::Approx(ref[i]).epsilon(1e-4).scale(1.0));
      }
}

TEST_CASE("gemm: the tile GEMM runs inside a parallel region, on the calling thread, with its own strides") {
  // Each thread multiplies its own tiles of a larger matrix (leading dimensions wider
  // than the tiles), as the fused attention kernels do.
  const int64_t tiles = 8, M = 33, N = 40, K = 70, ld = 100;
  const std::vector<float> A = random_values(tiles * M * ld, 21), B = random_values(tiles * K * ld, 22);
  std::vector<float> C(tiles * M * ld, kSentinel), ref = C;
  int threads_inside = 0;
#pragma omp parallel for num_threads(2) schedule(static, 1)
  for (int64_t t = 0; t < tiles; ++t) {
    if (t == 0) threads_inside = threads_for(1024, 1024, 1024, 1);
    ta::cpu::gemm_tile(Transpose::No, t % 2 ? Transpose::Yes : Transpose::No, M, N, K, 1.0f, A.data() + t * M * ld,
                       ld, B.data() + t * K * ld, ld, 0.0f, C.data() + t * M * ld, ld);
  }
  CHECK(threads_inside == 1);  // a GEMM inside a parallel region never starts threads of its own
  for (int64_t t = 0; t < tiles; ++t)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, t % 2 ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A.data() + t * M * ld, ld,
                B.data() + t * K * ld, ld, 0.0f, ref.data() + t * M * ld, ld);
  for (size_t i = 0; i < C.size(); ++i) REQUIRE(C[i] == doctest::Approx(ref[i]).epsilon(1e-4).scale(1.0));
}

TEST_CASE("gemm: aliasing rules: A and B may be the same memory; C is written only where it should be") {
  // X X^T and X^T X from one buffer read as both operands.
  ta::cpu::CpuBackend be;
  const int64_t R = 45, D = 70;
  const std::vector<float> X = random_values(R * D, 31);
  std::vector<float> gram(R * R), ref(R * R), gram_t(D * D), ref_t(D * D);
  be.gemm(Transpose::No, Transpose::Yes, R, R, D, 1.0f, X.data(), 0, X.data(), 0, 0.0f, gram.data(), 0, 1);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, R, D, 1.0f, X.data(), D, X.data(), D, 0.0f, ref.data(), R);
  be.gemm(Transpose::Yes, Transpose::No, D, D, R, 1.0f, X.data(), 0, X.data(), 0, 0.0f, gram_t.data(), 0, 1);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, D, R, 1.0f, X.data(), D, X.data(), D, 0.0f, ref_t.data(), D);
  for (int64_t i = 0; i < R * R; ++i) REQUIRE(gram[i] == doctest::Approx(ref[i]).epsilon(1e-5).scale(1.0));
  for (int64_t i = 0; i < D * D; ++i) REQUIRE(gram_t[i] == doctest::Approx(ref_t[i]).epsilon(1e-5).scale(1.0));
}

TEST_CASE("gemm: the engine per shape: OpenBLAS for at most half a tile of columns, ours otherwise") {
  if (std::getenv("TA_GEMM")) {
    MESSAGE("skipped: TA_GEMM is set, so it decides every product");
    return;
  }
  const int64_t nr = best_kernel().nr;
  CHECK(engine_for(4096, nr / 2, 256) == GemmEngine::OpenBlas);
  CHECK(engine_for(4096, 1, 256) == GemmEngine::OpenBlas);
  CHECK(engine_for(4096, nr / 2 + 1, 256) == GemmEngine::Own);
  CHECK(engine_for(1, 1024, 256) == GemmEngine::Own);
  CHECK(engine_for(64, 128, 64) == GemmEngine::Own);
}

TEST_CASE("gemm: TA_GEMM names an engine or is rejected with the values it takes") {
  CHECK(!forced_engine(nullptr));
  CHECK(!forced_engine(""));
  CHECK(!forced_engine("auto"));
  CHECK(forced_engine("own") == GemmEngine::Own);
  CHECK(forced_engine("openblas") == GemmEngine::OpenBlas);
  CHECK(ta::testing::error_message([] { forced_engine("mkl"); }) ==
        "TA_GEMM: got 'mkl', expected own, openblas or auto");
}

// ---- fused epilogues -----------------------------------------------------------------

namespace {

const EpilogueActivation kActivations[] = {EpilogueActivation::None, EpilogueActivation::Relu,
                                           EpilogueActivation::GeluErf, EpilogueActivation::GeluTanh,
                                           EpilogueActivation::Silu};

// The unfused reference: OpenBLAS's product, then the bias in a pass of its own, then
// the backend's element-wise op (CpuBackend::unary) in another.
struct Unfused {
  std::vector<float> pre, y;
};
Unfused unfused(const Case& c, const Data& d, const std::vector<float>& bias, EpilogueActivation act) {
  Unfused u;
  u.pre = openblas_product(c, d.A, d.B, d.C0, c.alpha, c.beta);
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) u.pre[i * c.ldc() + j] += bias.empty() ? 0.0f : bias[j];
  u.y = u.pre;
  if (act != EpilogueActivation::None)
    for (int64_t i = 0; i < c.M; ++i)
      ta::cpu::CpuBackend().unary(ta::unary_op_of(act), u.pre.data() + i * c.ldc(), u.y.data() + i * c.ldc(), c.N,
                                  0.0f);
  return u;
}

// y (and pre) against the reference: pre within the GEMM's tolerance, y within it times
// the activation's largest slope (below 1.2 for all of them) plus its own rounding.
void check_epilogue(const Case& c, const Data& d, const Unfused& ref, const std::vector<float>& y,
                    const std::vector<float>& pre) {
  const std::vector<float> mag = openblas_product(c, absolute(d.A), absolute(d.B), std::vector<float>(d.C0.size(), 1.0f),
                                                  std::fabs(c.alpha), std::fabs(c.beta));
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) {
      const int64_t at = i * c.ldc() + j;
      const float tol = 2e-6f * (mag[at] + 4.0f);
      CAPTURE(i);
      CAPTURE(j);
      if (!pre.empty()) REQUIRE(std::fabs(pre[at] - ref.pre[at]) <= tol);
      REQUIRE(std::fabs(y[at] - ref.y[at]) <= 1.2f * tol + 1e-6f);
    }
}

}  // namespace

TEST_CASE("gemm epilogue: bias, every activation and the kept pre-activation equal the unfused passes") {
  for (const MicroKernel* kernel : available_kernels())
    for (EpilogueActivation act : kActivations)
      for (bool with_bias : {false, true})
        for (bool keep_pre : {false, true})
          for (float beta : {0.0f, 0.5f}) {
            CAPTURE(kernel->name);
            CAPTURE(static_cast<int>(act));
            CAPTURE(with_bias);
            CAPTURE(keep_pre);
            // Depth 23 in blocks of 5: the epilogue must act once, on the finished sum.
            const Case c{Transpose::No, Transpose::Yes, 2 * kernel->mr + 3, 3 * kernel->nr - 1, 23, 0.7f, beta, 1, 9};
            CAPTURE(describe(c));
            const Data d = make_data(c);
            const std::vector<float> bias = with_bias ? random_values(c.N, 99) : std::vector<float>();
            std::vector<float> y = d.C0, pre = keep_pre ? std::vector<float>(d.C0.size(), kSentinel) : std::vector<float>();
            const GemmEpilogue e{with_bias ? bias.data() : nullptr, act, keep_pre ? pre.data() : nullptr};
            const Product p{c.ta, c.tb, c.M, c.N, c.K, c.alpha, d.A.data(), c.lda(), d.B.data(), c.ldb(), c.beta,
                            y.data(), c.ldc(), e};
            multiply_batch(*kernel, p, Batch{1, 0, 0, 0}, 2, Blocking{5, 2 * kernel->nr});
            check_epilogue(c, d, unfused(c, d, bias, act), y, pre);
            for (int64_t i = 0; i < c.M && keep_pre; ++i)  // pre's gaps untouched, as C's
              for (int64_t j = c.N; j < c.ldc(); ++j) REQUIRE(pre[i * c.ldc() + j] == kSentinel);

            // The OpenBLAS fallback applies the same epilogue in a pass after cblas_sgemm.
            std::vector<float> y_blas = d.C0, pre_blas = pre;
            Product q = p;
            q.C = y_blas.data();
            q.epilogue.pre_activation = keep_pre ? pre_blas.data() : nullptr;
            openblas_multiply_batch(q, Batch{1, 0, 0, 0});
            check_epilogue(c, d, unfused(c, d, bias, act), y_blas, pre_blas);
          }
}

TEST_CASE("gemm epilogue: each activation equals the element-wise op of the same name, over its whole range") {
  // x times the identity is x exactly (every other term is a zero), so the epilogue's
  // activation sees exactly the values the element-wise op (CpuBackend::unary, the
  // forward of relu, gelu and silu in autograd/elementwise.cpp) sees. Both evaluate the one
  // formula of core/elementwise_math.h, here vectorized for the micro-kernel's
  // instruction set and there for the build's, so they agree to rounding (a compiler
  // may contract a*b+c into one FMA in one and not the other): 4 ulps, or 1e-7 where
  // GELU's Phi(x) = (1 + erf) / 2 cancels for x far below 0. Arguments from -20 to 20
  // in steps of about 1/64, zeros, tiny ones, and ones where exp overflows unguarded.
  const int64_t M = 41, K = 64;  // whole 32-wide tiles (constant-width loops) and a part tile of rows
  std::vector<float> x(M * K), identity(K * K, 0.0f);
  for (int64_t i = 0; i < M * K; ++i) x[i] = -20.0f + 40.0f * static_cast<float>(i) / static_cast<float>(M * K - 1);
  const float special[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 88.0f, -88.0f, 100.0f, -100.0f, 1e4f, -1e4f};
  std::copy(std::begin(special), std::end(special), x.begin());
  for (int64_t k = 0; k < K; ++k) identity[k * K + k] = 1.0f;
  for (const MicroKernel* kernel : available_kernels())
    for (EpilogueActivation act : kActivations) {
      if (act == EpilogueActivation::None) continue;
      CAPTURE(kernel->name);
      CAPTURE(static_cast<int>(act));
      std::vector<float> y(M * K), pre(M * K), op(M * K);
      const Product p{Transpose::No, Transpose::No, M, K, K, 1.0f, x.data(), K, identity.data(), K, 0.0f,
                      y.data(), K, GemmEpilogue{nullptr, act, pre.data()}};
      multiply_batch(*kernel, p, Batch{1, 0, 0, 0}, 1);
      ta::cpu::CpuBackend().unary(ta::unary_op_of(act), x.data(), op.data(), M * K, 0.0f);
      for (int64_t i = 0; i < M * K; ++i) {
        CAPTURE(x[i]);
        CAPTURE(y[i]);
        CAPTURE(op[i]);
        REQUIRE(pre[i] == x[i]);
        REQUIRE(std::isfinite(y[i]));
        REQUIRE(std::fabs(y[i] - op[i]) <= 4 * std::numeric_limits<float>::epsilon() * std::fabs(op[i]) + 1e-7f);
      }
    }
}

TEST_CASE("gemm epilogue: batched through the backend, pre-activation at C's offsets, either engine") {
  ta::cpu::CpuBackend be;
  for (int64_t N : {45, 2}) {  // N = 2 goes to OpenBLAS (dispatch.cpp), then the epilogue pass
  CAPTURE(N);
  const int64_t batch = 3, M = 20, K = 300, stride_c = M * N + 7;
  const std::vector<float> A = random_values(batch * M * K, 41), B = random_values(K * N, 42),
                           bias = random_values(N, 43);
  std::vector<float> y(batch * stride_c, kSentinel), pre(batch * stride_c, kSentinel);
  be.gemm_epilogue(Transpose::No, Transpose::No, M, N, K, 1.0f, A.data(), M * K, B.data(), 0, 0.0f, y.data(), stride_c,
                   batch, GemmEpilogue{bias.data(), EpilogueActivation::GeluErf, pre.data()});
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<float> ref(M * N);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A.data() + b * M * K, K, B.data(), N, 0.0f,
                ref.data(), N);
    for (int64_t i = 0; i < M * N; ++i) {
      const float v = ref[i] + bias[i % N];
      REQUIRE(pre[b * stride_c + i] == doctest::Approx(v).epsilon(1e-4).scale(1.0));
      REQUIRE(y[b * stride_c + i] == doctest::Approx(ta::unary_value(ta::UnaryOp::GeluErf, v, 0.0f)).epsilon(1e-4).scale(1.0));
    }
    for (int64_t g = M * N; g < stride_c && b + 1 < batch; ++g) {
      REQUIRE(y[b * stride_c + g] == kSentinel);
      REQUIRE(pre[b * stride_c + g] == kSentinel);
    }
  }
  }
}

TEST_CASE("kernels::linear: the fused layer equals the product, the bias and the activation in passes; errors name it") {
  using ta::Tensor;
  ta::Generator gen(7);
  const Tensor x = Tensor::normal(ta::Shape{3, 37, 50}, 0.0f, 1.0f, gen);
  const Tensor w = Tensor::normal(ta::Shape{70, 50}, 0.0f, 0.2f, gen), b = Tensor::normal(ta::Shape{70}, 0.0f, 1.0f, gen);
  for (EpilogueActivation act : kActivations)
    for (const Tensor& bias : {b, Tensor()}) {
      CAPTURE(static_cast<int>(act));
      const Tensor product = ta::kernels::matmul(x, w, Transpose::No, Transpose::Yes);
      const Tensor pre_ref = bias.defined() ? ta::kernels::binary(ta::BinaryOp::Add, product, bias, "add") : product;
      const Tensor y_ref = act == EpilogueActivation::None
                               ? pre_ref
                               : ta::kernels::unary(ta::unary_op_of(act), pre_ref, 0.0f, "activation");
      const ta::kernels::LinearOutput kept =
          ta::kernels::linear(x, w, bias, act, ta::kernels::PreActivation::Keep);
      const ta::kernels::LinearOutput dropped =
          ta::kernels::linear(x, w, bias, act, ta::kernels::PreActivation::Drop);
      REQUIRE(kept.y.shape() == ta::Shape{3, 37, 70});
      REQUIRE(kept.pre.shape() == ta::Shape{3, 37, 70});
      CHECK(!dropped.pre.defined());
      const std::vector<float> y = kept.y.to_vector(), pre = kept.pre.to_vector(), yd = dropped.y.to_vector(),
                               yr = y_ref.to_vector(), pr = pre_ref.to_vector();
      for (size_t i = 0; i < y.size(); ++i) {
        REQUIRE(pre[i] == doctest::Approx(pr[i]).epsilon(1e-5).scale(1.0));
        REQUIRE(y[i] == doctest::Approx(yr[i]).epsilon(1e-5).scale(1.0));
        REQUIRE(yd[i] == y[i]);
      }
    }
  using ta::testing::error_message;
  CHECK(error_message([&] {
          ta::kernels::linear(x, Tensor::zeros({70, 49}), b, EpilogueActivation::Relu,
                                         ta::kernels::PreActivation::Drop);
        }) == "linear: expected x [..., 49] for weight [70, 49], got [3, 37, 50]");
  CHECK(error_message([&] {
          ta::kernels::linear(x, w, Tensor::zeros({69}), EpilogueActivation::Relu,
                                         ta::kernels::PreActivation::Keep);
        }) == "linear: bias must be [70], got [69]");
}
