// Block-sparse attention on the CPU (Sparse Transformer, Child et al. 2019).
//
// The algorithm of the fused exact attention (dense.cpp): an online softmax
// over key blocks in the forward, and a backward that recomputes each block's
// probabilities from the saved row log-sum-exps. The difference is which blocks
// are visited: only the active blocks of a BlockSparseLayout (core/attention/types.h), with
// the pairs a partially covered block does not allow masked to -inf. Every product
// is a small GEMM (gemm_tile) over one block row and a strip of consecutive active
// key blocks. Time is proportional to the active blocks, memory to the outputs
// plus one set of tiles and one row of state per thread.
//
// A part of a layout may put its query rows and keys in any order (strided
// attention groups positions by residue mod l), so the rows of a block are read
// through the part's lists: a block whose rows are consecutive is used in place,
// any other is first gathered into a tile (b x d copies, small next to the block's
// b x b x d products).
//
// A partially covered block hides scattered pairs, so the products with P and dS
// stay one GEMM per strip, over values and keys whose rows holding a NaN or inf (and
// padded rows) are read as 0: a weight of 0 then meets a 0, never a NaN, and the rows
// that may see such a key are set to NaN after the product (mark_rows_seeing). Rows
// whose output gradient is zero are left out of the backward (masked_tiles.h). So a
// NaN or inf reaches no row that may not see it.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
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

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kPosInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

using Part = BlockSparseLayout::Part;

const BlockSparseLayout::Pattern& pattern_of(const BlockSparseLayout& layout, int64_t row, int64_t heads) {
  return layout.patterns[static_cast<size_t>(row % heads) % layout.patterns.size()];
}

int64_t query_blocks(const Part& part, int64_t b) { return (static_cast<int64_t>(part.queries.size()) + b - 1) / b; }

bool consecutive(const int32_t* list, int64_t count) {
  for (int64_t r = 1; r < count; ++r)
    if (list[r] != list[0] + r) return false;
  return true;
}

// Rows list[0 .. count) of x [*, d]: in place when they are consecutive, else
// copied into `tile`.
const float* rows_of(const float* x, const int32_t* list, int64_t count, int64_t d, float* tile) {
  if (consecutive(list, count)) return x + static_cast<int64_t>(list[0]) * d;
  for (int64_t r = 0; r < count; ++r)
    std::memcpy(tile + r * d, x + static_cast<int64_t>(list[r]) * d, d * sizeof(float));
  return tile;
}

// dst rows list[r] += tile row r.
void add_rows(const float* tile, const int32_t* list, int64_t count, int64_t d, float* dst) {
  for (int64_t r = 0; r < count; ++r) {
    float* out = dst + static_cast<int64_t>(list[r]) * d;
    const float* in = tile + r * d;
#pragma omp simd
    for (int64_t c = 0; c < d; ++c) out[c] += in[c];
  }
}

// Whether a call is worth threads: more than one head, and about as much work as
// parallel.h asks of a loop (active blocks x b^2 x d, averaged over the patterns).
bool worth_threads(const BlockSparseLayout& layout, int64_t bh, int64_t d) {
  int64_t blocks = 0;
  for (const auto& pattern : layout.patterns)
    for (const Part& part : pattern.parts) blocks += static_cast<int64_t>(part.col.size());
  const int64_t per_head = blocks / static_cast<int64_t>(layout.patterns.size());
  return bh > 1 && bh * per_head * layout.block * layout.block * d >= kMinParallelWork;
}

// Runs of active key blocks J, J + 1, ... of one block row are computed as one
// strip: one wider product over up to kStripKeys keys instead of one per block, so
// that each GEMM call has enough work to pay for its setup (OpenBLAS packs its
// operands on every call). The band of strided A1, for one, is a run of l/b + 1.
constexpr int64_t kStripKeys = 128;

int64_t strip_blocks(int64_t b) { return std::max<int64_t>(1, kStripKeys / b); }

// Active blocks first .. last - 1 of a part (consecutive key blocks of one block
// row), over keys keys[0 .. cols).
struct Strip {
  const int32_t* keys;
  int64_t cols;
  int64_t first, last;
};

