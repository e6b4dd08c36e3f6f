// core/backend_ops.h — the table of backend operations: every operation a device
// implements, written once.
//
// Each entry is
//   TA_BACKEND_OP(kind, return type, name, (parameters), (argument names))
// and whoever includes this file defines TA_BACKEND_OP to make of each entry what it
// needs: core/backend.h a pure virtual member of Backend, core/cpu/cpu_backend.h and
// core/cuda/cuda_backend.h the overriding declarations, the tests a list of names and
// a CPU backend that records which operations a test calls. So adding an operation is
// one entry here (and its definitions); a declaration cannot be forgotten.
//
// kind says how the CUDA backend does it:
//   Kernel   with a kernel of its own (core/cuda/kernels/), which the tests run under
//            the SIMT emulation against the CPU backend: tests/cuda/test_backend_ops.cpp
//            fails while an operation of this kind has no such case;
//   Library  by calling CUDA's libraries (the runtime's memory calls, cuBLAS): nothing
//            of ours to emulate; checked on a real GPU (tests/cuda/test_cuda_device.cpp).
//
// Kernels take raw float pointers to contiguous row-major buffers plus sizes; they
// never allocate tensors, never check user input (the tensor-level kernels of core/kernels/
// do that before calling them) and never throw from inside a parallel loop. Many work "along an axis"
// of a tensor viewed as [outer, n, inner]: element (o, i, k) sits at
// (o * n + i) * inner + k, and the kernel acts along i.
//
// No include guard: this file is included once per expansion, with TA_BACKEND_OP defined.

// --- memory -------------------------------------------------------------------------
TA_BACKEND_OP(Library, float*, allocate, (int64_t n), (n))
TA_BACKEND_OP(Library, void, deallocate, (float* p, int64_t n), (p, n))
TA_BACKEND_OP(Library, void, copy_from_host, (const float* host, float* dst, int64_t n), (host, dst, n))
TA_BACKEND_OP(Library, void, copy_to_host, (const float* src, float* host, int64_t n), (src, host, n))
TA_BACKEND_OP(Library, void, copy, (const float* src, float* dst, int64_t n), (src, dst, n))

// --- creation -----------------------------------------------------------------------
TA_BACKEND_OP(Kernel, void, fill, (float* out, int64_t n, float value), (out, n, value))
TA_BACKEND_OP(Kernel, void, arange, (float* out, int64_t n, float start, float step), (out, n, start, step))
// out[i] = lo + (hi - lo) * u(seed, offset + i)
TA_BACKEND_OP(Kernel, void, random_uniform, (float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi),
              (out, n, seed, offset, lo, hi))
// out[i] = mean + std * z(seed, offset + i), z standard normal by Box-Muller
TA_BACKEND_OP(Kernel, void, random_normal,
              (float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std),
              (out, n, seed, offset, mean, std))

// --- element-wise -------------------------------------------------------------------
TA_BACKEND_OP(Kernel, void, unary, (UnaryOp op, const float* x, float* y, int64_t n, float param),
              (op, x, y, n, param))
// dx = dy * f'(x), exactly 0 where dy is 0 (gradient_times in elementwise_math.h);
// y = f(x) is passed too since some derivatives read it.
TA_BACKEND_OP(Kernel, void, unary_backward,
              (UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n, float param),
              (op, x, y, dy, dx, n, param))
TA_BACKEND_OP(Kernel, void, binary,
              (BinaryOp op, const float* a, const float* b, float* out, const BroadcastPlan& plan),
              (op, a, b, out, plan))
// out = mask != 0 ? a : b, all three broadcast per `plan`.
TA_BACKEND_OP(Kernel, void, where,
              (const float* mask, const float* a, const float* b, float* out, const BroadcastPlan& plan),
              (mask, a, b, out, plan))
// out = x broadcast per plan (input 0).
TA_BACKEND_OP(Kernel, void, broadcast_to, (const float* x, float* out, const BroadcastPlan& plan), (x, out, plan))

// --- along an axis of [outer, n, inner] -----------------------------------------------
// y[o, k] = op over i of x[o, i, k]
TA_BACKEND_OP(Kernel, void, reduce, (ReduceOp op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner),
              (op, x, y, outer, n, inner))
