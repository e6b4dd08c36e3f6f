// Block-sparse attention on the CPU (Sparse Transformer, Child et al. 2019).
//
// The algorithm of the fused exact attention (attention.cpp): an online softmax
// over key blocks in the forward, and a backward that recomputes each block's
// probabilities from the saved row log-sum-exps. The difference is which blocks
// are visited: only the active blocks of a BlockSparseLayout (core/backend.h), with
// the pairs a partially covered block does not allow masked to -inf. Every block
// product is a small GEMM (gemm_tile). Time is proportional to the active blocks,
// memory to the outputs plus one set of tiles per thread.
//
// A part of a layout may put its query rows and keys in any order (strided
// attention groups positions by residue mod l), so the rows of a block are read
// through the part's lists: a block whose rows are consecutive is used in place,
// any other is first gathered into a tile (b x d copies, small next to the block's
// b x b x d products).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <omp.h>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/fast_exp.h"
#include "core/cpu/parallel.h"

namespace ta::cpu {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kPosInf = std::numeric_limits<float>::infinity();

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
  for (int64_t r = 0; r < count; ++r) std::memcpy(tile + r * d, x + static_cast<int64_t>(list[r]) * d, d * sizeof(float));
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

// One active block of a part: query rows queries[0 .. rows), keys keys[0 .. cols),
// and the allowed pairs (mask == null: all of them).
struct Block {
  const int32_t* queries;
  const int32_t* keys;
  int64_t rows, cols;
  const uint64_t* mask;
};

Block block_at(const Part& part, int64_t b, int64_t I, int64_t a) {
  const int64_t J = part.col[a], q0 = I * b, k0 = J * b;
  const int64_t rows = std::min<int64_t>(b, static_cast<int64_t>(part.queries.size()) - q0);
  const int64_t cols = std::min<int64_t>(b, static_cast<int64_t>(part.keys.size()) - k0);
  const int32_t m = part.mask[a];
  return {part.queries.data() + q0, part.keys.data() + k0, rows, cols,
          m < 0 ? nullptr : part.masks.data() + static_cast<int64_t>(m) * b};
}

// Sets the scores s [rows, cols] of the pairs the block does not allow, and of
// padded keys, to -inf.
void mask_scores(float* s, const Block& blk, const float* pad) {
  if (blk.mask)
    for (int64_t r = 0; r < blk.rows; ++r) {
      const uint64_t bits = blk.mask[r];
      float* row = s + r * blk.cols;
      for (int64_t c = 0; c < blk.cols; ++c)
        if (!((bits >> c) & 1u)) row[c] = kNegInf;
    }
  if (pad)
    for (int64_t c = 0; c < blk.cols; ++c)
      if (pad[blk.keys[c]] != 0.0f)
        for (int64_t r = 0; r < blk.rows; ++r) s[r * blk.cols + c] = kNegInf;
}

// Per-thread tiles, b x b scores and b x d rows.
struct Tiles {
  std::vector<float> s, dp, q, k, v, o, acc, tmp, m, l;
  Tiles(int64_t b, int64_t d)
      : s(b * b), dp(b * b), q(b * d), k(b * d), v(b * d), o(b * d), acc(b * d), tmp(b * d), m(b), l(b) {}
};

}  // namespace