// Calls f(strip) for the strips of the active blocks [begin, end) of a block row.
template <class F>
void for_each_strip(const Part& part, int64_t b, int64_t begin, int64_t end, F&& f) {
  const int64_t n_keys = static_cast<int64_t>(part.keys.size());
  for (int64_t a = begin; a < end;) {
    int64_t e = a + 1;
    while (e < end && e - a < strip_blocks(b) && part.col[e] == part.col[e - 1] + 1) ++e;
    const int64_t k0 = static_cast<int64_t>(part.col[a]) * b;
    f(Strip{part.keys.data() + k0, std::min(n_keys, static_cast<int64_t>(part.col[e - 1]) * b + b) - k0, a, e});
    a = e;
  }
}

// The bit masks of a partially covered block a (one word per query row), or null
// when the block is fully covered.
const uint64_t* block_mask(const Part& part, int64_t a, int64_t b) {
  return part.mask[a] < 0 ? nullptr : part.masks.data() + static_cast<int64_t>(part.mask[a]) * b;
}

// The first column of block a in its strip.
int64_t strip_column(const Strip& st, const Part& part, int64_t a, int64_t b) {
  return static_cast<int64_t>(part.col[a] - part.col[st.first]) * b;
}

// Sets the entries s [rows, cols] of the pairs the strip's blocks do not allow, and of
// padded keys, to `hidden` (scores: -inf; score gradients: 0).
void mask_scores(float* s, int64_t rows, const Strip& st, const Part& part, int64_t b, const float* pad, float hidden) {
  for (int64_t a = st.first; a < st.last; ++a) {
    const uint64_t* bits = block_mask(part, a, b);
    if (!bits) continue;
    const int64_t c0 = strip_column(st, part, a, b), width = std::min(b, st.cols - c0);
    for (int64_t r = 0; r < rows; ++r) {
      float* row = s + r * st.cols + c0;
      for (int64_t c = 0; c < width; ++c)
        if (!((bits[r] >> c) & 1u)) row[c] = hidden;
    }
  }
  if (pad)
    for (int64_t c = 0; c < st.cols; ++c)
      if (pad[st.keys[c]] != 0.0f)
        for (int64_t r = 0; r < rows; ++r) s[r * st.cols + c] = hidden;
}

// The rows of x [*, d] for the strip's keys (in place, or gathered into tile), with
// the rows of padded keys, and of keys whose row holds a NaN or inf, read as 0; the
// latter, when not padded, are listed in `unfinite` (strip columns). A product with
// these rows meets no NaN through a weight of 0; the rows that see a listed key are
// the caller's to mark (mark_rows_seeing).
const float* finite_strip_rows(const float* x, const Strip& st, int64_t d, float* tile, const float* pad,
                               std::vector<int64_t>& unfinite) {
  const float* rows = rows_of(x, st.keys, st.cols, d, tile);
  unfinite.clear();
  std::array<bool, kStripKeys> zeroed{};
  bool any = false;
  for (int64_t c = 0; c < st.cols; ++c) {
    const bool padded = pad && pad[st.keys[c]] != 0.0f, finite = all_finite(rows + c * d, d);
    if (!finite && !padded) unfinite.push_back(c);
    zeroed[c] = padded || !finite;
    any = any || zeroed[c];
  }
  if (!any) return rows;
  if (rows != tile) std::memcpy(tile, rows, static_cast<size_t>(st.cols * d) * sizeof(float));
  for (int64_t c = 0; c < st.cols; ++c)
    if (zeroed[c]) std::fill(tile + c * d, tile + (c + 1) * d, 0.0f);
  return tile;
}

// Sets to NaN the rows of out [rows, d] that may see one of the strip's keys
// `unfinite` (whose values a product read as 0): the blocks' masks say which.
void mark_rows_seeing(const std::vector<int64_t>& unfinite, const Strip& st, const Part& part, int64_t b,
                      int64_t rows, int64_t d, float* out) {
  for (int64_t c : unfinite) {
    const uint64_t* bits = block_mask(part, st.first + c / b, b);  // the strip's blocks are consecutive
    for (int64_t r = 0; r < rows; ++r)
      if (!bits || ((bits[r] >> (c % b)) & 1u)) std::fill(out + r * d, out + (r + 1) * d, kNaN);
  }
}

