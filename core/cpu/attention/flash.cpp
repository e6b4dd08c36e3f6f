// FLASH attention on the CPU (Hua et al. 2022, "Transformer Quality in Linear Time"):
// mixed chunk attention, quadratic within chunks and linear across them, forward and
// hand-written backward, memory linear in n. The function itself is written out in
// core/attention/flash_options.h; here is how it is computed.
//
// Every product is a GEMM on blocks (gemm_tile: one thread each, inside our own
// parallel loops), and everything else is one pass over a block that is already in
// cache. With w_i, u_i the row weights and P_g the linear state:
//
//   forward   1. per chunk g:          KV_g = Kl_g^T V_g                       [s, e]
//             2. across chunks:        P_g = sum_{h < g} KV_h (causal), or the total
//             3. per query tile of a chunk, over its visible key blocks:
//                                      S = score_scale Qq Kq^T + bias,  A = w relu(S)^2 (masked)
//                                      out = A V + (u Ql) P_g
//   backward  A. per chunk:            dQl = u (dO P_g^T),  D_g = (u Ql)^T dO
//             B. across chunks, in reverse: R_h = sum_{g > h} D_g (the running dP state),
//                                      or the total (bidirectional)
//             C. per chunk:            dKl = V R^T,  dV = Kl R
//             D. per key tile of a chunk, over the query blocks that see it (recomputing S):
//                                      dV += A^T dO,  dS = 2 w relu(S) (dO V^T),
//                                      dKq += score_scale dS^T Qq,  dQq += score_scale dS Kq,
//                                      dbias[j - i] += dS
//
// Memory beyond inputs and outputs: the states P (and D in the backward), n s e / c
// floats each, the row weights (2 n), per-thread tiles, and in the backward one extra
// dQq accumulator per thread after the first (n s each). All linear in n.
//
// Hidden pairs are skipped, not multiplied by 0: the causal products within a chunk
// are staircases, padded rows are read as 0, and the backward leaves out rows whose
// output gradient is zero and a reverse state that is zero (masked_tiles.h).
//
// Determinism: every output row of the forward is computed by one task in a fixed
// order, so the forward does not depend on the thread count. In the backward the key
// tiles go to threads by a fixed rule (below) and the per-thread dQq are added in thread
// order, so a run repeats bit for bit at a given thread count.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/cpu/attention/masked_tiles.h"
#include "core/cpu/cpu_backend.h"
#include "core/cpu/parallel.h"
#include "core/scratch.h"

namespace ta::cpu {

namespace {

constexpr int64_t kTile = 64;    // query rows of a forward task; key rows of a backward task
constexpr int64_t kBlock = 256;  // keys (forward) or queries (backward) per inner step
// Below about this many multiply-adds a call runs on one thread: a parallel region
// costs microseconds, far more than a small call's work (and much more again when
// the cores are shared with other processes).
constexpr int64_t kMinParallelFlops = int64_t{1} << 22;

// One call's geometry: sizes, chunks and where each input lives.
struct Flash {
  int64_t B, n, s, e, c, G, L;
  bool linear, causal;
  int threads;  // for the parallel regions: 1 for small calls
  float score_scale;
  const float *qq, *kq, *ql, *kl, *v, *bias, *pad;