// The online softmax of attention.cpp, with its running state kept per query row
// of the whole head: o holds the running sum acc = sum exp(s - m) v, lse the
// running max m, and l_sum the running sum of exp(s - m). The parts of a pattern
// run one after another; within a part, query blocks run in parallel (a part lists
// a row at most once, so no two tasks touch the same row). Each task loads its
// rows' state, folds in its active key blocks, and stores the state back. At the
// end O = acc / l and lse = m + log l.
void CpuBackend::block_sparse_attention_forward(const float* q, const float* k, const float* v, float* o, float* lse,
                                                int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d,
                                                float scale, const BlockSparseLayout& layout, const float* key_pad) {
  const int64_t b = layout.block;
  std::vector<float> l_sum(bh * n_q, 0.0f);
  std::fill(o, o + bh * n_q * d, 0.0f);
  std::fill(lse, lse + bh * n_q, kNegInf);
  size_t max_parts = 0;
  int64_t max_blocks = 0;
  for (const auto& pattern : layout.patterns) {
    max_parts = std::max(max_parts, pattern.parts.size());
    for (const Part& part : pattern.parts) max_blocks = std::max(max_blocks, query_blocks(part, b));
  }
  for (size_t p = 0; p < max_parts; ++p) {
#pragma omp parallel
    {
      Tiles t(b, d);
#pragma omp for schedule(dynamic)
      for (int64_t task = 0; task < bh * max_blocks; ++task) {
        const int64_t h = task / max_blocks, I = task % max_blocks;
        const auto& pattern = pattern_of(layout, h, heads);
        if (p >= pattern.parts.size()) continue;
        const Part& part = pattern.parts[p];
        if (I >= query_blocks(part, b) || part.row_begin[I] == part.row_begin[I + 1]) continue;
        const float* K = k + h * n_k * d;
        const float* V = v + h * n_k * d;
        const float* pad = key_pad ? key_pad + (h / heads) * n_k : nullptr;
        float* O = o + h * n_q * d;
        float* M = lse + h * n_q;
        float* L = l_sum.data() + h * n_q;
        const int32_t* rows_list = part.queries.data() + I * b;
        const int64_t rows = std::min<int64_t>(b, static_cast<int64_t>(part.queries.size()) - I * b);
        const float* Q = rows_of(q + h * n_q * d, rows_list, rows, d, t.q.data());
        for (int64_t r = 0; r < rows; ++r) {
          t.m[r] = M[rows_list[r]];
          t.l[r] = L[rows_list[r]];
          std::memcpy(t.acc.data() + r * d, O + static_cast<int64_t>(rows_list[r]) * d, d * sizeof(float));
        }
        for (int64_t a = part.row_begin[I]; a < part.row_begin[I + 1]; ++a) {
          const Block blk = block_at(part, b, I, a);
          const float* Kb = rows_of(K, blk.keys, blk.cols, d, t.k.data());
          const float* Vb = rows_of(V, blk.keys, blk.cols, d, t.v.data());
          float* s = t.s.data();
          gemm_tile(Transpose::No, Transpose::Yes, rows, blk.cols, d, scale, Q, d, Kb, d, 0.0f, s, blk.cols);
          mask_scores(s, blk, pad);
          for (int64_t r = 0; r < rows; ++r) {
            float* row = s + r * blk.cols;
            float mx = kNegInf;
            for (int64_t c = 0; c < blk.cols; ++c) mx = std::max(mx, row[c]);
            const float m_new = std::max(t.m[r], mx);
            if (m_new == kNegInf) {  // nothing visible yet: contribute nothing
              std::fill(row, row + blk.cols, 0.0f);
              continue;
            }
            float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
            for (int64_t c = 0; c < blk.cols; ++c) {
              row[c] = fast_exp(row[c] - m_new);
              sum += row[c];
            }
            const float rescale = fast_exp(t.m[r] - m_new);
            t.l[r] = t.l[r] * rescale + sum;
            t.m[r] = m_new;
            if (rescale != 1.0f)
              for (int64_t c = 0; c < d; ++c) t.acc[r * d + c] *= rescale;
          }
          gemm_tile(Transpose::No, Transpose::No, rows, d, blk.cols, 1.0f, s, blk.cols, Vb, d, 1.0f, t.acc.data(), d);
        }
        for (int64_t r = 0; r < rows; ++r) {
          M[rows_list[r]] = t.m[r];
          L[rows_list[r]] = t.l[r];
          std::memcpy(O + static_cast<int64_t>(rows_list[r]) * d, t.acc.data() + r * d, d * sizeof(float));
        }
      }
    }
  }
  parallel_for(bh * n_q, d, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float l = l_sum[i];
      const float inv = l > 0.0f ? 1.0f / l : 0.0f;
      for (int64_t c = 0; c < d; ++c) o[i * d + c] *= inv;
      lse[i] = l > 0.0f ? lse[i] + std::log(l) : kPosInf;
    }
  });
}

