// Fused exact softmax attention on the CPU, FlashAttention-style (Dao et al. 2022):
// tiles of queries against tiles of keys, each tile product a small GEMM, with an
// online softmax so that no n_q x n_k matrix is ever stored. Memory is linear in n.
// A pair the mask hides is skipped, never multiplied by a weight of 0, and rows whose
// output gradient is zero are left out of the backward (masked_tiles.h), so a NaN or
// inf reaches no row that may not see it.
#include <cmath>
#include <limits>
#include <vector>

#include <omp.h>

#include "core/cpu/attention/masked_tiles.h"
#include "core/cpu/attention/online_softmax.h"
#include "core/cpu/cpu_backend.h"
#include "core/cpu/parallel.h"
#include "core/fast_math.h"

namespace ta::cpu {

namespace {

constexpr int64_t kTileQ = 64;   // queries per tile
constexpr int64_t kTileK = 128;  // keys per tile
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kPosInf = std::numeric_limits<float>::infinity();

// Where one query tile sits: rows i0 .. i0 + rows - 1 of head `b`.
struct QueryTile {
  int64_t b, i0, rows;
};

// Sets the entries of the keys query `i` may not see to `hidden` (scores: -inf; score
// gradients: 0): keys after its causal limit, and padded keys. Columns are keys
// j0 .. j0 + cols - 1.
inline void mask_row(float* s, int64_t i, int64_t j0, int64_t cols, int64_t shift, bool causal, const float* pad,
                     float hidden) {
  if (causal) {
    const int64_t visible = i + shift - j0 + 1;  // keys j <= i + shift
    for (int64_t c = visible < 0 ? 0 : visible; c < cols; ++c) s[c] = hidden;
  }
  if (pad)
    for (int64_t c = 0; c < cols; ++c)
      if (pad[j0 + c] != 0.0f) s[c] = hidden;
}

// Padded keys among j0 .. j0 + cols - 1: none, some, or all of them.
enum class Padded { None, Some, All };
inline Padded padded_keys(const float* pad, int64_t j0, int64_t cols) {
  if (!pad) return Padded::None;
  int64_t count = 0;
  for (int64_t c = 0; c < cols; ++c) count += pad[j0 + c] != 0.0f;
  return count == 0 ? Padded::None : (count == cols ? Padded::All : Padded::Some);
}

// acc [rows, d] += P [rows, cols] X [cols, d] over the pairs the rows may see: with
// the causal limit, a staircase (row r of the query tile at i0 sees keys up to
// i0 + r + shift, of the key tile at j0), else one product; the padded rows of X
// are already 0 (masked_tiles.h).
inline void visible_product(bool causal, int64_t rows, int64_t d, int64_t cols, int64_t i0, int64_t j0, int64_t shift,
                            float alpha, const float* P, const float* X, float* acc) {
  if (causal)
    staircase_gemm(rows, d, cols, i0 + shift - j0 + 1, alpha, P, cols, X, d, acc, d);
  else
    gemm_tile(Transpose::No, Transpose::No, rows, d, cols, alpha, P, cols, X, d, 1.0f, acc, d);
}

// The keys a query tile can see: [0, end).
inline int64_t key_end(const QueryTile& t, int64_t n_k, int64_t shift, bool causal) {
  if (!causal) return n_k;
  const int64_t end = t.i0 + t.rows + shift;
  return end < 0 ? 0 : (end > n_k ? n_k : end);
}

}  // namespace

// Per query row, over key tiles: m = running max of the scores, l = running sum
// of exp(score - m), acc = running sum of exp(score - m) v. When a new tile raises
// the max to m', the old sums are rescaled by exp(m - m'). At the end
// O = acc / l and lse = m + log l.
void CpuBackend::attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh,
                                   int64_t heads, int64_t n_q, int64_t n_k, int64_t d, float scale, Causality causality,
                                   const float* key_pad) {
  const bool causal = causality == Causality::Causal;
  const int64_t q_tiles = (n_q + kTileQ - 1) / kTileQ, shift = n_k - n_q;
#pragma omp parallel if (bh * q_tiles > 1 && bh * n_q * n_k * d >= kMinParallelWork)
  {
    std::vector<float> s(kTileQ * kTileK), acc(kTileQ * d), m(kTileQ), l(kTileQ), v_buf(kTileK * d);
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < bh * q_tiles; ++task) {
      const QueryTile t{task / q_tiles, (task % q_tiles) * kTileQ,
                        std::min(kTileQ, n_q - (task % q_tiles) * kTileQ)};
      const float* Q = q + (t.b * n_q + t.i0) * d;
      const float* K = k + t.b * n_k * d;
      const float* V = v + t.b * n_k * d;
      const float* pad = key_pad ? key_pad + (t.b / heads) * n_k : nullptr;
      std::fill(m.begin(), m.end(), kNegInf);
      std::fill(l.begin(), l.end(), 0.0f);
      std::fill(acc.begin(), acc.end(), 0.0f);
      const int64_t end = key_end(t, n_k, shift, causal);
      for (int64_t j0 = 0; j0 < end; j0 += kTileK) {
        const int64_t cols = std::min(kTileK, end - j0);
        const Padded padded = padded_keys(pad, j0, cols);
        if (padded == Padded::All) continue;  // nothing here for any row
        const float* Vt = padded == Padded::None ? V + j0 * d
                                                 : without_rows(V + j0 * d, cols, d, v_buf.data(),
                                                                [&](int64_t c) { return pad[j0 + c] != 0.0f; });
        gemm_tile(Transpose::No, Transpose::Yes, t.rows, cols, d, scale, Q, d, K + j0 * d, d, 0.0f, s.data(), cols);
        for (int64_t r = 0; r < t.rows; ++r) {
          float* row = s.data() + r * cols;
          mask_row(row, t.i0 + r, j0, cols, shift, causal, pad, kNegInf);
          online_softmax_step(row, cols, m[r], l[r], acc.data() + r * d, d);
        }
        visible_product(causal, t.rows, d, cols, t.i0, j0, shift, 1.0f, s.data(), Vt, acc.data());
      }
      for (int64_t r = 0; r < t.rows; ++r) {
        float* out = o + (t.b * n_q + t.i0 + r) * d;
        const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
        for (int64_t c = 0; c < d; ++c) out[c] = acc[r * d + c] * inv;
        lse[t.b * n_q + t.i0 + r] = l[r] > 0.0f ? m[r] + std::log(l[r]) : kPosInf;
      }
    }
  }
}

