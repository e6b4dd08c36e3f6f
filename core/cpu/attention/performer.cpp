// Fused causal FAVOR+ attention on the CPU (Performer, Choromanski et al. 2020),
// chunk by chunk: inside a chunk of C tokens a small masked C x C product, across
// chunks a running state, so that the extra memory is O(m d) per head whatever n.
//
// Per head, with query features qf_i = phi(q_i) and key features kf_j = phi(k_j)
// (both [m]; core/attention/backend_ops.h gives the maps and their stabilizers), the output is
//   o_i = num_i / den_i,  num_i = sum_{j <= i} w_ij v_j,  den_i = sum_{j <= i} w_ij,
//   w_ij = qf_i . kf_j exp(M_j - M_i),
// where M_j is the running maximum of the key exponents (the key stabilizer: kf_j
// was computed as exp(... - M_j), and exp(M_j - M_i) <= 1 moves it to row i's
// stabilizer, so nothing overflows and row i reads no key after i, not even
// through a constant). Appending a 1 to every value, V_ext = [V | 1], computes
// num and den with the same products. For a chunk of queries and their keys:
//   in-chunk:  (A o F) V_ext,   A = QF KF^T [C, C],  F_rc = exp(M_c - M_r) for c <= r, else 0;
//   earlier:   f_r qf_r S,      S = sum_{j before the chunk} kf_j exp(M_j - Ms) v_ext_j^T  [m, d+1],
//              f_r = exp(Ms - M_r), Ms the state's stabilizer (M at the chunk's start);
// then the chunk's keys are added to S at the new stabilizer. Every step is a GEMM
// on [C, m], [C, C] or [m, d+1] blocks.
//
// Backward (o = num / max(den, floor)): with g_i = dO_i / max(den_i, floor) and
// delta_i = -dO_i . o_i / den_i (0 where the floor applied), G_ext = [g | delta]
// gives dw_ij = G_ext_i . V_ext_j for every visible pair. Then
//   dqf_i = sum_j dw_ij F_ij kf_j,   dkf_j = sum_i dw_ij F_ij qf_i,   dv_j = sum_i w_ij g_i,
// and through the maps to dq, dk. The query sums run over earlier keys, so a
// forward sweep with the state S gives dQ; the key sums run over later queries, so
// a reverse sweep with the reverse state R = sum_{later i} f qf_i G_ext_i^T gives
// dK and dV. Both sweeps recompute the features from q, k and the saved running
// maxima: nothing of size n x m is ever stored.
//
// The in-chunk products never read a key after the row (staircases), padded keys'
// values are read as 0, and the backward leaves out rows whose output gradient is
// zero and a reverse state that is zero (masked_tiles.h): a NaN or inf reaches no row
// that may not see it. The running maximum skips NaN (a > m is false).
#include <algorithm>
#include <cmath>
#include <vector>

#include <omp.h>

#include "core/cpu/attention/masked_tiles.h"
#include "core/cpu/cpu_backend.h"
#include "core/elementwise_math.h"
#include "core/fast_math.h"

