// Fused exact softmax attention on the CPU, FlashAttention-style (Dao et al. 2022):
// tiles of queries against tiles of keys, each tile product a small GEMM, with an
// online softmax so that no n_q x n_k matrix is ever stored. Memory is linear in n.
// A pair the mask hides is skipped, never multiplied by a weight of 0, and rows whose
// output gradient is zero are left out of the backward (masked_tiles.h), so a NaN or
// inf reaches no row that may not see it. Each tile is packed for the micro-kernel once
// (gemm/packed_operand.h): key and value tiles once for all query tiles, query tiles
// once for all key tiles.
#include <cmath>
#include <limits>
#include <vector>

#include <omp.h>

#include "core/cpu/attention/masked_tiles.h"
#include "core/cpu/attention/online_softmax.h"
#include "core/cpu/cpu_backend.h"
#include "core/cpu/gemm/packed_operand.h"
#include "core/cpu/parallel.h"
#include "core/fast_math.h"

namespace ta::cpu {

namespace {

// 96 query rows: eight slivers of the AVX-512 micro-kernel's 12 rows (sixteen of the
// AVX2 kernel's 6), where 64 left the last sliver a third full in three of the
// backward's five products and both of the forward's (1 thread, n = 4096: 191-201 ms
// against 207-221 fwd+bwd, alternating runs of build/bench attention).
constexpr int64_t kTileQ = 96;   // queries per tile
// 256 keys: at n = 16384 the backward passes over a head's packed query tiles once per
// key tile, and 128 made that twice the memory traffic (2 threads: 1,467-1,522 ms
// against 1,614-1,686 with 128; the same at n = 4096).
constexpr int64_t kTileK = 256;  // keys per tile
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

// Whether the causal limit cuts into the key tile at j0 for some row of the query tile
// at i0 (row r sees keys up to i0 + r + shift): then the tile's products are a
// staircase (masked_tiles.h), else whole products.
inline bool on_causal_diagonal(bool causal, int64_t i0, int64_t j0, int64_t cols, int64_t shift) {
  return causal && i0 + shift - j0 + 1 < cols;
}

// acc [rows, d] += alpha P [rows, cols] X [cols, d] over the pairs the rows may see:
// on the causal diagonal a staircase from the unpacked P and X, else one product of P
// (packed here into p_packed) and X packed beforehand; the padded rows of X are
// already 0 (masked_tiles.h).
inline void visible_product(bool diagonal, int64_t rows, int64_t d, int64_t cols, int64_t first, float alpha,
                            const float* P, const float* X, const PackedOperand& X_packed, PackedOperand& p_packed,
                            float* acc) {
  if (diagonal) return staircase_gemm(rows, d, cols, first, alpha, P, cols, X, d, acc, d);
  p_packed.pack(Factor::Left, Transpose::No, rows, cols, P, cols);
  gemm_packed(rows, d, cols, alpha, p_packed, X_packed, 1.0f, acc, d);
}

// The keys a query tile can see: [0, end).
inline int64_t key_end(const QueryTile& t, int64_t n_k, int64_t shift, bool causal) {
  if (!causal) return n_k;
  const int64_t end = t.i0 + t.rows + shift;
  return end < 0 ? 0 : (end > n_k ? n_k : end);
}

// The key tiles of every head packed once, for all query tiles: K_j^T, the right
// factor of the scores, and V_j (its padded rows read as 0), the right factor of P V.
// Tile j of head b is entry b * tiles + j; a tile whose keys are all padded is empty.
struct PackedKeyTiles {
  int64_t tiles;
  std::vector<PackedOperand> keys_t, values;
};

PackedKeyTiles pack_key_tiles(const float* k, const float* v, int64_t bh, int64_t heads, int64_t n_k, int64_t d,
                              const float* key_pad, bool parallel) {
  PackedKeyTiles packed{(n_k + kTileK - 1) / kTileK, {}, {}};
  packed.keys_t.resize(bh * packed.tiles);
  packed.values.resize(bh * packed.tiles);
#pragma omp parallel if (parallel)
  {
    std::vector<float> v_buf(kTileK * d);
#pragma omp for schedule(static)
    for (int64_t task = 0; task < bh * packed.tiles; ++task) {
      const int64_t b = task / packed.tiles, j0 = (task % packed.tiles) * kTileK, cols = std::min(kTileK, n_k - j0);
      const float* pad = key_pad ? key_pad + (b / heads) * n_k : nullptr;
      if (padded_keys(pad, j0, cols) == Padded::All) continue;
      const float* K = k + (b * n_k + j0) * d;
      const float* V = without_rows(v + (b * n_k + j0) * d, cols, d, v_buf.data(),
                                    [&](int64_t c) { return pad && pad[j0 + c] != 0.0f; });
      packed.keys_t[task].pack(Factor::Right, Transpose::Yes, cols, d, K, d);
      packed.values[task].pack(Factor::Right, Transpose::No, d, cols, V, d);
    }
  }
  return packed;
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
  const bool parallel = bh * q_tiles > 1 && bh * n_q * n_k * d >= kMinParallelWork;
  const PackedKeyTiles packed = pack_key_tiles(k, v, bh, heads, n_k, d, key_pad, parallel);
#pragma omp parallel if (parallel)
  {
    std::vector<float> s(kTileQ * kTileK), acc(kTileQ * d), m(kTileQ), l(kTileQ), v_buf(kTileK * d);
    PackedOperand q_packed, p_packed;
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < bh * q_tiles; ++task) {
      const QueryTile t{task / q_tiles, (task % q_tiles) * kTileQ,
                        std::min(kTileQ, n_q - (task % q_tiles) * kTileQ)};
      const float* V = v + t.b * n_k * d;
      const float* pad = key_pad ? key_pad + (t.b / heads) * n_k : nullptr;
      q_packed.pack(Factor::Left, Transpose::No, t.rows, d, q + (t.b * n_q + t.i0) * d, d);
      std::fill(m.begin(), m.end(), kNegInf);
      std::fill(l.begin(), l.end(), 0.0f);
      std::fill(acc.begin(), acc.end(), 0.0f);
      const int64_t end = key_end(t, n_k, shift, causal);
      for (int64_t j0 = 0; j0 < end; j0 += kTileK) {
        const int64_t cols = std::min(kTileK, end - j0), tile = t.b * packed.tiles + j0 / kTileK;
        if (padded_keys(pad, j0, cols) == Padded::All) continue;  // nothing here for any row
        gemm_packed(t.rows, cols, d, scale, q_packed, packed.keys_t[tile], 0.0f, s.data(), cols);
        for (int64_t r = 0; r < t.rows; ++r) {
          float* row = s.data() + r * cols;
          mask_row(row, t.i0 + r, j0, cols, shift, causal, pad, kNegInf);
          online_softmax_step(row, cols, m[r], l[r], acc.data() + r * d, d);
        }
        const bool diagonal = on_causal_diagonal(causal, t.i0, j0, cols, shift);
        const float* Vt = !diagonal ? nullptr
                                    : without_rows(V + j0 * d, cols, d, v_buf.data(),
                                                   [&](int64_t c) { return pad && pad[j0 + c] != 0.0f; });
        visible_product(diagonal, t.rows, d, cols, t.i0 + shift - j0 + 1, 1.0f, s.data(), Vt, packed.values[tile],
                        p_packed, acc.data());
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

// The query tiles of one head packed once, for all key tiles: Q_i as the left factor of
// the scores, dO_i as the left factor of dP and the right factor of dV, Q_i (silent
// rows read as 0) as the right factor of dK.
struct PackedQueryTile {
  PackedOperand q, d_o, d_o_right, q_live_right;
};

// A key tile packed once, for all query tiles: K_j^T and V_j^T as the right factors of
// the scores and of dP, K_j (padded rows read as 0) as the right factor of dQ. And the
// tiles computed per product: P^T for dV, dS for dQ, dS^T for dK.
struct PackedKeyTile {
  PackedOperand k_t, v_t, k, p_t, ds, ds_t;
};

// One thread's buffers: P and dP of a tile, delta and the silent rows of a head
// (rows whose dO is zero: left out, masked_tiles.h), the rows read as 0, the packed tiles.
struct BackwardBuffers {
  std::vector<float> p, dp, delta, k_buf, q_buf;
  std::vector<char> silent;
  std::vector<PackedQueryTile> queries;
  PackedKeyTile keys;
  BackwardBuffers(int64_t n_q, int64_t d)
      : p(kTileQ * kTileK),
        dp(kTileQ * kTileK),
        delta(n_q),
        k_buf(kTileK * d),
        silent(n_q),
        queries((n_q + kTileQ - 1) / kTileQ) {}
};

// One key tile (keys j0 .. j0 + cols - 1; Kt with its padded rows read as 0) against
// the query tile of `rows` rows from i0: recompute P = exp(scale Q K^T - lse), then
//   dV += P^T dO,  dP = dO V^T,  dS = P (dP - delta) (0 where hidden or silent),
//   dQ += scale dS K,  dK += scale dS^T Q   (Q_live: Q with the silent rows read as 0).
void backward_tile(const HeadBackward& h, BackwardBuffers& w, int64_t i0, int64_t rows, int64_t j0, int64_t cols,
                   const float* Kt) {
  const int64_t d = h.d;
  float *p = w.p.data(), *dp = w.dp.data();
  const PackedQueryTile& query = w.queries[i0 / kTileQ];
  PackedKeyTile& key = w.keys;
  gemm_packed(rows, cols, d, h.scale, query.q, key.k_t, 0.0f, p, cols);
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
  key.p_t.pack(Factor::Left, Transpose::Yes, cols, rows, p, cols);
  gemm_packed(cols, d, rows, 1.0f, key.p_t, query.d_o_right, 1.0f, h.dV + j0 * d, d);
  gemm_packed(rows, cols, d, 1.0f, query.d_o, key.v_t, 0.0f, dp, cols);
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
  visible_product(on_causal_diagonal(h.causal, i0, j0, cols, h.shift), rows, d, cols, i0 + h.shift - j0 + 1,
                  h.scale, dp, Kt, key.k, key.ds, h.dQ + i0 * d);
  key.ds_t.pack(Factor::Left, Transpose::Yes, cols, rows, dp, cols);
  gemm_packed(cols, d, rows, h.scale, key.ds_t, query.q_live_right, 1.0f, h.dK + j0 * d, d);
}

// One head: delta_i = sum_c dO_ic O_ic = sum_j P_ij dP_ij and the silent rows, the
// query tiles packed, then per key tile (packed), over the query tiles that can see
// it, backward_tile. A silent row's dQ is 0.
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
  for (int64_t i0 = 0; i0 < n_q; i0 += kTileQ) {
    const int64_t rows = std::min(kTileQ, n_q - i0);
    PackedQueryTile& query = w.queries[i0 / kTileQ];
    query.q.pack(Factor::Left, Transpose::No, rows, d, h.Q + i0 * d, d);
    query.d_o.pack(Factor::Left, Transpose::No, rows, d, h.dO + i0 * d, d);
    query.d_o_right.pack(Factor::Right, Transpose::No, d, rows, h.dO + i0 * d, d);
    query.q_live_right.pack(Factor::Right, Transpose::No, d, rows, Q_live + i0 * d, d);
  }
  for (int64_t j0 = 0; j0 < n_k; j0 += kTileK) {
    const int64_t cols = std::min(kTileK, n_k - j0);
    const Padded padded = padded_keys(h.pad, j0, cols);
    if (padded == Padded::All) continue;  // dK and dV stay 0
    const float* Kt = padded == Padded::None ? h.K + j0 * d
                                             : without_rows(h.K + j0 * d, cols, d, w.k_buf.data(),
                                                            [&](int64_t c) { return h.pad[j0 + c] != 0.0f; });
    w.keys.k_t.pack(Factor::Right, Transpose::Yes, cols, d, h.K + j0 * d, d);
    w.keys.v_t.pack(Factor::Right, Transpose::Yes, cols, d, h.V + j0 * d, d);
    w.keys.k.pack(Factor::Right, Transpose::No, d, cols, Kt, d);
    // The first query that sees key j0 is i = j0 - shift (causal).
    const int64_t first = h.causal ? std::max<int64_t>(0, j0 - h.shift) / kTileQ * kTileQ : 0;
    for (int64_t i0 = first; i0 < n_q; i0 += kTileQ) backward_tile(h, w, i0, std::min(kTileQ, n_q - i0), j0, cols, Kt);
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