  Flash(const FlashDims& d, const FlashOptions& o, const float* qk, const float* v_, const float* bias_,
        const float* pad_)
      : B(d.batch), n(d.n), s(d.s), e(d.e), c(o.chunk_length(d.n)), G((d.n + c - 1) / c), L(d.bias_len),
        linear(d.linear), causal(o.causal), score_scale(o.score_scale), v(v_), bias(bias_), pad(pad_) {
    const int64_t plane = B * n * s;
    qq = qk;
    kq = qk + plane;
    ql = linear ? qk + 2 * plane : nullptr;
    kl = linear ? qk + 3 * plane : nullptr;
    threads = B * n * c * (s + e) < kMinParallelFlops ? 1 : omp_get_max_threads();
  }
  int64_t begin(int64_t g) const { return g * c; }
  int64_t end(int64_t g) const { return std::min(n, (g + 1) * c); }
  bool padded(int64_t b, int64_t j) const { return pad != nullptr && pad[b * n + j] != 0.0f; }
  // Slots of the linear state per batch element: one per chunk (causal) or the total.
  int64_t state_slots() const { return causal ? G : 1; }
  int64_t tiles() const { return (c + kTile - 1) / kTile; }
};

// Runs chunk_step(b, g, buf) on every chunk g of every batch element b, in parallel,
// each thread with `width` floats of scratch of its own in buf.
template <class ChunkStep>
void for_each_chunk(Backend& backend, const Flash& f, int64_t width, ChunkStep&& chunk_step) {
  Scratch scratch(backend, f.threads * width);
#pragma omp parallel num_threads(f.threads) if (f.threads > 1)
  {
    float* buf = scratch.data() + omp_get_thread_num() * width;
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < f.B * f.G; ++t) chunk_step(t / f.G, t % f.G, buf);
  }
}

// w[b n + i] and u[b n + i], the weights of row i's quadratic and linear parts
// (core/attention/flash_options.h).
void row_weights(const Flash& f, const FlashOptions& o, float* w, float* u) {
  for (int64_t b = 0; b < f.B; ++b) flash_row_weights(f, b, o.scaling, o.lin_scale, w, u);
}

// Rows j0 .. j0 + m - 1 of x [B, n, width] for batch b with the padded positions'
// rows read as 0 (masked_tiles.h): x itself when none is padded, else a copy in buf.
const float* without_padded_rows(const Flash& f, int64_t b, int64_t j0, int64_t m, const float* x, int64_t width,
                                 float* buf) {
  return without_rows(x, m, width, buf, [&](int64_t r) { return f.padded(b, j0 + r); });
}

// The keys among j0 .. j0 + cols - 1 that query i sees: causal, those up to i.
inline int64_t visible_keys(const Flash& f, int64_t i, int64_t j0, int64_t cols) {
  return f.causal ? std::clamp<int64_t>(i - j0 + 1, 0, cols) : cols;
}

// Sets the entries of one row (query i, keys j0 .. j0 + cols - 1) where query i may
// not see key j to exactly 0: after its position (causal), or padded.
inline void hide_row(const Flash& f, float* row, int64_t b, int64_t i, int64_t j0, int64_t cols) {
  std::fill(row + visible_keys(f, i, j0, cols), row + cols, 0.0f);
  if (f.pad)
    for (int64_t c = 0; c < cols; ++c)
      if (f.pad[b * f.n + j0 + c] != 0.0f) row[c] = 0.0f;
}

// Turns one row of scores (score_scale q_i.k_j for keys j0 .. j0 + cols - 1) into
// relu(S + bias(j - i)), set to exactly zero where query i may not see key j. Zeroing
// after the activation, not adding -inf before it, keeps the masked entries out of
// every later sum bit for bit.
inline void relu_row(const Flash& f, float* row, int64_t b, int64_t i, int64_t j0, int64_t cols) {
  if (f.bias) {
    const float* bias = f.bias + (j0 - i + f.L - 1);  // offset j - i, shifted to a table index
    for (int64_t c = 0; c < cols; ++c) row[c] += bias[c];
  }
  for (int64_t c = 0; c < visible_keys(f, i, j0, cols); ++c) row[c] = std::max(row[c], 0.0f);
  hide_row(f, row, b, i, j0, cols);
}

// out [rows, width] += alpha A [rows, cols] X [cols, width] over the pairs the rows see:
// causally a staircase (query i0 + r sees keys up to itself, of those from j0), so a
// hidden key is never read (masked_tiles.h); padded rows of X are already 0.
inline void visible_product(const Flash& f, int64_t rows, int64_t width, int64_t cols, int64_t i0, int64_t j0,
                            float alpha, const float* A, const float* X, float* out) {
  if (f.causal)
    staircase_gemm(rows, width, cols, i0 - j0 + 1, alpha, A, cols, X, width, out, width);
  else
    gemm_tile(Transpose::No, Transpose::No, rows, width, cols, alpha, A, cols, X, width, 1.0f, out, width);
}

// Over the chunks of each batch element, per column of the [s, e] states x[b, g]:
// causal, x[g] <- sum_{h < g} x[h] (forward; reverse: sum_{h > g} x[h]), computed as
// an inclusive running sum shifted by one slot, so that slot g never contains x[g]
// itself; bidirectional, x[0] <- sum_h x[h] (the other slots are left as they are).
void combine_chunks(const Flash& f, float* x, bool reverse) {
  const int64_t width = f.s * f.e, G = f.G;
  parallel_for(width, f.B * G, [&](int64_t k0, int64_t k1) {
    for (int64_t b = 0; b < f.B; ++b) {
      float* base = x + b * G * width;
      auto slot = [&](int64_t g) { return base + (reverse ? G - 1 - g : g) * width; };
      if (!f.causal) {
        for (int64_t g = 1; g < G; ++g)
          for (int64_t k = k0; k < k1; ++k) base[k] += base[g * width + k];
        continue;
      }
      for (int64_t g = 1; g < G; ++g) {  // inclusive running sum
        float *cur = slot(g), *prev = slot(g - 1);
        for (int64_t k = k0; k < k1; ++k) cur[k] += prev[k];
      }
      for (int64_t g = G - 1; g > 0; --g) std::memcpy(slot(g) + k0, slot(g - 1) + k0, (k1 - k0) * sizeof(float));
      std::fill(slot(0) + k0, slot(0) + k1, 0.0f);
    }
  });
}

// Key tiles go to threads in the order 0, 1, .., T-1, T-1, .., 1, 0, 0, 1, ...: the
// tiles of a causal chunk have decreasing work (fewer queries see later keys), and
// this back-and-forth order gives each thread a similar share with a fixed
// assignment.
inline int owner(int64_t task, int team) {
  const int64_t p = task % (2 * team);
  return static_cast<int>(p < team ? p : 2 * team - 1 - p);
}

// ---- the backward, step by step ----------------------------------------------------

// What the steps of the backward share: the output gradient, the row weights, and the
// silent rows, whose output gradient is zero: they take no part (masked_tiles.h).
struct FlashBackward {
  const Flash& f;
  const float* d_out;  // [B, n, e]
  const float *w, *u;  // the row weights
  std::vector<char> silent;  // [B n]
  bool any_silent = false;