namespace ta::cpu {

namespace {

constexpr int64_t kChunk = 64;          // tokens per chunk
constexpr float kNoKey = -1e30f;        // the running maximum before any visible key
constexpr float kDenFloor = 1e-30f;     // denominators are at least this
constexpr float kReluEps = 1e-3f;       // ReLU features: relu(w.x) + eps, so den > 0

// One head's problem: where its data lives and the sizes every step needs.
struct FavorHead {
  const float *q, *k, *v, *w, *pad;  // pad: [n_k] (nonzero = padded) or null
  int64_t n_q, n_k, d, m;
  float scale, root;  // root = sqrt(scale): x' = root x, so q'.k' = scale q.k
  FavorKernel kernel;
  int64_t shift() const { return n_k - n_q; }
};

// The blocks of one head, in order: first the keys that no query of this call
// owns (n_k > n_q, e.g. a continued sequence), in pieces of kChunk, with no
// queries; then the chunks of queries i0 .. i0 + rows - 1 with their own keys
// i0 + shift .. (query i sees keys j <= i + shift, so within a chunk query row r
// sees key rows c <= r).
struct Block {
  int64_t p0, rows;  // keys p0 .. p0 + rows - 1
  int64_t i0;        // first query, or -1 for a block of keys only
};

std::vector<Block> blocks_of(const FavorHead& h) {
  std::vector<Block> out;
  const int64_t shift = h.shift();
  for (int64_t p0 = 0; p0 < shift; p0 += kChunk) out.push_back({p0, std::min(kChunk, shift - p0), -1});
  for (int64_t i0 = 0; i0 < h.n_q; i0 += kChunk) out.push_back({i0 + shift, std::min(kChunk, h.n_q - i0), i0});
  return out;
}

// Scratch space of one thread: O(C m + m d), independent of n.
struct Work {
  std::vector<float> pq, qf, pk, kf, kfh, a, b, vext, gext, t, s, r, dqf, dkf, f;
  std::vector<char> silent;  // the query rows of a block whose dO is zero
  Work(int64_t m, int64_t d)
      : pq(kChunk * m), qf(kChunk * m), pk(kChunk * m), kf(kChunk * m), kfh(kChunk * m), a(kChunk * kChunk),
        b(kChunk * kChunk), vext(kChunk * (d + 1)), gext(kChunk * (d + 1)), t(kChunk * (d + 1)), s(m * (d + 1)),
        r(m * (d + 1)), dqf(kChunk * m), dkf(kChunk * m), f(kChunk), silent(kChunk) {}
};

// p = root X W^T: the projections w_r . x' of `rows` rows of X [.., d] -> p [rows, m].
void project(const FavorHead& h, const float* x, int64_t rows, float* p) {
  gemm_tile(Transpose::No, Transpose::Yes, rows, h.m, h.d, h.root, x, h.d, h.w, h.d, 0.0f, p, h.m);
}

// Query features from the projections: softmax kernel qf = exp(p - max_r p) (the
// row max and phi's exp(-|q'|^2/2) are per-row constants, which cancel in num/den);
// ReLU kernel qf = relu(p) + eps.
void query_features(const FavorHead& h, int64_t rows, const float* p, float* qf) {
  const int64_t m = h.m;
  for (int64_t r = 0; r < rows; ++r) {
    const float* pr = p + r * m;
    float* out = qf + r * m;
    if (h.kernel == FavorKernel::Relu) {
      for (int64_t c = 0; c < m; ++c) out[c] = std::max(pr[c], 0.0f) + kReluEps;
      continue;
    }
    float mx = pr[0];
#pragma omp simd reduction(max : mx)
    for (int64_t c = 1; c < m; ++c) mx = pr[c] > mx ? pr[c] : mx;
#pragma omp simd
    for (int64_t c = 0; c < m; ++c) out[c] = fast_exp(pr[c] - mx);
  }
}

// Softmax kernel: turns the key projections p into the key exponents
// e_jr = w_r.k'_j - |k'_j|^2 / 2 in place (ReLU kernel: nothing to do).
void key_exponents(const FavorHead& h, const float* x, int64_t rows, float* p) {
  if (h.kernel == FavorKernel::Relu) return;
  for (int64_t j = 0; j < rows; ++j) {
    float sq = 0.0f;
    for (int64_t c = 0; c < h.d; ++c) sq += x[j * h.d + c] * x[j * h.d + c];
    sq *= 0.5f * h.scale;
    float* pr = p + j * h.m;
    for (int64_t c = 0; c < h.m; ++c) pr[c] -= sq;
  }
}

// The running maximum of the key exponents over unpadded keys, continued from
// `running`, written for each key of the block into kmax (0 throughout for ReLU).
void running_max(const FavorHead& h, const Block& blk, const float* e, float& running, float* kmax) {
  for (int64_t j = 0; j < blk.rows; ++j) {
    if (h.kernel == FavorKernel::Softmax && !(h.pad && h.pad[blk.p0 + j] != 0.0f)) {
      const float* er = e + j * h.m;
      float mx = running;
#pragma omp simd reduction(max : mx)
      for (int64_t c = 0; c < h.m; ++c) mx = er[c] > mx ? er[c] : mx;
      running = mx;
    }
    kmax[j] = h.kernel == FavorKernel::Relu ? 0.0f : running;
  }
}

// Key features from the exponents (softmax kernel: kf_j = exp(e_j - M_j)) or the
// projections (ReLU: relu(p) + eps); padded keys get kf = 0.
void key_features(const FavorHead& h, const Block& blk, const float* e, const float* kmax, float* kf) {
  const int64_t m = h.m;
  for (int64_t j = 0; j < blk.rows; ++j) {
    float* out = kf + j * m;
    const float* er = e + j * m;
    if (h.pad && h.pad[blk.p0 + j] != 0.0f) {
      std::fill(out, out + m, 0.0f);
    } else if (h.kernel == FavorKernel::Relu) {
      for (int64_t c = 0; c < m; ++c) out[c] = std::max(er[c], 0.0f) + kReluEps;
    } else {
      const float mj = kmax[j];
#pragma omp simd
      for (int64_t c = 0; c < m; ++c) out[c] = fast_exp(er[c] - mj);
    }
  }
}

// x [rows, rows] *= F with F_rc = exp(M_c - M_r) for c <= r and 0 above the
// diagonal, M = kmax of the block (query row r's stabilizer is its own key's M).
// M is nondecreasing, so when the block starts and ends at the same M, F is 1 on
// and below the diagonal (exp(0) is exactly 1: the shortcut changes no bit).
void causal_factor(int64_t rows, const float* kmax, float* x) {
  const bool flat = kmax[0] == kmax[rows - 1];
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = x + r * rows;
    if (!flat)
      for (int64_t c = 0; c <= r; ++c) xr[c] *= fast_exp(kmax[c] - kmax[r]);
    for (int64_t c = r + 1; c < rows; ++c) xr[c] = 0.0f;
  }
}

// V_ext = [V | 1] for the rows of a block; 0 for padded keys (read as 0, not weighted
// by 0: masked_tiles.h).
void extend_values(const FavorHead& h, const Block& blk, float* vext) {
  const int64_t d = h.d;
  for (int64_t j = 0; j < blk.rows; ++j) {
    if (h.pad && h.pad[blk.p0 + j] != 0.0f) {
      std::fill(vext + j * (d + 1), vext + (j + 1) * (d + 1), 0.0f);
      continue;
    }
    std::copy(h.v + (blk.p0 + j) * d, h.v + (blk.p0 + j + 1) * d, vext + j * (d + 1));
    vext[j * (d + 1) + d] = 1.0f;
  }
}

// x [rows, rows] (+)= (A o F) X over the pairs a row sees, c <= r: a staircase, so
// that a key after row r is never read for it (masked_tiles.h).
void lower_product(int64_t rows, int64_t width, const float* a, const float* x, float* out) {
  staircase_gemm(rows, width, rows, 1, 1.0f, a, rows, x, width, out, width);
}

// Sets the rows r of x [rows, width] with silent[r] to 0.
void zero_rows(int64_t rows, int64_t width, const char* silent, float* x) {
  for (int64_t r = 0; r < rows; ++r)
    if (silent[r]) std::fill(x + r * width, x + (r + 1) * width, 0.0f);
}

// Adds the block's keys to a state S [m, d+1] held at stabilizer `ms`; the state
// moves to the block's last M. Overwrites kfh with the rescaled features.
void absorb(const FavorHead& h, const Block& blk, const float* kmax, const float* kf, const float* vext, float* kfh,
            float* s, float& ms) {
  const int64_t m = h.m, d1 = h.d + 1;
  const float m_new = kmax[blk.rows - 1];
  if (ms != m_new) {
    const float decay = fast_exp(ms - m_new);
    for (int64_t i = 0; i < m * d1; ++i) s[i] *= decay;
  }
  for (int64_t j = 0; j < blk.rows; ++j) {
    const float hj = fast_exp(kmax[j] - m_new);
    for (int64_t c = 0; c < m; ++c) kfh[j * m + c] = kf[j * m + c] * hj;
  }
  gemm_tile(Transpose::Yes, Transpose::No, m, d1, blk.rows, 1.0f, kfh, m, vext, d1, 1.0f, s, d1);
  ms = m_new;
}

// The keys of a block into w.kf. Forward (running != null): continues the running
// max and writes it to kmax; backward: reads the saved kmax. w.pk keeps the
// exponents (softmax kernel) or projections (ReLU) for the backward of the map.
void block_keys(const FavorHead& h, const Block& blk, Work& w, const float* kmax, float* running = nullptr,
                float* kmax_out = nullptr) {
  project(h, h.k + blk.p0 * h.d, blk.rows, w.pk.data());
  key_exponents(h, h.k + blk.p0 * h.d, blk.rows, w.pk.data());
  if (running) running_max(h, blk, w.pk.data(), *running, kmax_out);
  key_features(h, blk, w.pk.data(), kmax, w.kf.data());
}

// f_r = exp(Ms - M_r): row r's share of the state made before its block.
void state_factors(const Block& blk, const float* kmax, float ms, float* f) {
  for (int64_t r = 0; r < blk.rows; ++r) f[r] = fast_exp(ms - kmax[r]);
}

// G_ext = [dO / D | delta] for the query rows of a block (see the header comment);
// silent[r] marks the rows whose dO is zero, whose G_ext is 0 (masked_tiles.h).
// Returns whether the block has any.
bool extend_grads(const FavorHead& h, const Block& blk, const float* o, const float* den, const float* d_o,
                  float* gext, char* silent) {
  const int64_t d = h.d;
  bool any = false;
  for (int64_t r = 0; r < blk.rows; ++r) {
    const int64_t i = blk.i0 + r;
    silent[r] = all_zero(d_o + i * d, d);
    any = any || silent[r];
    if (silent[r]) {
      std::fill(gext + r * (d + 1), gext + (r + 1) * (d + 1), 0.0f);
      continue;
    }
    const float dn = den[i], inv = 1.0f / std::max(dn, kDenFloor);
    float dot = 0.0f;
    for (int64_t c = 0; c < d; ++c) {
      gext[r * (d + 1) + c] = d_o[i * d + c] * inv;
      dot += d_o[i * d + c] * o[i * d + c];
    }
    gext[r * (d + 1) + d] = dn >= kDenFloor ? -dot / dn : 0.0f;
  }
  return any;
}

// dx = dfeat * d(feature)/d(pre-activation): softmax kernel feat itself, ReLU the
// step of the projection; in place in dfeat. A zero dfeat stays exactly 0 even where
// the feature is NaN (gradient_times).
void feature_backward(const FavorHead& h, int64_t rows, const float* pre, const float* feat, float* dfeat) {
  const int64_t n = rows * h.m;
  if (h.kernel == FavorKernel::Relu) {
    for (int64_t i = 0; i < n; ++i) dfeat[i] = pre[i] > 0.0f ? dfeat[i] : 0.0f;
  } else {
    for (int64_t i = 0; i < n; ++i) dfeat[i] = gradient_times(dfeat[i], feat[i]);
  }
}

void forward_head(const FavorHead& h, Work& w, float* o, float* den, float* kmax) {
  const int64_t m = h.m, d = h.d, d1 = d + 1;
  std::fill(w.s.begin(), w.s.end(), 0.0f);
  float ms = kNoKey, running = kNoKey;
  for (const Block& blk : blocks_of(h)) {
    float* km = kmax + blk.p0;
    block_keys(h, blk, w, km, &running, km);
    extend_values(h, blk, w.vext.data());
    if (blk.i0 >= 0) {
      const int64_t rows = blk.rows;
      project(h, h.q + blk.i0 * d, rows, w.pq.data());
      query_features(h, rows, w.pq.data(), w.qf.data());
      // t = f o (QF S) + (A o F) V_ext
      gemm_tile(Transpose::No, Transpose::No, rows, d1, m, 1.0f, w.qf.data(), m, w.s.data(), d1, 0.0f, w.t.data(),
                d1);
      state_factors(blk, km, ms, w.f.data());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < d1; ++c) w.t[r * d1 + c] *= w.f[r];
      gemm_tile(Transpose::No, Transpose::Yes, rows, rows, m, 1.0f, w.qf.data(), m, w.kf.data(), m, 0.0f, w.a.data(),
                rows);
      causal_factor(rows, km, w.a.data());
      lower_product(rows, d1, w.a.data(), w.vext.data(), w.t.data());
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = blk.i0 + r;
        const float dn = w.t[r * d1 + d], inv = 1.0f / std::max(dn, kDenFloor);
        for (int64_t c = 0; c < d; ++c) o[i * d + c] = w.t[r * d1 + c] * inv;
        den[i] = dn;
      }
    }
    absorb(h, blk, km, w.kf.data(), w.vext.data(), w.kfh.data(), w.s.data(), ms);
  }
}