namespace {

// One head's inputs and gradients in the backward (pointers offset to the head).
struct HeadBackward {
  const float *Q, *K, *V, *O, *dO, *L, *pad;
  float *dQ, *dK, *dV;
  int64_t n_q, n_k, d, shift;
  float scale;
  bool causal;
};

// One thread's buffers: P and dP of a tile, delta and the silent rows of a head
// (rows whose dO is zero: left out, masked_tiles.h), and the rows read as 0.
struct BackwardBuffers {
  std::vector<float> p, dp, delta, k_buf, q_buf;
  std::vector<char> silent;
  BackwardBuffers(int64_t n_q, int64_t d)
      : p(kTileQ * kTileK), dp(kTileQ * kTileK), delta(n_q), k_buf(kTileK * d), silent(n_q) {}
};

// One key tile (keys j0 .. j0 + cols - 1; Kt with its padded rows read as 0) against
// the query tile of `rows` rows from i0: recompute P = exp(scale Q K^T - lse), then
//   dV += P^T dO,  dP = dO V^T,  dS = P (dP - delta) (0 where hidden or silent),
//   dQ += scale dS K,  dK += scale dS^T Q   (Q_live: Q with the silent rows read as 0).
void backward_tile(const HeadBackward& h, BackwardBuffers& w, int64_t i0, int64_t rows, int64_t j0, int64_t cols,
                   const float* Kt, const float* Q_live) {
  const int64_t d = h.d;
  float *p = w.p.data(), *dp = w.dp.data();
  gemm_tile(Transpose::No, Transpose::Yes, rows, cols, d, h.scale, h.Q + i0 * d, d, h.K + j0 * d, d, 0.0f, p, cols);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = p + r * cols;
    if (w.silent[i0 + r]) {
      std::fill(row, row + cols, 0.0f);
      continue;
    }
    mask_row(row, i0 + r, j0, cols, h.shift, h.causal, h.pad, kNegInf);
    const float l = h.L[i0 + r];
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) row[c] = fast_exp(row[c] - l);
  }
  gemm_tile(Transpose::Yes, Transpose::No, cols, d, rows, 1.0f, p, cols, h.dO + i0 * d, d, 1.0f, h.dV + j0 * d, d);
  gemm_tile(Transpose::No, Transpose::Yes, rows, cols, d, 1.0f, h.dO + i0 * d, d, h.V + j0 * d, d, 0.0f, dp, cols);
  for (int64_t r = 0; r < rows; ++r) {
    float* ds = dp + r * cols;
    if (w.silent[i0 + r]) {
      std::fill(ds, ds + cols, 0.0f);
      continue;
    }
    const float* pr = p + r * cols;
    const float dl = w.delta[i0 + r];
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) ds[c] = pr[c] * (ds[c] - dl);
    mask_row(ds, i0 + r, j0, cols, h.shift, h.causal, h.pad, 0.0f);
  }
  visible_product(h.causal, rows, d, cols, i0, j0, h.shift, h.scale, dp, Kt, h.dQ + i0 * d);
  gemm_tile(Transpose::Yes, Transpose::No, cols, d, rows, h.scale, dp, cols, Q_live + i0 * d, d, 1.0f, h.dK + j0 * d,
            d);
}