// Per-thread tiles: scores b x (strip keys), query rows b x d, key rows (strip keys) x d;
// the strip columns whose keys or values held a NaN or inf.
struct Tiles {
  std::vector<float> s, dp, q, q_live, o, acc, k, k_finite, v, tmp, m, l;
  std::vector<int64_t> unfinite;
  Tiles(int64_t b, int64_t d)
      : s(b * b * strip_blocks(b)),
        dp(s.size()),
        q(b * d),
        q_live(b * d),
        o(b * d),
        acc(b * d),
        k(b * strip_blocks(b) * d),
        k_finite(k.size()),
        v(k.size()),
        tmp(k.size()),
        m(b),
        l(b) {}
};

}  // namespace

// The online softmax of dense.cpp, with its running state kept per query row
// of the head: o holds the running sum acc = sum exp(s - m) v, lse the running max
// m, and l_sum the running sum of exp(s - m). The parts of the head's pattern run
// one after another; for each query block of a part, its rows' state is loaded,
// its active key blocks are folded in, and the state is stored back. At the end
// O = acc / l and lse = m + log l. Each head is one task: the parts order the rows
// differently, so splitting a head would need a barrier between parts.
void CpuBackend::block_sparse_attention_forward(const float* q, const float* k, const float* v, float* o, float* lse,
                                                int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d,
                                                float scale, const BlockSparseLayout& layout, const float* key_pad) {
  const int64_t b = layout.block;
#pragma omp parallel if (worth_threads(layout, bh, d))
  {
    Tiles t(b, d);
    std::vector<float> l_sum(n_q);
#pragma omp for schedule(dynamic)
    for (int64_t h = 0; h < bh; ++h) {
      const float *Qh = q + h * n_q * d, *K = k + h * n_k * d, *V = v + h * n_k * d;
      const float* pad = key_pad ? key_pad + (h / heads) * n_k : nullptr;
      float *O = o + h * n_q * d, *M = lse + h * n_q, *L = l_sum.data();
      std::fill(O, O + n_q * d, 0.0f);
      std::fill(M, M + n_q, kNegInf);
      std::fill(L, L + n_q, 0.0f);
      for (const Part& part : pattern_of(layout, h, heads).parts) {
        for (int64_t I = 0; I < query_blocks(part, b); ++I) {
          if (part.row_begin[I] == part.row_begin[I + 1]) continue;
          const int32_t* rows_list = part.queries.data() + I * b;
          const int64_t rows = std::min<int64_t>(b, static_cast<int64_t>(part.queries.size()) - I * b);
          const float* Q = rows_of(Qh, rows_list, rows, d, t.q.data());
          for (int64_t r = 0; r < rows; ++r) {
            t.m[r] = M[rows_list[r]];
            t.l[r] = L[rows_list[r]];
            std::memcpy(t.acc.data() + r * d, O + static_cast<int64_t>(rows_list[r]) * d, d * sizeof(float));
          }
          for_each_strip(part, b, part.row_begin[I], part.row_begin[I + 1], [&](const Strip& st) {
            const int64_t cols = st.cols;
            const float* Ks = rows_of(K, st.keys, cols, d, t.k.data());
            const float* Vs = finite_strip_rows(V, st, d, t.v.data(), pad, t.unfinite);
            float* s = t.s.data();
            gemm_tile(Transpose::No, Transpose::Yes, rows, cols, d, scale, Q, d, Ks, d, 0.0f, s, cols);
            mask_scores(s, rows, st, part, b, pad, kNegInf);
            for (int64_t r = 0; r < rows; ++r)
              online_softmax_step(s + r * cols, cols, t.m[r], t.l[r], t.acc.data() + r * d, d);
            gemm_tile(Transpose::No, Transpose::No, rows, d, cols, 1.0f, s, cols, Vs, d, 1.0f, t.acc.data(), d);
            mark_rows_seeing(t.unfinite, st, part, b, rows, d, t.acc.data());
          });
          for (int64_t r = 0; r < rows; ++r) {
            M[rows_list[r]] = t.m[r];
            L[rows_list[r]] = t.l[r];
            std::memcpy(O + static_cast<int64_t>(rows_list[r]) * d, t.acc.data() + r * d, d * sizeof(float));
          }
        }
      }
      for (int64_t i = 0; i < n_q; ++i) {
        const float inv = L[i] > 0.0f ? 1.0f / L[i] : 0.0f;
        for (int64_t c = 0; c < d; ++c) O[i * d + c] *= inv;
        M[i] = L[i] > 0.0f ? M[i] + std::log(L[i]) : kPosInf;
      }
    }
  }
}

