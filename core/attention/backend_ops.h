// core/attention/backend_ops.h — the backend operations of the papers' fused
// attention kernels: the last part of the table of core/backend_ops.h (same entry
// format; included from there, never on its own).
//
// Each family is one file name at every level: the op (autograd/attention/),
// its kernel interface (core/attention/), the CPU kernels (core/cpu/attention/) and
// the CUDA kernels (core/cuda/attention/):
//   dense          exact softmax attention, tiled (FlashAttention-style, Dao et al. 2022)
//   block_sparse   the Sparse Transformer's block-sparse attention (Child et al. 2019)
//   flash          FLASH's mixed-chunk attention and the GAU's scale-offset (Hua et al. 2022)
//   performer      causal FAVOR+ (Choromanski et al. 2020)
// Their types (Causality, FavorKernel, BlockSparseLayout, FlashOptions) are in core/attention/types.h
// and core/attention/flash_options.h.
//
// No include guard: this file is included once per expansion, with TA_BACKEND_OP defined.

// --- dense: fused exact softmax attention ---------------------------------------------
// q [bh, n_q, d], k and v [bh, n_k, d], row-major; bh = batch * heads.
// O = softmax(scale q k^T + mask) v, tiled over queries and keys with an online
// softmax, so the n_q x n_k matrix never exists; lse [bh, n_q] (the row
// log-sum-exps, +inf for a row with no visible key) is saved for the backward.
// Causal: query i sees keys j <= i + (n_k - n_q); tiles wholly above that
// diagonal are skipped. key_pad [bh / heads, n_k] (nonzero = padded) or null.
TA_BACKEND_OP(Kernel, void, attention_forward,
              (const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh, int64_t heads,
               int64_t n_q, int64_t n_k, int64_t d, float scale, Causality causal, const float* key_pad),
              (q, k, v, o, lse, bh, heads, n_q, n_k, d, scale, causal, key_pad))
// Recomputes each tile's probabilities P = exp(scale q k^T - lse) and forms
//   dV = P^T dO,  dS = P * (dO V^T - rowsum(dO * O)),  dQ = scale dS K,  dK = scale dS^T Q.
TA_BACKEND_OP(Kernel, void, attention_backward,
              (const float* q, const float* k, const float* v, const float* o, const float* lse, const float* d_o,
               float* dq, float* dk, float* dv, int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d,
               float scale, Causality causal, const float* key_pad),
              (q, k, v, o, lse, d_o, dq, dk, dv, bh, heads, n_q, n_k, d, scale, causal, key_pad))

// --- block_sparse: block-sparse attention -----------------------------------------------
// q [bh, n_q, d], k and v [bh, n_k, d]; row b of bh is head b % heads, which uses
// layout.patterns[head % patterns.size()]. Query row i attends to exactly the keys
// its pattern's parts list: O = softmax(scale q k^T) v over those keys (an online
// softmax across the visited blocks and parts), lse [bh, n_q] saved; a row that
// sees no key gets O = 0, lse = +inf. key_pad [bh / heads, n_k] (nonzero =
// padded) or null. Time and memory proportional to the active blocks.
TA_BACKEND_OP(Kernel, void, block_sparse_attention_forward,
              (const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh, int64_t heads,
               int64_t n_q, int64_t n_k, int64_t d, float scale, const BlockSparseLayout& layout,
               const float* key_pad),
              (q, k, v, o, lse, bh, heads, n_q, n_k, d, scale, layout, key_pad))
// attention_backward's algorithm (P recomputed from lse; dV, dP, dS, dQ, dK) over
// the active blocks only.
TA_BACKEND_OP(Kernel, void, block_sparse_attention_backward,
              (const float* q, const float* k, const float* v, const float* o, const float* lse, const float* d_o,
               float* dq, float* dk, float* dv, int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d,
               float scale, const BlockSparseLayout& layout, const float* key_pad),
              (q, k, v, o, lse, d_o, dq, dk, dv, bh, heads, n_q, n_k, d, scale, layout, key_pad))

// --- flash: FLASH attention ---------------------------------------------------------------
// The function of core/attention/flash_options.h, one head. qk [planes, batch, n, s]
// (planes 4 when dims.linear, else 2), v [batch, n, e] -> out [batch, n, e]. Chunks of
// options.chunk_length(n); the quadratic part is computed on query x key tiles of
// each chunk (tiles above the causal diagonal skipped), each tile product a GEMM.
// state [batch, causal ? chunks : 1, s, e] receives P_g, the linear part's state
// (causal: exclusive prefix sums of Kl_h^T V_h over earlier chunks; bidirectional:
// the total), saved for the backward; unused when not dims.linear. rel_bias
// [2 dims.bias_len - 1] or null; key_pad [batch, n] (nonzero = padded) or null.
// Memory beyond the inputs: the state, n s e / c floats, and O(tile) per thread.
TA_BACKEND_OP(Kernel, void, flash_forward,
              (const FlashDims& dims, const FlashOptions& options, const float* qk, const float* v,
               const float* rel_bias, const float* key_pad, float* out, float* state),
              (dims, options, qk, v, rel_bias, key_pad, out, state))