  FlashBackward(const Flash& f_, const float* d_out_, const float* w_, const float* u_)
      : f(f_), d_out(d_out_), w(w_), u(u_), silent(f_.B * f_.n) {
    parallel_for(f.B * f.n, f.e, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) silent[i] = all_zero(d_out + i * f.e, f.e);
    });
    any_silent = std::find(silent.begin(), silent.end(), 1) != silent.end();
  }
  bool is_silent(int64_t b, int64_t i) const { return silent[b * f.n + i] != 0; }
};

// A. Per chunk g: dQl = u (dO P_g^T) and D_g = (u Ql)^T dO (the first causal chunk
// has P = 0); a silent row's dQl is 0 and it adds nothing to D_g.
void linear_query_step(Backend& backend, const FlashBackward& bw, const float* state, float* dql, float* D) {
  const Flash& f = bw.f;
  const int64_t n = f.n, s = f.s, e = f.e;
  for_each_chunk(backend, f, f.c * s, [&](int64_t b, int64_t g, float* qlu) {
    const int64_t i0 = f.begin(g), m = f.end(g) - i0;
    const float *dO = bw.d_out + (b * n + i0) * e, *QL = f.ql + (b * n + i0) * s;
    float* dQL = dql + (b * n + i0) * s;
    if (f.causal && g == 0) {
      std::fill(dQL, dQL + m * s, 0.0f);
    } else {
      const float* P = state + (b * f.state_slots() + (f.causal ? g : 0)) * s * e;
      gemm_tile(Transpose::No, Transpose::Yes, m, s, e, 1.0f, dO, e, P, e, 0.0f, dQL, s);
      for (int64_t r = 0; r < m; ++r) {  // 0 for a silent row
        const bool left_out = bw.is_silent(b, i0 + r);
        for (int64_t k = 0; k < s; ++k) dQL[r * s + k] = left_out ? 0.0f : dQL[r * s + k] * bw.u[b * n + i0 + r];
      }
    }
    for (int64_t r = 0; r < m; ++r) {  // a silent row takes no part
      const bool left_out = bw.is_silent(b, i0 + r);
      for (int64_t k = 0; k < s; ++k) qlu[r * s + k] = left_out ? 0.0f : bw.u[b * n + i0 + r] * QL[r * s + k];
    }
    gemm_tile(Transpose::Yes, Transpose::No, s, e, m, 1.0f, qlu, s, dO, e, 0.0f, D + (b * f.G + g) * s * e, e);
  });
}