namespace {

// One head in the backward: its inputs and gradients (pointers offset to the head),
// and per query row delta_i = dO_i . O_i (= sum_j P_ij dP_ij, over all the row's keys
// in every part) and whether the row is silent (its dO is zero: left out,
// masked_tiles.h).
struct HeadBackward {
  const float *Q, *K, *V, *O, *dO, *L, *pad;
  float *dQ, *dK, *dV;
  int64_t n_q, d, block;
  float scale;
  float* delta;
  char* silent;
  bool any_silent = false;
};

// A query block of a part: its query rows, and their Q, dO and Q with the silent rows
// read as 0 (what dK reads), gathered into tiles where the rows are not consecutive.
struct QueryBlock {
  const int32_t* rows_list;
  int64_t rows;
  const float *Q, *dO, *Q_live;
};

// One strip of active key blocks against a query block: recompute
// P = exp(scale q k^T - lse), then dV += P^T dO, dP = dO V^T, dS = P * (dP - delta)
// (0 where hidden or silent), dQ += scale dS K (into dq_tile), dK += scale dS^T Q.
// dV and dK are written in place when the strip's keys are consecutive, else through
// a tile added into their rows.
void backward_strip(const HeadBackward& h, const Part& part, const QueryBlock& qb, const Strip& st, Tiles& t,
                    float* dq_tile) {
  const int64_t rows = qb.rows, cols = st.cols, d = h.d, b = h.block;
  const bool in_place = consecutive(st.keys, cols);
  const float* Ks = rows_of(h.K, st.keys, cols, d, t.k.data());
  const float* Vs = rows_of(h.V, st.keys, cols, d, t.v.data());
  auto silent_row = [&](int64_t r) { return h.silent[qb.rows_list[r]] != 0; };
  float *p = t.s.data(), *dp = t.dp.data();
  gemm_tile(Transpose::No, Transpose::Yes, rows, cols, d, h.scale, qb.Q, d, Ks, d, 0.0f, p, cols);
  mask_scores(p, rows, st, part, b, h.pad, kNegInf);
  for_live_rows(p, rows, cols, silent_row, [&](int64_t r, float* row) {
    const float l = h.L[qb.rows_list[r]];
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) row[c] = fast_exp(row[c] - l);
  });
  float* dv_out = in_place ? h.dV + static_cast<int64_t>(st.keys[0]) * d : t.tmp.data();
  gemm_tile(Transpose::Yes, Transpose::No, cols, d, rows, 1.0f, p, cols, qb.dO, d, in_place ? 1.0f : 0.0f, dv_out, d);
  if (!in_place) add_rows(t.tmp.data(), st.keys, cols, d, h.dV);
  gemm_tile(Transpose::No, Transpose::Yes, rows, cols, d, 1.0f, qb.dO, d, Vs, d, 0.0f, dp, cols);
  for_live_rows(dp, rows, cols, silent_row, [&](int64_t r, float* ds) {
    const float* pr = p + r * cols;
    const float dl = h.delta[qb.rows_list[r]];
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) ds[c] = pr[c] * (ds[c] - dl);
  });
  mask_scores(dp, rows, st, part, b, h.pad, 0.0f);
  const float* Ks_finite = finite_strip_rows(h.K, st, d, t.k_finite.data(), h.pad, t.unfinite);
  gemm_tile(Transpose::No, Transpose::No, rows, d, cols, h.scale, dp, cols, Ks_finite, d, 1.0f, dq_tile, d);
  mark_rows_seeing(t.unfinite, st, part, b, rows, d, dq_tile);
  float* dk_out = in_place ? h.dK + static_cast<int64_t>(st.keys[0]) * d : t.tmp.data();
  gemm_tile(Transpose::Yes, Transpose::No, cols, d, rows, h.scale, dp, cols, qb.Q_live, d, in_place ? 1.0f : 0.0f,
            dk_out, d);
  if (!in_place) add_rows(t.tmp.data(), st.keys, cols, d, h.dK);
}