// y = softmax (or log_softmax) of x along i
TA_BACKEND_OP(Kernel, void, softmax,
              (const float* x, float* y, int64_t outer, int64_t n, int64_t inner, SoftmaxForm form),
              (x, y, outer, n, inner, form))
// softmax: dx = y * (dy - sum_i dy*y);  log_softmax: dx = dy - exp(y) * sum_i dy
TA_BACKEND_OP(Kernel, void, softmax_backward,
              (const float* y, const float* dy, float* dx, int64_t outer, int64_t n, int64_t inner,
               SoftmaxForm form),
              (y, dy, dx, outer, n, inner, form))
// y[o, i, k] = sum_{j <= i} x[o, j, k] (Forward), or sum_{j >= i} (Reverse)
TA_BACKEND_OP(Kernel, void, cumsum,
              (const float* x, float* y, int64_t outer, int64_t n, int64_t inner, ScanDirection direction),
              (x, y, outer, n, inner, direction))

// --- indexing along an axis (index values already checked) ----------------------------
// y[o, j, k] = x[o, index[j], k] for j < n_index
TA_BACKEND_OP(Kernel, void, index_select,
              (const float* x, const float* index, float* y, int64_t outer, int64_t n_src, int64_t n_index,
               int64_t inner),
              (x, index, y, outer, n_src, n_index, inner))
// dx[o, index[j], k] += dy[o, j, k]  (dx is accumulated into, not cleared)
TA_BACKEND_OP(Kernel, void, index_add,
              (const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst, int64_t n_index,
               int64_t inner),
              (dy, index, dx, outer, n_dst, n_index, inner))
// y[o, j, k] = x[o, index[o, j, k], k]
TA_BACKEND_OP(Kernel, void, gather,
              (const float* x, const float* index, float* y, int64_t outer, int64_t n_src, int64_t n_index,
               int64_t inner),
              (x, index, y, outer, n_src, n_index, inner))
// dx[o, index[o, j, k], k] += dy[o, j, k]
TA_BACKEND_OP(Kernel, void, scatter_add,
              (const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst, int64_t n_index,
               int64_t inner),
              (dy, index, dx, outer, n_dst, n_index, inner))

// --- data movement --------------------------------------------------------------------
// y = x with its dimensions reordered: y's dimension d is x's dimension perm[d].
TA_BACKEND_OP(Kernel, void, permute, (const float* x, float* y, const Shape& x_shape, const int* perm),
              (x, y, x_shape, perm))
// rows x row_len block copy between two row-strided buffers (slices and concat).
TA_BACKEND_OP(Library, void, copy_rows,
              (const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t rows, int64_t row_len),
              (src, src_stride, dst, dst_stride, rows, row_len))
// The same block added instead of copied: dst[r, i] += src[r, i] (the backward pass
// sums gradients, and slices of them, into a buffer of its own this way).
TA_BACKEND_OP(Kernel, void, accumulate_rows,
              (const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t rows, int64_t row_len),
              (src, src_stride, dst, dst_stride, rows, row_len))

// --- matrix products ------------------------------------------------------------------
// For b < batch: C_b = alpha * op(A_b) op(B_b) + beta * C_b, row-major, with
// op(X) = X or X^T per the flags, op(A) M x K, op(B) K x N, C M x N, and
// X_b = X + b * stride_X (a stride of 0 reuses one matrix for every b).
// Aliasing: A and B may be the same memory (both are only read); C must not overlap
// A or B, and the C_b must not overlap one another. beta = 0: C is not read, so it
// may hold anything, NaN included. alpha = 0 or K = 0: A and B are not read.
TA_BACKEND_OP(Library, void, gemm,
              (Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t stride_a, const float* B, int64_t stride_b, float beta, float* C, int64_t stride_c,
               int64_t batch),
              (ta, tb, M, N, K, alpha, A, stride_a, B, stride_b, beta, C, stride_c, batch))