// C. Per chunk: dKl = V R^T and dV = Kl R, with R the chunk's slot of the reverse
// state. The last causal chunk has R = 0, and a zero R (no later query has a
// gradient) gives zeros without multiplying through.
void linear_key_step(Backend& backend, const Flash& f, const float* R_all, float* dkl, float* dv) {
  const int64_t n = f.n, s = f.s, e = f.e;
  for_each_chunk(backend, f, f.c * s, [&](int64_t b, int64_t g, float* buf) {
    const int64_t j0 = f.begin(g), m = f.end(g) - j0;
    float *dKL = dkl + (b * n + j0) * s, *dV = dv + (b * n + j0) * e;
    const float* R = R_all + (b * f.G + (f.causal ? g : 0)) * s * e;
    if ((f.causal && g == f.G - 1) || all_zero(R, s * e)) {
      std::fill(dKL, dKL + m * s, 0.0f);
      std::fill(dV, dV + m * e, 0.0f);
      return;
    }
    gemm_tile(Transpose::No, Transpose::Yes, m, s, e, 1.0f, f.v + (b * n + j0) * e, e, R, e, 0.0f, dKL, s);
    for (int64_t r = 0; r < m; ++r)
      if (f.padded(b, j0 + r)) std::fill(dKL + r * s, dKL + (r + 1) * s, 0.0f);
    const float* K = without_padded_rows(f, b, j0, m, f.kl + (b * n + j0) * s, s, buf);
    gemm_tile(Transpose::No, Transpose::No, m, e, s, 1.0f, K, s, R, e, 0.0f, dV, e);
  });
}

// A to C: the gradients of the linear part, dQl, dKl and dV's first term. B between
// them: R_h = sum_{g > h} D_g (causal), or the total in slot 0 (bidirectional).
void linear_backward(Backend& backend, const FlashBackward& bw, const float* state, float* dql, float* dkl,
                     float* dv) {
  const Flash& f = bw.f;
  Scratch dstate(backend, f.B * f.G * f.s * f.e);  // D_g, then R_h
  linear_query_step(backend, bw, state, dql, dstate.data());
  combine_chunks(f, dstate.data(), /*reverse=*/true);
  linear_key_step(backend, f, dstate.data(), dkl, dv);
}

// One thread's tiles in the quadratic backward.
struct QuadraticBuffers {
  float *S, *A, *dS, *q_buf, *k_buf;
  static int64_t floats(int64_t s) { return 3 * kBlock * kTile + (kBlock + kTile) * s; }
  QuadraticBuffers(float* p, int64_t s)
      : S(p), A(S + kBlock * kTile), dS(A + kBlock * kTile), q_buf(dS + kBlock * kTile), k_buf(q_buf + kBlock * s) {}
};

// A key tile of the quadratic backward: keys j0 .. j0 + cols - 1 of batch element b.
struct KeyTile {
  int64_t b, j0, cols;
  const float *K, *K_seen, *V;  // K_seen: K with the padded rows read as 0
  float *dK, *dV;
};