// Each head is one task, as in attention.cpp: a key block's dK and dV collect from
// every query block that sees it, so splitting a head would race. Per part and
// query block, over its active key blocks: recompute P = exp(scale q k^T - lse),
// then dV += P^T dO, dP = dO V^T, dS = P * (dP - delta), dQ += scale dS K,
// dK += scale dS^T Q, with delta_i = dO_i . O_i (= sum_j P_ij dP_ij, over all the
// row's keys in every part).
void CpuBackend::block_sparse_attention_backward(const float* q, const float* k, const float* v, const float* o,
                                                 const float* lse, const float* d_o, float* dq, float* dk, float* dv,
                                                 int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d,
                                                 float scale, const BlockSparseLayout& layout, const float* key_pad) {
  const int64_t b = layout.block;
#pragma omp parallel
  {
    Tiles t(b, d);
    std::vector<float> delta(n_q), dq_tile(b * d);
#pragma omp for schedule(dynamic)
    for (int64_t h = 0; h < bh; ++h) {
      const float *Qh = q + h * n_q * d, *K = k + h * n_k * d, *V = v + h * n_k * d;
      const float *Oh = o + h * n_q * d, *dOh = d_o + h * n_q * d, *Lh = lse + h * n_q;
      float *dQ = dq + h * n_q * d, *dK = dk + h * n_k * d, *dV = dv + h * n_k * d;
      const float* pad = key_pad ? key_pad + (h / heads) * n_k : nullptr;
      std::fill(dQ, dQ + n_q * d, 0.0f);
      std::fill(dK, dK + n_k * d, 0.0f);
      std::fill(dV, dV + n_k * d, 0.0f);
      for (int64_t i = 0; i < n_q; ++i) {
        float s = 0.0f;
        for (int64_t c = 0; c < d; ++c) s += dOh[i * d + c] * Oh[i * d + c];
        delta[i] = s;
      }
      for (const Part& part : pattern_of(layout, h, heads).parts) {
        for (int64_t I = 0; I < query_blocks(part, b); ++I) {
          if (part.row_begin[I] == part.row_begin[I + 1]) continue;
          const int32_t* rows_list = part.queries.data() + I * b;
          const int64_t rows = std::min<int64_t>(b, static_cast<int64_t>(part.queries.size()) - I * b);
          const float* Q = rows_of(Qh, rows_list, rows, d, t.q.data());
          const float* dO = rows_of(dOh, rows_list, rows, d, t.o.data());
          std::fill(dq_tile.begin(), dq_tile.begin() + rows * d, 0.0f);
          for (int64_t a = part.row_begin[I]; a < part.row_begin[I + 1]; ++a) {
            const Block blk = block_at(part, b, I, a);
            const int64_t cols = blk.cols;
            const bool in_place = consecutive(blk.keys, cols);
            const float* Kb = rows_of(K, blk.keys, cols, d, t.k.data());
            const float* Vb = rows_of(V, blk.keys, cols, d, t.v.data());
            float *p = t.s.data(), *dp = t.dp.data();
            gemm_tile(Transpose::No, Transpose::Yes, rows, cols, d, scale, Q, d, Kb, d, 0.0f, p, cols);
            mask_scores(p, blk, pad);
            for (int64_t r = 0; r < rows; ++r) {
              float* row = p + r * cols;
              const float l = Lh[rows_list[r]];
#pragma omp simd
              for (int64_t c = 0; c < cols; ++c) row[c] = fast_exp(row[c] - l);
            }
            // dV_J += P^T dO_I  (into place, or through tmp when the keys were gathered)
            float* dv_out = in_place ? dV + static_cast<int64_t>(blk.keys[0]) * d : t.tmp.data();
            gemm_tile(Transpose::Yes, Transpose::No, cols, d, rows, 1.0f, p, cols, dO, d, in_place ? 1.0f : 0.0f,
                      dv_out, d);
            if (!in_place) add_rows(t.tmp.data(), blk.keys, cols, d, dV);
            // dP = dO_I V_J^T ;  dS = P * (dP - delta)
            gemm_tile(Transpose::No, Transpose::Yes, rows, cols, d, 1.0f, dO, d, Vb, d, 0.0f, dp, cols);
            for (int64_t r = 0; r < rows; ++r) {
              float* ds = dp + r * cols;
              const float* pr = p + r * cols;
              const float dl = delta[rows_list[r]];
#pragma omp simd
              for (int64_t c = 0; c < cols; ++c) ds[c] = pr[c] * (ds[c] - dl);
            }
            // dQ_I += scale dS K_J ;  dK_J += scale dS^T Q_I
            gemm_tile(Transpose::No, Transpose::No, rows, d, cols, scale, dp, cols, Kb, d, 1.0f, dq_tile.data(), d);
            float* dk_out = in_place ? dK + static_cast<int64_t>(blk.keys[0]) * d : t.tmp.data();
            gemm_tile(Transpose::Yes, Transpose::No, cols, d, rows, scale, dp, cols, Q, d, in_place ? 1.0f : 0.0f,
                      dk_out, d);
            if (!in_place) add_rows(t.tmp.data(), blk.keys, cols, d, dK);
          }
          add_rows(dq_tile.data(), rows_list, rows, d, dQ);
        }
      }
    }
  }
}

}  // namespace ta::cpu