// gemm with a fused epilogue, applied while each tile of the product is still being
// written (no pass over C of its own):
//   P_b = alpha op(A_b) op(B_b) + beta C_b + bias   (bias[j] added to column j),
//   pre_b = P_b (when epilogue.pre_activation: pre_b = pre_activation + b * stride_c),
//   C_b = act(P_b).
// pre_activation must not overlap A, B or C (nor may C overlap A or B, as for gemm).
// (CUDA: cuBLAS's product, then an epilogue kernel of our own.)
TA_BACKEND_OP(Kernel, void, gemm_epilogue,
              (Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t stride_a, const float* B, int64_t stride_b, float beta, float* C, int64_t stride_c,
               int64_t batch, const GemmEpilogue& epilogue),
              (ta, tb, M, N, K, alpha, A, stride_a, B, stride_b, beta, C, stride_c, batch, epilogue))

// --- normalization over the last axis of [rows, dim] --------------------------------
// LayerNorm or RMSNorm: with mu = mean(x) (LayerNorm) or 0 (RMSNorm),
//   rstd = 1 / sqrt(mean((x - mu)^2) + eps),  y = (x - mu) rstd * gamma + beta.
// gamma and beta may be null (no affine part); mean and rstd ([rows]) are saved.
TA_BACKEND_OP(Kernel, void, layer_norm,
              (const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
               int64_t rows, int64_t dim, float eps, LayerNormKind kind),
              (x, gamma, beta, y, mean, rstd, rows, dim, eps, kind))
// With xhat = (x - mu) rstd and dxhat = dy * gamma:
//   dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))   (RMSNorm: no mean(dxhat) term)
//   dgamma = sum over rows of dy xhat,  dbeta = sum over rows of dy  (when not null)
TA_BACKEND_OP(Kernel, void, layer_norm_backward,
              (const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy, float* dx,
               float* dgamma, float* dbeta, int64_t rows, int64_t dim, LayerNormKind kind),
              (x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, dim, kind))

// --- loss -----------------------------------------------------------------------------
// Per row r of logits [rows, classes] with integer target t_r:
// lse_r = log sum_c exp(logits_rc); loss_r = lse_r - logits_{r t_r}, or 0 when t_r == ignore.
TA_BACKEND_OP(Kernel, void, cross_entropy,
              (const float* logits, const float* targets, float* loss, float* lse, int64_t rows, int64_t classes,
               int64_t ignore_index),
              (logits, targets, loss, lse, rows, classes, ignore_index))
// dlogits_rc = scale[0] * (exp(logits_rc - lse_r) - [c == t_r]), 0 for ignored rows.
TA_BACKEND_OP(Kernel, void, cross_entropy_backward,
              (const float* logits, const float* targets, const float* lse, const float* scale, float* dlogits,
               int64_t rows, int64_t classes, int64_t ignore_index),
              (logits, targets, lse, scale, dlogits, rows, classes, ignore_index))

// --- optimizer updates, in place on n parameters ---------------------------------------
// SGD with momentum mu and weight decay wd (added to the gradient):
//   d = g + wd p;  buf = mu buf + d (buf starts at 0: d after the first step);
//   p -= lr (Nesterov ? d + mu buf : buf)      (mu = 0: p -= lr d, buf unused)
TA_BACKEND_OP(Kernel, void, sgd_update,
              (float* p, const float* g, float* buf, int64_t n, float lr, float momentum, float weight_decay,
               SgdMomentum kind),
              (p, g, buf, n, lr, momentum, weight_decay, kind))
// Adam (Kingma & Ba) with bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t:
//   g' = g + wd p            (Adam: L2 decay folded into the gradient), or g' = g (AdamW)
//   m = beta1 m + (1 - beta1) g';  v = beta2 v + (1 - beta2) g'^2
//   p -= lr (m / c1) / (sqrt(v / c2) + eps)
//   p -= lr wd p             (AdamW only: decay decoupled from the gradient, applied first)
TA_BACKEND_OP(Kernel, void, adam_update,
              (float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps,
               float weight_decay, WeightDecay decay, float c1, float c2),
              (p, g, m, v, n, lr, beta1, beta2, eps, weight_decay, decay, c1, c2))
// sum of squares of x, accumulated in double (for gradient-norm clipping)
TA_BACKEND_OP(Kernel, double, sum_of_squares, (const float* x, int64_t n), (x, n))

// --- the papers' fused attention kernels ------------------------------------------------
#include "core/attention/backend_ops.h"