// One key tile against the block of `rows` queries from i0, recomputing S:
//   A = w relu(S)^2,  dV += A^T dO,  dS = 2 w relu(S) (dO V^T) (0 where hidden or silent),
//   dKq += score_scale dS^T Qq,  dQq += score_scale dS Kq,  dbias[j - i] += dS.
void quadratic_block(const FlashBackward& bw, const KeyTile& kt, int64_t i0, int64_t rows, const QuadraticBuffers& buf,
                     float* dq, float* db) {
  const Flash& f = bw.f;
  const int64_t n = f.n, s = f.s, e = f.e, b = kt.b, j0 = kt.j0, cols = kt.cols;
  const float *Q = f.qq + (b * n + i0) * s, *dO = bw.d_out + (b * n + i0) * e;
  auto silent_row = [&](int64_t r) { return bw.is_silent(b, i0 + r); };
  const float* Q_live = bw.any_silent ? without_rows(Q, rows, s, buf.q_buf, silent_row) : Q;  // for dKq
  float *S = buf.S, *A = buf.A, *dS = buf.dS;
  gemm_tile(Transpose::No, Transpose::Yes, rows, cols, s, f.score_scale, Q, s, kt.K, s, 0.0f, S, cols);
  for_live_rows(A, rows, cols, silent_row, [&](int64_t r, float* a) {
    float* row = S + r * cols;
    relu_row(f, row, b, i0 + r, j0, cols);
    const float wi = bw.w[b * n + i0 + r];
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) a[c] = wi * row[c] * row[c];
  });
  gemm_tile(Transpose::Yes, Transpose::No, cols, e, rows, 1.0f, A, cols, dO, e, 1.0f, kt.dV, e);
  gemm_tile(Transpose::No, Transpose::Yes, rows, cols, e, 1.0f, dO, e, kt.V, e, 0.0f, dS, cols);
  for_live_rows(dS, rows, cols, silent_row, [&](int64_t r, float* ds) {
    const float* row = S + r * cols;
    const float two_w = 2.0f * bw.w[b * n + i0 + r];
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) ds[c] *= two_w * row[c];
    hide_row(f, ds, b, i0 + r, j0, cols);
    if (f.bias) {
      float* dbias = db + (j0 - (i0 + r) + f.L - 1);
      for (int64_t c = 0; c < cols; ++c) dbias[c] += ds[c];
    }
  });
  gemm_tile(Transpose::Yes, Transpose::No, cols, s, rows, f.score_scale, dS, cols, Q_live, s, 1.0f, kt.dK, s);
  visible_product(f, rows, s, cols, i0, j0, f.score_scale, dS, kt.K_seen, dq + (b * n + i0) * s);
}

// D. The quadratic part per key tile, over the query blocks that see it; the tiles go
// to threads by owner(). Thread 0 accumulates dQq in place, the others in buffers of
// their own, added afterwards in thread order, as are the per-thread bias gradients
// (added into drel_bias).
void quadratic_backward(Backend& backend, const FlashBackward& bw, float* dqq, float* dkq, float* dv,
                        float* drel_bias) {
  const Flash& f = bw.f;
  const int64_t n = f.n, s = f.s, e = f.e, plane = f.B * n * s, bias_size = f.bias ? 2 * f.L - 1 : 0;
  const int nt = f.threads;
  Scratch dq_more(backend, (nt - 1) * plane), db_all(backend, nt * bias_size);
  Scratch tiles_buf(backend, nt * QuadraticBuffers::floats(s));
  const int64_t tiles = f.tiles(), tasks = f.B * f.G * tiles;
  int team_size = 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
#pragma omp single
    team_size = team;
    float* dq = t == 0 ? dqq : dq_more.data() + (t - 1) * plane;
    float* db = db_all.data() + t * bias_size;
    std::fill(dq, dq + plane, 0.0f);
    std::fill(db, db + bias_size, 0.0f);
    const QuadraticBuffers buf(tiles_buf.data() + t * QuadraticBuffers::floats(s), s);
    for (int64_t task = 0; task < tasks; ++task) {
      if (owner(task, team) != t) continue;
      const int64_t b = task / (f.G * tiles), g = (task / tiles) % f.G, j0 = f.begin(g) + (task % tiles) * kTile;
      if (j0 >= f.end(g)) continue;
      KeyTile kt{b, j0, std::min(kTile, f.end(g) - j0), f.kq + (b * n + j0) * s, nullptr, f.v + (b * n + j0) * e,
                 dkq + (b * n + j0) * s, dv + (b * n + j0) * e};
      kt.K_seen = without_padded_rows(f, b, j0, kt.cols, kt.K, s, buf.k_buf);  // for dQq
      std::fill(kt.dK, kt.dK + kt.cols * s, 0.0f);
      for (int64_t i0 = f.causal ? j0 : f.begin(g); i0 < f.end(g); i0 += kBlock)
        quadratic_block(bw, kt, i0, std::min(kBlock, f.end(g) - i0), buf, dq, db);
    }
  }
  if (team_size > 1)
    parallel_for(plane, team_size, [&](int64_t k0, int64_t k1) {
      for (int t = 1; t < team_size; ++t) {
        const float* more = dq_more.data() + (t - 1) * plane;
        for (int64_t k = k0; k < k1; ++k) dqq[k] += more[k];
      }
    });
  if (drel_bias)
    for (int t = 0; t < team_size; ++t)
      for (int64_t k = 0; k < bias_size; ++k) drel_bias[k] += db_all.data()[t * bias_size + k];
}

}  // namespace