// Forward sweep of the backward: dQ, from the state S before each chunk.
void backward_queries(const FavorHead& h, Work& w, const float* o, const float* den, const float* kmax,
                      const float* d_o, float* dq) {
  const int64_t m = h.m, d = h.d, d1 = d + 1;
  std::fill(w.s.begin(), w.s.end(), 0.0f);
  float ms = kNoKey;
  for (const Block& blk : blocks_of(h)) {
    const float* km = kmax + blk.p0;
    block_keys(h, blk, w, km);
    extend_values(h, blk, w.vext.data());
    if (blk.i0 >= 0) {
      const int64_t rows = blk.rows;
      project(h, h.q + blk.i0 * d, rows, w.pq.data());
      query_features(h, rows, w.pq.data(), w.qf.data());
      const bool any_silent = extend_grads(h, blk, o, den, d_o, w.gext.data(), w.silent.data());
      // dqf = f o (G_ext S^T) + (dW o F) KF,  dW = G_ext V_ext^T
      gemm_tile(Transpose::No, Transpose::Yes, rows, m, d1, 1.0f, w.gext.data(), d1, w.s.data(), d1, 0.0f,
                w.dqf.data(), m);
      state_factors(blk, km, ms, w.f.data());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < m; ++c) w.dqf[r * m + c] *= w.f[r];
      gemm_tile(Transpose::No, Transpose::Yes, rows, rows, d1, 1.0f, w.gext.data(), d1, w.vext.data(), d1, 0.0f,
                w.b.data(), rows);
      causal_factor(rows, km, w.b.data());
      lower_product(rows, m, w.b.data(), w.kf.data(), w.dqf.data());
      feature_backward(h, rows, w.pq.data(), w.qf.data(), w.dqf.data());
      // dQ = root dP W  (P = root Q W^T)
      gemm_tile(Transpose::No, Transpose::No, rows, d, m, h.root, w.dqf.data(), m, h.w, d, 0.0f, dq + blk.i0 * d, d);
      if (any_silent) zero_rows(rows, d, w.silent.data(), dq + blk.i0 * d);
    }
    absorb(h, blk, km, w.kf.data(), w.vext.data(), w.kfh.data(), w.s.data(), ms);
  }
}