// One head: delta and the silent rows, then per part and query block, backward_strip
// over the strips of its active key blocks. A silent row's dQ is 0.
void head_backward(HeadBackward& h, const BlockSparseLayout::Pattern& pattern, int64_t n_k, Tiles& t,
                   float* dq_tile) {
  const int64_t n_q = h.n_q, d = h.d, b = h.block;
  std::fill(h.dQ, h.dQ + n_q * d, 0.0f);
  std::fill(h.dK, h.dK + n_k * d, 0.0f);
  std::fill(h.dV, h.dV + n_k * d, 0.0f);
  for (int64_t i = 0; i < n_q; ++i) {
    h.silent[i] = all_zero(h.dO + i * d, d);
    h.any_silent = h.any_silent || h.silent[i];
    float s = 0.0f;
    for (int64_t c = 0; c < d && !h.silent[i]; ++c) s += h.dO[i * d + c] * h.O[i * d + c];
    h.delta[i] = s;
  }
  for (const Part& part : pattern.parts) {
    for (int64_t I = 0; I < query_blocks(part, b); ++I) {
      if (part.row_begin[I] == part.row_begin[I + 1]) continue;
      const int64_t rows = std::min<int64_t>(b, static_cast<int64_t>(part.queries.size()) - I * b);
      QueryBlock qb{part.queries.data() + I * b, rows, nullptr, nullptr, nullptr};
      qb.Q = rows_of(h.Q, qb.rows_list, qb.rows, d, t.q.data());
      qb.dO = rows_of(h.dO, qb.rows_list, qb.rows, d, t.o.data());
      auto silent_row = [&](int64_t r) { return h.silent[qb.rows_list[r]] != 0; };
      qb.Q_live = h.any_silent ? without_rows(qb.Q, qb.rows, d, t.q_live.data(), silent_row) : qb.Q;
      std::fill(dq_tile, dq_tile + qb.rows * d, 0.0f);
      for_each_strip(part, b, part.row_begin[I], part.row_begin[I + 1],
                     [&](const Strip& st) { backward_strip(h, part, qb, st, t, dq_tile); });
      add_rows(dq_tile, qb.rows_list, qb.rows, d, h.dQ);
    }
  }
  for (int64_t i = 0; i < n_q && h.any_silent; ++i)
    if (h.silent[i]) std::fill(h.dQ + i * d, h.dQ + (i + 1) * d, 0.0f);
}

}  // namespace

// Each head is one task, as in dense.cpp: a key block's dK and dV collect from every
// query block that sees it, so splitting a head would race (head_backward).
void CpuBackend::block_sparse_attention_backward(const float* q, const float* k, const float* v, const float* o,
                                                 const float* lse, const float* d_o, float* dq, float* dk, float* dv,
                                                 int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d,
                                                 float scale, const BlockSparseLayout& layout, const float* key_pad) {
  const int64_t b = layout.block;
#pragma omp parallel if (worth_threads(layout, bh, d))
  {
    Tiles t(b, d);
    std::vector<float> delta(n_q), dq_tile(b * d);
    std::vector<char> silent(n_q);
#pragma omp for schedule(dynamic)
    for (int64_t h = 0; h < bh; ++h) {
      HeadBackward head{q + h * n_q * d, k + h * n_k * d, v + h * n_k * d, o + h * n_q * d, d_o + h * n_q * d,
                        lse + h * n_q, key_pad ? key_pad + (h / heads) * n_k : nullptr, dq + h * n_q * d,
                        dk + h * n_k * d, dv + h * n_k * d, n_q, d, b, scale, delta.data(), silent.data()};
      head_backward(head, pattern_of(layout, h, heads), n_k, t, dq_tile.data());
    }
  }
}

}  // namespace ta::cpu
