// core/backend.h — the kernel list: everything a device must do, on raw buffers.
//
// This is the only device-specific layer. core/cpu/ implements it with OpenBLAS
// and OpenMP loops, core/cuda/ with cuBLAS and its own kernels. Kernels take raw
// float pointers to contiguous row-major buffers plus sizes; they never allocate
// tensors, never check user input (core/kernels.cpp does that before calling them)
// and never throw from inside a parallel loop.
//
// Many kernels work "along an axis" of a tensor viewed as [outer, n, inner]:
// element (o, i, k) sits at (o * n + i) * inner + k, and the kernel acts along i.
#pragma once

#include <cstdint>
#include <vector>

#include "core/device.h"
#include "core/flash_options.h"
#include "core/shape.h"

namespace ta {

enum class UnaryOp {
  Neg, Exp, Log, Sqrt, Rsqrt, Abs, Tanh, Sigmoid, Relu, ReluSquared, GeluTanh, GeluErf, Silu, Softplus,
  Elu,        // x > 0 ? x : param (e^x - 1)
  AddScalar,  // x + param
  MulScalar,  // x * param
  PowScalar,  // x ^ param
};

enum class BinaryOp {
  Add, Sub, Mul, Div, Maximum, Minimum,
  Eq, Ne, Lt, Le, Gt, Ge,  // comparisons give 1.0 or 0.0
  // a * b and a / b, except exactly 0 where a is 0, whatever b is: the backward
  // pass's gradient a times (or over) a local derivative b, so that a zero gradient
  // stays zero where b is inf or NaN (core/elementwise_math.h, gradient_times).
  GradMul, GradDiv,
};

enum class ReduceOp { Sum, Max, LogSumExp };

enum class Transpose { No, Yes };

// The activation a GEMM can apply to its result before writing it (Backend::gemm_epilogue),
// each with the formula of core/elementwise_math.h: GeluErf is the exact x Phi(x) that
// layers/ call GELU, GeluTanh its tanh approximation, Silu x sigmoid(x).
enum class EpilogueActivation { None, Relu, GeluErf, GeluTanh, Silu };

// What gemm_epilogue does to the product before writing it: a bias per output column
// (Linear's bias), then an activation; the value before the activation can be kept too.
struct GemmEpilogue {
  const float* bias = nullptr;  // [N], added to every row; or null
  EpilogueActivation activation = EpilogueActivation::None;
  float* pre_activation = nullptr;  // laid out as C (same strides), receives the activation's argument; or null
};

// The kernel of fused FAVOR+ attention (Performer): the softmax kernel's positive
// random features, or the ReLU kernel (see Backend::favor_causal_forward).
enum class FavorKernel { Softmax, Relu };

// How the inputs of an element-wise kernel map onto its output: the output shape
// and, per input, a stride for each output dimension (0 along broadcast dims).
// Adjacent dimensions that are contiguous in every operand are merged first, so
// most plans end up one- or two-dimensional.
struct BroadcastPlan {
  int ndim = 0;
  Dims shape{};
  Dims strides[3]{};
  int64_t numel() const;
};
// Builds the plan for inputs of the given shapes onto `out` (all broadcastable to it).
BroadcastPlan make_broadcast_plan(const Shape& out, const Shape* inputs, int n_inputs);

// --- block-sparse attention layouts (Sparse Transformer, Child et al. 2019) ---
// Which (query, key) pairs each head may attend to, as a list of b x b blocks;
// attention/sparse_layout.h builds them from token patterns, and the
// block_sparse_attention kernels visit only the listed blocks.
//
// A head's pattern is cut into disjoint parts. Each part puts some query rows and
// some keys in an order of its own (strided attention's "every l-th key" becomes
// dense when positions are grouped by residue mod l), cuts both lists into blocks
// of b, and lists per query block the active key blocks, row by row (CSR). A block
// is either full or carries a bit mask of the pairs it allows. All the parts of a
// pattern share one softmax per query row, so the row's weights are exact over the
// union of its allowed keys.
struct BlockSparseLayout {
  struct Part {
    std::vector<int32_t> queries;    // query rows (0 .. n_q - 1, each at most once), in block order
    std::vector<int32_t> keys;       // keys (0 .. n_k - 1), in block order
    std::vector<int32_t> row_begin;  // [query blocks + 1]: block row I is col[row_begin[I] .. row_begin[I + 1])
    std::vector<int32_t> col;        // [active blocks] the key block J of each
    std::vector<int32_t> mask;       // [active blocks] index of its mask, or -1: every pair allowed
    std::vector<uint64_t> masks;     // [masks * b] word r of a mask: bit c set <=> row r may see column c
  };
  struct Pattern {
    std::vector<Part> parts;
  };
  int64_t block = 32;  // b, at most 64 (a mask row is one 64-bit word)
  int64_t n_q = 0;     // query rows: the last n_q of the n_k positions
  int64_t n_k = 0;
  std::vector<Pattern> patterns;  // head h uses patterns[h % patterns.size()]
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // --- memory -------------------------------------------------------------
  virtual float* allocate(int64_t n) = 0;
  virtual void deallocate(float* p, int64_t n) = 0;
  virtual void copy_from_host(const float* host, float* dst, int64_t n) = 0;
  virtual void copy_to_host(const float* src, float* host, int64_t n) = 0;
  // Waits until every kernel launched so far has finished (GPU launches are
  // asynchronous; the CPU's are done on return). For timing, not for correctness:
  // copies to the host wait by themselves.
  virtual void synchronize() {}