void CpuBackend::flash_forward(const FlashDims& dims, const FlashOptions& options, const float* qk, const float* v,
                               const float* rel_bias, const float* key_pad, float* out, float* state) {
  const Flash f(dims, options, qk, v, rel_bias, key_pad);
  if (f.n == 0) return;
  const int64_t n = f.n, s = f.s, e = f.e, nt = f.threads;
  Scratch weights(*this, 2 * f.B * n);
  float *w = weights.data(), *u = w + f.B * n;
  row_weights(f, options, w, u);

  if (f.linear) {
    // 1. KV_g per chunk (bidirectional: into scratch, then totalled into state).
    Scratch per_chunk(*this, f.causal ? 1 : f.B * f.G * s * e);
    float* kv = f.causal ? state : per_chunk.data();
    for_each_chunk(*this, f, f.c * (s + e), [&](int64_t b, int64_t g, float* buf) {
      const int64_t j0 = f.begin(g), m = f.end(g) - j0;
      const float* K = without_padded_rows(f, b, j0, m, f.kl + (b * n + j0) * s, s, buf);
      const float* V = without_padded_rows(f, b, j0, m, v + (b * n + j0) * e, e, buf + f.c * s);
      gemm_tile(Transpose::Yes, Transpose::No, s, e, m, 1.0f, K, s, V, e, 0.0f, kv + (b * f.G + g) * s * e, e);
    });
    // 2. Across chunks.
    combine_chunks(f, kv, /*reverse=*/false);
    if (!f.causal)
      for (int64_t b = 0; b < f.B; ++b) std::memcpy(state + b * s * e, kv + b * f.G * s * e, s * e * sizeof(float));
  }

  // 3. Quadratic part per query tile, then the linear part from the state.
  const int64_t tiles = f.tiles(), per_thread = kTile * kBlock + kTile * s + kBlock * e;
  Scratch scratch(*this, nt * per_thread);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    float* S = scratch.data() + omp_get_thread_num() * per_thread;
    float *qlu = S + kTile * kBlock, *v_buf = qlu + kTile * s;
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < f.B * f.G * tiles; ++t) {
      const int64_t b = t / (f.G * tiles), g = (t / tiles) % f.G, i0 = f.begin(g) + (t % tiles) * kTile;
      if (i0 >= f.end(g)) continue;
      const int64_t rows = std::min(kTile, f.end(g) - i0), key_end = f.causal ? i0 + rows : f.end(g);
      const float* Q = f.qq + (b * n + i0) * s;
      float* O = out + (b * n + i0) * e;
      std::fill(O, O + rows * e, 0.0f);
      for (int64_t j0 = f.begin(g); j0 < key_end; j0 += kBlock) {
        const int64_t cols = std::min(kBlock, key_end - j0);
        gemm_tile(Transpose::No, Transpose::Yes, rows, cols, s, f.score_scale, Q, s, f.kq + (b * n + j0) * s, s,
                  0.0f, S, cols);
        for (int64_t r = 0; r < rows; ++r) {
          float* row = S + r * cols;
          relu_row(f, row, b, i0 + r, j0, cols);
          const float wi = w[b * n + i0 + r];
#pragma omp simd
          for (int64_t c = 0; c < cols; ++c) row[c] = wi * row[c] * row[c];
        }
        const float* V = without_padded_rows(f, b, j0, cols, v + (b * n + j0) * e, e, v_buf);
        visible_product(f, rows, e, cols, i0, j0, 1.0f, S, V, O);
      }
      if (f.linear && !(f.causal && g == 0)) {  // the first chunk has nothing before it
        const float* P = state + (b * f.state_slots() + (f.causal ? g : 0)) * s * e;
        const float* QL = f.ql + (b * n + i0) * s;
        for (int64_t r = 0; r < rows; ++r) {
          const float ui = u[b * n + i0 + r];
          for (int64_t k = 0; k < s; ++k) qlu[r * s + k] = ui * QL[r * s + k];
        }
        gemm_tile(Transpose::No, Transpose::No, rows, e, s, 1.0f, qlu, s, P, e, 1.0f, O, e);
      }
    }
  }
}