// Reverse sweep of the backward: dK and dV, from R, the later queries' share.
// Before block g, R = sum over queries i after the block of f_i qf_i G_ext_i^T held
// at the block's last M, so key j of the block gets exp(M_j - M_last) times
// (R V_ext_j) in dkf and (R^T kf_j) in dv.
void backward_keys(const FavorHead& h, Work& w, const float* o, const float* den, const float* kmax, const float* d_o,
                   float* dk, float* dv) {
  const int64_t m = h.m, d = h.d, d1 = d + 1;
  std::fill(w.r.begin(), w.r.end(), 0.0f);
  const std::vector<Block> blocks = blocks_of(h);
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    const Block& blk = *it;
    const int64_t rows = blk.rows;
    const float* km = kmax + blk.p0;
    const float m_last = km[rows - 1], ms = blk.p0 > 0 ? kmax[blk.p0 - 1] : kNoKey;
    block_keys(h, blk, w, km);
    extend_values(h, blk, w.vext.data());
    // Later queries: dkf = h o (V_ext R^T), dV = (h o KF) R[:, :d], h_j = exp(M_j - M_last);
    // both 0 when no later query has a gradient (R = 0: nothing to multiply through).
    float* dV = dv + blk.p0 * d;
    if (all_zero(w.r.data(), m * d1)) {
      std::fill(w.dkf.begin(), w.dkf.begin() + rows * m, 0.0f);
      std::fill(dV, dV + rows * d, 0.0f);
    } else {
      for (int64_t j = 0; j < rows; ++j) w.f[j] = fast_exp(km[j] - m_last);
      for (int64_t j = 0; j < rows; ++j)
        for (int64_t c = 0; c < m; ++c) w.kfh[j * m + c] = w.kf[j * m + c] * w.f[j];
      gemm_tile(Transpose::No, Transpose::Yes, rows, m, d1, 1.0f, w.vext.data(), d1, w.r.data(), d1, 0.0f,
                w.dkf.data(), m);
      for (int64_t j = 0; j < rows; ++j)
        for (int64_t c = 0; c < m; ++c) w.dkf[j * m + c] *= w.f[j];
      gemm_tile(Transpose::No, Transpose::No, rows, d, m, 1.0f, w.kfh.data(), m, w.r.data(), d1, 0.0f, dV, d);
    }
    if (blk.i0 >= 0) {
      // The block's own queries: dV += (A o F)^T G, dkf += (dW o F)^T QF. Silent rows
      // (dO = 0) are left out: their A and dW rows and their features are 0.
      project(h, h.q + blk.i0 * d, rows, w.pq.data());
      query_features(h, rows, w.pq.data(), w.qf.data());
      const bool any_silent = extend_grads(h, blk, o, den, d_o, w.gext.data(), w.silent.data());
      gemm_tile(Transpose::No, Transpose::Yes, rows, rows, m, 1.0f, w.qf.data(), m, w.kf.data(), m, 0.0f, w.a.data(),
                rows);
      causal_factor(rows, km, w.a.data());
      gemm_tile(Transpose::No, Transpose::Yes, rows, rows, d1, 1.0f, w.gext.data(), d1, w.vext.data(), d1, 0.0f,
                w.b.data(), rows);
      causal_factor(rows, km, w.b.data());
      if (any_silent) {
        zero_rows(rows, rows, w.silent.data(), w.a.data());
        zero_rows(rows, rows, w.silent.data(), w.b.data());
        zero_rows(rows, m, w.silent.data(), w.qf.data());
      }
      gemm_tile(Transpose::Yes, Transpose::No, rows, d, rows, 1.0f, w.a.data(), rows, w.gext.data(), d1, 1.0f, dV, d);
      gemm_tile(Transpose::Yes, Transpose::No, rows, m, rows, 1.0f, w.b.data(), rows, w.qf.data(), m, 1.0f,
                w.dkf.data(), m);
    }
    // R moves to the previous block's last M (ms <= m_last), then takes this
    // block's queries: R = exp(ms - m_last) R + (f o QF)^T G_ext, f_r = exp(ms - M_r).
    if (ms != m_last) {
      const float decay = fast_exp(ms - m_last);
      for (int64_t i = 0; i < m * d1; ++i) w.r[i] *= decay;
    }
    if (blk.i0 >= 0) {
      state_factors(blk, km, ms, w.f.data());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < m; ++c) w.qf[r * m + c] *= w.f[r];
      gemm_tile(Transpose::Yes, Transpose::No, m, d1, rows, 1.0f, w.qf.data(), m, w.gext.data(), d1, 1.0f,
                w.r.data(), d1);
    }
    // Through the key map: e = P - scale |k|^2 / 2 with P = root K W^T, so
    // dK = root dE W - scale rowsum(dE) k (ReLU: root dP W). Padded keys get 0.
    const float* K = h.k + blk.p0 * d;
    feature_backward(h, rows, w.pk.data(), w.kf.data(), w.dkf.data());
    for (int64_t j = 0; j < rows; ++j)
      if (h.pad && h.pad[blk.p0 + j] != 0.0f) std::fill(w.dkf.begin() + j * m, w.dkf.begin() + (j + 1) * m, 0.0f);
    float* dK = dk + blk.p0 * d;
    gemm_tile(Transpose::No, Transpose::No, rows, d, m, h.root, w.dkf.data(), m, h.w, d, 0.0f, dK, d);
    if (h.kernel == FavorKernel::Softmax)
      for (int64_t j = 0; j < rows; ++j) {
        float sum = 0.0f;
        for (int64_t c = 0; c < m; ++c) sum += w.dkf[j * m + c];
        for (int64_t c = 0; c < d; ++c) dK[j * d + c] -= gradient_times(h.scale * sum, K[j * d + c]);
      }
  }
}