  // --- creation -----------------------------------------------------------
  virtual void fill(float* out, int64_t n, float value) = 0;
  virtual void copy(const float* src, float* dst, int64_t n) = 0;
  virtual void arange(float* out, int64_t n, float start, float step) = 0;
  // out[i] = lo + (hi - lo) * u(seed, offset + i)
  virtual void random_uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) = 0;
  // out[i] = mean + std * z(seed, offset + i), z standard normal by Box-Muller
  virtual void random_normal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) = 0;

  // --- element-wise -------------------------------------------------------
  virtual void unary(UnaryOp op, const float* x, float* y, int64_t n, float param) = 0;
  // dx = dy * f'(x), exactly 0 where dy is 0 (gradient_times in elementwise_math.h);
  // y = f(x) is passed too since some derivatives read it.
  virtual void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n,
                              float param) = 0;
  virtual void binary(BinaryOp op, const float* a, const float* b, float* out, const BroadcastPlan& plan) = 0;
  // out = mask != 0 ? a : b, all three broadcast per `plan`.
  virtual void where(const float* mask, const float* a, const float* b, float* out, const BroadcastPlan& plan) = 0;
  // out = x broadcast per plan (input 0).
  virtual void broadcast_to(const float* x, float* out, const BroadcastPlan& plan) = 0;

  // --- along an axis of [outer, n, inner] ----------------------------------
  // y[o, k] = op over i of x[o, i, k]
  virtual void reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner) = 0;
  // y = softmax (or log_softmax) of x along i
  virtual void softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool log) = 0;
  // softmax: dx = y * (dy - sum_i dy*y);  log_softmax: dx = dy - exp(y) * sum_i dy
  virtual void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t n, int64_t inner,
                                bool log) = 0;
  // y[o, i, k] = sum_{j <= i} x[o, j, k], or sum_{j >= i} when reverse
  virtual void cumsum(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool reverse) = 0;
  // y[o, j, k] = x[o, index[j], k] for j < n_index  (index values already checked)
  virtual void index_select(const float* x, const float* index, float* y, int64_t outer, int64_t n_src,
                            int64_t n_index, int64_t inner) = 0;
  // dx[o, index[j], k] += dy[o, j, k]  (dx is accumulated into, not cleared)
  virtual void index_add(const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst,
                         int64_t n_index, int64_t inner) = 0;
  // y[o, j, k] = x[o, index[o, j, k], k]
  virtual void gather(const float* x, const float* index, float* y, int64_t outer, int64_t n_src, int64_t n_index,
                      int64_t inner) = 0;
  // dx[o, index[o, j, k], k] += dy[o, j, k]
  virtual void scatter_add(const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst,
                           int64_t n_index, int64_t inner) = 0;

  // --- data movement ------------------------------------------------------
  // y = x with its dimensions reordered: y's dimension d is x's dimension perm[d].
  virtual void permute(const float* x, float* y, const Shape& x_shape, const int* perm) = 0;
  // rows x row_len block copy between two row-strided buffers (slices and concat).
  virtual void copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t rows,
                         int64_t row_len) = 0;
  // The same block added instead of copied: dst[r, i] += src[r, i] (the backward
  // pass sums gradients, and slices of them, into a buffer of its own this way).
  virtual void accumulate_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t rows,
                               int64_t row_len) = 0;

  // --- linear algebra -----------------------------------------------------
  // For b < batch: C_b = alpha * op(A_b) op(B_b) + beta * C_b, row-major, with
  // op(X) = X or X^T per the flags, op(A) M x K, op(B) K x N, C M x N, and
  // X_b = X + b * stride_X (a stride of 0 reuses one matrix for every b).
  // Aliasing: A and B may be the same memory (both are only read); C must not overlap
  // A or B, and the C_b must not overlap one another. beta = 0: C is not read, so it
  // may hold anything, NaN included. alpha = 0 or K = 0: A and B are not read.
  virtual void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t stride_a, const float* B, int64_t stride_b, float beta, float* C, int64_t stride_c,
                    int64_t batch) = 0;
  // gemm with a fused epilogue, applied while each tile of the product is still being
  // written (no pass over C of its own):
  //   P_b = alpha op(A_b) op(B_b) + beta C_b + bias   (bias[j] added to column j),
  //   pre_b = P_b (when epilogue.pre_activation: pre_b = pre_activation + b * stride_c),
  //   C_b = act(P_b).
  // pre_activation must not overlap A, B or C (nor may C overlap A or B, as for gemm).
  virtual void gemm_epilogue(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha,
                             const float* A, int64_t stride_a, const float* B, int64_t stride_b, float beta,
                             float* C, int64_t stride_c, int64_t batch, const GemmEpilogue& epilogue) = 0;

  // --- fused exact softmax attention (FlashAttention-style, Dao et al. 2022) ---
  // q [bh, n_q, d], k and v [bh, n_k, d], row-major; bh = batch * heads.
  // O = softmax(scale q k^T + mask) v, tiled over queries and keys with an online
  // softmax, so the n_q x n_k matrix never exists; lse [bh, n_q] (the row
  // log-sum-exps, +inf for a row with no visible key) is saved for the backward.
  // Causal: query i sees keys j <= i + (n_k - n_q); tiles wholly above that
  // diagonal are skipped. key_pad [bh / heads, n_k] (nonzero = padded) or null.
  virtual void attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh,
                                 int64_t heads, int64_t n_q, int64_t n_k, int64_t d, float scale, bool causal,
                                 const float* key_pad) = 0;
  // Recomputes each tile's probabilities P = exp(scale q k^T - lse) and forms
  //   dV = P^T dO,  dS = P * (dO V^T - rowsum(dO * O)),  dQ = scale dS K,  dK = scale dS^T Q.
  virtual void attention_backward(const float* q, const float* k, const float* v, const float* o, const float* lse,
                                  const float* d_o, float* dq, float* dk, float* dv, int64_t bh, int64_t heads,
                                  int64_t n_q, int64_t n_k, int64_t d, float scale, bool causal,
                                  const float* key_pad) = 0;

  // --- block-sparse attention (Sparse Transformer; core/cpu/block_sparse_attention.cpp) ---
  // q [bh, n_q, d], k and v [bh, n_k, d]; row b of bh is head b % heads, which uses
  // layout.patterns[head % patterns.size()]. Query row i attends to exactly the keys
  // its pattern's parts list: O = softmax(scale q k^T) v over those keys (an online
  // softmax across the visited blocks and parts), lse [bh, n_q] saved; a row that
  // sees no key gets O = 0, lse = +inf. key_pad [bh / heads, n_k] (nonzero =
  // padded) or null. Time and memory proportional to the active blocks.
  virtual void block_sparse_attention_forward(const float* q, const float* k, const float* v, float* o, float* lse,
                                              int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d,
                                              float scale, const BlockSparseLayout& layout,
                                              const float* key_pad) = 0;
  // attention_backward's algorithm (P recomputed from lse; dV, dP, dS, dQ, dK) over
  // the active blocks only.
  virtual void block_sparse_attention_backward(const float* q, const float* k, const float* v, const float* o,
                                               const float* lse, const float* d_o, float* dq, float* dk, float* dv,
                                               int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d,
                                               float scale, const BlockSparseLayout& layout,
                                               const float* key_pad) = 0;

  // --- FLASH attention (Hua et al. 2022; core/cpu/flash.cpp) ------------------
  // The function of core/flash_options.h, one head. qk [planes, batch, n, s] (planes
  // 4 when dims.linear, else 2), v [batch, n, e] -> out [batch, n, e]. Chunks of
  // options.chunk_length(n); the quadratic part is computed on query x key tiles of
  // each chunk (tiles above the causal diagonal skipped), each tile product a GEMM.
  // state [batch, causal ? chunks : 1, s, e] receives P_g, the linear part's state
  // (causal: exclusive prefix sums of Kl_h^T V_h over earlier chunks; bidirectional:
  // the total), saved for the backward; unused when not dims.linear. rel_bias
  // [2 dims.bias_len - 1] or null; key_pad [batch, n] (nonzero = padded) or null.
  // Memory beyond the inputs: the state, n s e / c floats, and O(tile) per thread.
  virtual void flash_forward(const FlashDims& dims, const FlashOptions& options, const float* qk, const float* v,
                             const float* rel_bias, const float* key_pad, float* out, float* state) = 0;
  // Gradients of everything (dqk has qk's planes; drel_bias may be null when there
  // is no table). The quadratic tiles are recomputed from qk; the linear part runs
  // backward over the chunks with the running state dP_h = sum_{g > h} ql_g^T (u dO_g).
  virtual void flash_backward(const FlashDims& dims, const FlashOptions& options, const float* qk, const float* v,
                              const float* rel_bias, const float* key_pad, const float* state, const float* d_out,
                              float* dqk, float* dv, float* drel_bias) = 0;
  // Per-dimension scale and offset of FLASH's shared base: for plane p < planes,
  // y[p, row, k] = z[row, k] gamma[p, k] + beta[p, k]; z [rows, s], y [planes, rows, s].
  virtual void scale_offset(const float* z, const float* gamma, const float* beta, float* y, int64_t rows,
                            int64_t planes, int64_t s) = 0;
  // dz[row, k] = sum_p dy[p, row, k] gamma[p, k];  dgamma[p, k] = sum_row dy[p, row, k] z[row, k];
  // dbeta[p, k] = sum_row dy[p, row, k].
  virtual void scale_offset_backward(const float* z, const float* gamma, const float* dy, float* dz, float* dgamma,
                                     float* dbeta, int64_t rows, int64_t planes, int64_t s) = 0;

  // --- fused causal FAVOR+ attention (Performer, Choromanski et al. 2020; core/cpu/performer.cpp) ---
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
  virtual void favor_causal_forward(const float* q, const float* k, const float* v, const float* w, float* o,
                                    float* den, float* kmax, int64_t bh, int64_t heads, int64_t n_q, int64_t n_k,
                                    int64_t d, int64_t m, float scale, FavorKernel kernel, const float* key_pad) = 0;
  // dq, dk, dv (w gets no gradient): a forward sweep over the chunks with the state
  // gives dq, a reverse sweep with the reverse state gives dk and dv; both recompute
  // the features, so extra memory stays O(m d) per head.
  virtual void favor_causal_backward(const float* q, const float* k, const float* v, const float* w, const float* o,
                                     const float* den, const float* kmax, const float* d_o, float* dq, float* dk,
                                     float* dv, int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d,
                                     int64_t m, float scale, FavorKernel kernel, const float* key_pad) = 0;

  // --- normalization over the last axis of [rows, dim] ----------------------
  // LayerNorm (subtract_mean) or RMSNorm (not): with mu = mean(x) or 0,
  //   rstd = 1 / sqrt(mean((x - mu)^2) + eps),  y = (x - mu) rstd * gamma + beta.
  // gamma and beta may be null (no affine part); mean and rstd ([rows]) are saved.
  virtual void layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                          int64_t rows, int64_t dim, float eps, bool subtract_mean) = 0;
  // With xhat = (x - mu) rstd and dxhat = dy * gamma:
  //   dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))   (RMSNorm: no mean(dxhat) term)
  //   dgamma = sum over rows of dy xhat,  dbeta = sum over rows of dy  (when not null)
  virtual void layer_norm_backward(const float* x, const float* gamma, const float* mean, const float* rstd,
                                   const float* dy, float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t dim,
                                   bool subtract_mean) = 0;

  // --- optimizer updates, in place on n parameters ---------------------------
  // SGD with momentum mu and weight decay wd (added to the gradient):
  //   d = g + wd p;  buf = mu buf + d (buf = d on the first step);
  //   p -= lr (nesterov ? d + mu buf : buf)      (mu = 0: p -= lr d, buf unused)
  virtual void sgd_update(float* p, const float* g, float* buf, int64_t n, float lr, float momentum,
                          float weight_decay, bool nesterov, bool first_step) = 0;
  // Adam (Kingma & Ba) with bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t:
  //   g' = g + wd p            (Adam: L2 decay folded into the gradient), or g' = g (AdamW)
  //   m = beta1 m + (1 - beta1) g';  v = beta2 v + (1 - beta2) g'^2
  //   p -= lr (m / c1) / (sqrt(v / c2) + eps)
  //   p -= lr wd p             (AdamW only: decay decoupled from the gradient, applied first)
  virtual void adam_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                           float eps, float weight_decay, bool decoupled, float c1, float c2) = 0;
  // sum of squares of x, accumulated in double (for gradient-norm clipping)
  virtual double sum_of_squares(const float* x, int64_t n) = 0;

  // --- loss ---------------------------------------------------------------
  // Per row r of logits [rows, classes] with integer target t_r:
  // lse_r = log sum_c exp(logits_rc); loss_r = lse_r - logits_{r t_r}, or 0 when t_r == ignore.
  virtual void cross_entropy(const float* logits, const float* targets, float* loss, float* lse, int64_t rows,
                             int64_t classes, int64_t ignore_index) = 0;
  // dlogits_rc = scale[0] * (exp(logits_rc - lse_r) - [c == t_r]), 0 for ignored rows.
  virtual void cross_entropy_backward(const float* logits, const float* targets, const float* lse,
                                      const float* scale, float* dlogits, int64_t rows, int64_t classes,
                                      int64_t ignore_index) = 0;
};

// The backend of a device; asking for CUDA in a build or on a machine without it throws.
Backend& backend(Device d);
// Tests only: makes backend(d) return `b` until called again with nullptr. The
// device-plumbing tests put the CPU kernels behind Device::CUDA this way, so that
// every layer can be run "on another device" (and every stray CPU tensor caught by
// the mixed-device check) on machines without a GPU. Every tensor made while the
// override is in place must be gone before it is lifted.
void override_backend_for_testing(Device d, Backend* b);
bool cuda_available();

}  // namespace ta