// The steps A to D of the header, each a function above: the linear part (A, B, C)
// when there is one, then the quadratic part (D), which adds its dV to the linear
// part's. A silent row's query gradient is 0 (masked_tiles.h).
void CpuBackend::flash_backward(const FlashDims& dims, const FlashOptions& options, const float* qk, const float* v,
                                const float* rel_bias, const float* key_pad, const float* state, const float* d_out,
                                float* dqk, float* dv, float* drel_bias) {
  const Flash f(dims, options, qk, v, rel_bias, key_pad);
  const int64_t plane = f.B * f.n * f.s;
  if (drel_bias) std::fill(drel_bias, drel_bias + (f.bias ? 2 * f.L - 1 : 0), 0.0f);
  if (f.n == 0) return;
  Scratch weights(*this, 2 * f.B * f.n);
  float *w = weights.data(), *u = w + f.B * f.n;
  row_weights(f, options, w, u);
  const FlashBackward bw(f, d_out, w, u);
  if (f.linear)
    linear_backward(*this, bw, state, dqk + 2 * plane, dqk + 3 * plane, dv);
  else
    fill(dv, f.B * f.n * f.e, 0.0f);
  quadratic_backward(*this, bw, dqk, dqk + plane, dv, drel_bias);
  for (int64_t i = 0; i < f.B * f.n && bw.any_silent; ++i)
    if (bw.silent[i]) std::fill(dqk + i * f.s, dqk + (i + 1) * f.s, 0.0f);
}

void CpuBackend::scale_offset(const float* z, const float* gamma, const float* beta, float* y, int64_t rows,
                              int64_t planes, int64_t s) {
  parallel_for(rows, planes * s, [&](int64_t r0, int64_t r1) {
    for (int64_t p = 0; p < planes; ++p) {
      const float *g = gamma + p * s, *bt = beta + p * s;
      float* yp = y + p * rows * s;
      for (int64_t r = r0; r < r1; ++r)
#pragma omp simd
        for (int64_t k = 0; k < s; ++k) yp[r * s + k] = z[r * s + k] * g[k] + bt[k];
    }
  });
}

// dz row by row; dgamma and dbeta as per-thread partial sums over fixed row ranges,
// added in thread order (the same result on every run at a given thread count).
void CpuBackend::scale_offset_backward(const float* z, const float* gamma, const float* dy, float* dz, float* dgamma,
                                       float* dbeta, int64_t rows, int64_t planes, int64_t s) {
  const int nt = rows * planes * s < kMinParallelWork ? 1 : omp_get_max_threads();
  const int64_t width = planes * s;
  Scratch partial(*this, nt * 2 * width);
  int team_size = 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
#pragma omp single
    team_size = team;
    const int64_t per = (rows + team - 1) / team, r0 = std::min(rows, t * per), r1 = std::min(rows, r0 + per);
    float *pg = partial.data() + t * 2 * width, *pb = pg + width;
    std::fill(pg, pg + 2 * width, 0.0f);
    for (int64_t r = r0; r < r1; ++r) {
      float* dzr = dz + r * s;
      const float* zr = z + r * s;
      std::fill(dzr, dzr + s, 0.0f);
      for (int64_t p = 0; p < planes; ++p) {
        const float *dyr = dy + (p * rows + r) * s, *g = gamma + p * s;
        float *pgp = pg + p * s, *pbp = pb + p * s;
#pragma omp simd
        for (int64_t k = 0; k < s; ++k) {
          dzr[k] += dyr[k] * g[k];
          pgp[k] += dyr[k] * zr[k];
          pbp[k] += dyr[k];
        }
      }
    }
  }
  std::fill(dgamma, dgamma + width, 0.0f);
  std::fill(dbeta, dbeta + width, 0.0f);
  for (int t = 0; t < team_size; ++t)
    for (int64_t k = 0; k < width; ++k) {
      dgamma[k] += partial.data()[t * 2 * width + k];
      dbeta[k] += partial.data()[t * 2 * width + width + k];
    }
}

}  // namespace ta::cpu