// Gradients of everything (dqk has qk's planes; drel_bias may be null when there
// is no table). The quadratic tiles are recomputed from qk; the linear part runs
// backward over the chunks with the running state dP_h = sum_{g > h} ql_g^T (u dO_g).
TA_BACKEND_OP(Kernel, void, flash_backward,
              (const FlashDims& dims, const FlashOptions& options, const float* qk, const float* v,
               const float* rel_bias, const float* key_pad, const float* state, const float* d_out, float* dqk,
               float* dv, float* drel_bias),
              (dims, options, qk, v, rel_bias, key_pad, state, d_out, dqk, dv, drel_bias))
// Per-dimension scale and offset of FLASH's shared base: for plane p < planes,
// y[p, row, k] = z[row, k] gamma[p, k] + beta[p, k]; z [rows, s], y [planes, rows, s].
TA_BACKEND_OP(Kernel, void, scale_offset,
              (const float* z, const float* gamma, const float* beta, float* y, int64_t rows, int64_t planes,
               int64_t s),
              (z, gamma, beta, y, rows, planes, s))
// dz[row, k] = sum_p dy[p, row, k] gamma[p, k];  dgamma[p, k] = sum_row dy[p, row, k] z[row, k];
// dbeta[p, k] = sum_row dy[p, row, k].
TA_BACKEND_OP(Kernel, void, scale_offset_backward,
              (const float* z, const float* gamma, const float* dy, float* dz, float* dgamma, float* dbeta,
               int64_t rows, int64_t planes, int64_t s),
              (z, gamma, dy, dz, dgamma, dbeta, rows, planes, s))

// --- performer: fused causal FAVOR+ attention -----------------------------------------------
// q [bh, n_q, d], k and v [bh, n_k, d] with n_k >= n_q, w [m, d] (the random
// features, shared by all heads); query i sees keys j <= i + (n_k - n_q). With
// x' = sqrt(scale) x, the features and their stabilizers (no gradient flows
// through a stabilizer; it cancels between numerator and denominator):
//   Softmax: phi(q_i) = exp(W q'_i - max_r (W q'_i)_r),
//            phi(k_j) = exp(W k'_j - |k'_j|^2 / 2 - M_j),  M_j = the running max of
//            those exponents over the unpadded keys up to j (causal: nothing later);
//   Relu:    phi(x) = relu(W x') + 1e-3.
// Padded keys (key_pad [bh / heads, n_k] nonzero, or null) get phi = 0. Then
//   o_i = sum_{j <= i} w_ij v_j / max(sum_{j <= i} w_ij, 1e-30),
//   w_ij = phi(q_i) . phi(k_j) exp(M_j - M_i),
// computed in chunks: a masked product inside a chunk, a running state
// sum phi(k_j) [v_j | 1]^T (m x (d+1)) across chunks. Saved for the backward: the
// raw denominators den [bh, n_q] and the running maxima kmax [bh, n_k].
TA_BACKEND_OP(Kernel, void, favor_causal_forward,
              (const float* q, const float* k, const float* v, const float* w, float* o, float* den, float* kmax,
               int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d, int64_t m, float scale,
               FavorKernel kernel, const float* key_pad),
              (q, k, v, w, o, den, kmax, bh, heads, n_q, n_k, d, m, scale, kernel, key_pad))
// dq, dk, dv (w gets no gradient): a forward sweep over the chunks with the state
// gives dq, a reverse sweep with the reverse state gives dk and dv; both recompute
// the features, so extra memory stays O(m d) per head.
TA_BACKEND_OP(Kernel, void, favor_causal_backward,
              (const float* q, const float* k, const float* v, const float* w, const float* o, const float* den,
               const float* kmax, const float* d_o, float* dq, float* dk, float* dv, int64_t bh, int64_t heads,
               int64_t n_q, int64_t n_k, int64_t d, int64_t m, float scale, FavorKernel kernel,
               const float* key_pad),
              (q, k, v, w, o, den, kmax, d_o, dq, dk, dv, bh, heads, n_q, n_k, d, m, scale, kernel, key_pad))