FavorHead head_of(int64_t b, const float* q, const float* k, const float* v, const float* w, int64_t heads,
                  int64_t n_q, int64_t n_k, int64_t d, int64_t m, float scale, FavorKernel kernel,
                  const float* key_pad) {
  return {q + b * n_q * d, k + b * n_k * d, v + b * n_k * d, w, key_pad ? key_pad + (b / heads) * n_k : nullptr,
          n_q, n_k, d, m, scale, std::sqrt(scale), kernel};
}

}  // namespace

// Heads are independent; each runs its chunks in order on one thread.
void CpuBackend::favor_causal_forward(const float* q, const float* k, const float* v, const float* w, float* o,
                                      float* den, float* kmax, int64_t bh, int64_t heads, int64_t n_q, int64_t n_k,
                                      int64_t d, int64_t m, float scale, FavorKernel kernel, const float* key_pad) {
#pragma omp parallel
  {
    Work work(m, d);
#pragma omp for schedule(dynamic)
    for (int64_t b = 0; b < bh; ++b)
      forward_head(head_of(b, q, k, v, w, heads, n_q, n_k, d, m, scale, kernel, key_pad), work, o + b * n_q * d,
                   den + b * n_q, kmax + b * n_k);
  }
}

// The two sweeps of a head are independent too (one reads S forwards, the other R
// backwards), so they are separate tasks: 2 bh tasks in all.
void CpuBackend::favor_causal_backward(const float* q, const float* k, const float* v, const float* w, const float* o,
                                       const float* den, const float* kmax, const float* d_o, float* dq, float* dk,
                                       float* dv, int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d,
                                       int64_t m, float scale, FavorKernel kernel, const float* key_pad) {
#pragma omp parallel
  {
    Work work(m, d);
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < 2 * bh; ++task) {
      const int64_t b = task / 2;
      const FavorHead h = head_of(b, q, k, v, w, heads, n_q, n_k, d, m, scale, kernel, key_pad);
      if (task % 2 == 0)
        backward_queries(h, work, o + b * n_q * d, den + b * n_q, kmax + b * n_k, d_o + b * n_q * d, dq + b * n_q * d);
      else
        backward_keys(h, work, o + b * n_q * d, den + b * n_q, kmax + b * n_k, d_o + b * n_q * d, dk + b * n_k * d,
                      dv + b * n_k * d);
    }
  }
}

}  // namespace ta::cpu