// One head: delta_i = sum_c dO_ic O_ic = sum_j P_ij dP_ij and the silent rows, then per
// key tile, over the query tiles that can see it, backward_tile. A silent row's dQ is 0.
void head_backward(const HeadBackward& h, BackwardBuffers& w) {
  const int64_t n_q = h.n_q, n_k = h.n_k, d = h.d;
  std::fill(h.dQ, h.dQ + n_q * d, 0.0f);
  std::fill(h.dK, h.dK + n_k * d, 0.0f);
  std::fill(h.dV, h.dV + n_k * d, 0.0f);
  bool any_silent = false;
  for (int64_t i = 0; i < n_q; ++i) {
    w.silent[i] = all_zero(h.dO + i * d, d);
    any_silent = any_silent || w.silent[i];
    float s = 0.0f;
    for (int64_t c = 0; c < d && !w.silent[i]; ++c) s += h.dO[i * d + c] * h.O[i * d + c];
    w.delta[i] = s;
  }
  if (any_silent) w.q_buf.resize(n_q * d);
  const float* Q_live =
      any_silent ? without_rows(h.Q, n_q, d, w.q_buf.data(), [&](int64_t i) { return w.silent[i]; }) : h.Q;
  for (int64_t j0 = 0; j0 < n_k; j0 += kTileK) {
    const int64_t cols = std::min(kTileK, n_k - j0);
    const Padded padded = padded_keys(h.pad, j0, cols);
    if (padded == Padded::All) continue;  // dK and dV stay 0
    const float* Kt = padded == Padded::None ? h.K + j0 * d
                                             : without_rows(h.K + j0 * d, cols, d, w.k_buf.data(),
                                                            [&](int64_t c) { return h.pad[j0 + c] != 0.0f; });
    // The first query that sees key j0 is i = j0 - shift (causal).
    const int64_t first = h.causal ? std::max<int64_t>(0, j0 - h.shift) / kTileQ * kTileQ : 0;
    for (int64_t i0 = first; i0 < n_q; i0 += kTileQ)
      backward_tile(h, w, i0, std::min(kTileQ, n_q - i0), j0, cols, Kt, Q_live);
  }
  for (int64_t i = 0; i < n_q && any_silent; ++i)
    if (w.silent[i]) std::fill(h.dQ + i * d, h.dQ + (i + 1) * d, 0.0f);
}

}  // namespace

// Each head is one task (dK and dV of a key tile collect from every query tile,
// dQ of a query tile from every key tile, so splitting a head would race): per key
// tile, over the query tiles that can see it, recompute P from the saved lse, then
// the four products of the backward (head_backward).
void CpuBackend::attention_backward(const float* q, const float* k, const float* v, const float* o, const float* lse,
                                    const float* d_o, float* dq, float* dk, float* dv, int64_t bh, int64_t heads,
                                    int64_t n_q, int64_t n_k, int64_t d, float scale, Causality causality,
                                    const float* key_pad) {
  const bool causal = causality == Causality::Causal;
#pragma omp parallel if (bh > 1 && bh * n_q * n_k * d >= kMinParallelWork)
  {
    BackwardBuffers buffers(n_q, d);
#pragma omp for schedule(dynamic)
    for (int64_t b = 0; b < bh; ++b) {
      const HeadBackward h{q + b * n_q * d,  k + b * n_k * d,  v + b * n_k * d,
                           o + b * n_q * d,  d_o + b * n_q * d, lse + b * n_q,
                           key_pad ? key_pad + (b / heads) * n_k : nullptr,
                           dq + b * n_q * d, dk + b * n_k * d, dv + b * n_k * d,
                           n_q, n_k, d, n_k - n_q, scale, causal};
      head_backward(h, buffers);
    }
  }
}

}  // namespace ta::cpu
