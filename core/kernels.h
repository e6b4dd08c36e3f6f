// core/kernels.h — tensor-level kernels without autograd.
//
// Each function checks its arguments (throwing ta::Error that names the op, what
// it got and what it expected), allocates the output on the inputs' device and
// runs the device's backend kernel. autograd/ builds the differentiable ops on top
// of these; nothing above core/ touches raw memory.
#pragma once

#include <utility>
#include <vector>

#include "core/backend.h"
#include "core/tensor.h"

namespace ta::kernels {

// The device all tensors share; throws naming `op` when they differ.
Device common_device(std::initializer_list<const Tensor*> ts, const char* op);

Tensor unary(UnaryOp op, const Tensor& x, float param, const char* name);
Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, float param);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const char* name);
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
// The reverse of broadcasting: sums x over the dimensions where `shape` has size 1
// or is missing, giving a tensor of `shape` (the gradient of broadcast_to).
Tensor sum_to(const Tensor& x, const Shape& shape);

// Overwrites dst's values with src's (same shape and device), in place: every handle
// to dst sees the change. For loading weights; ops never write into their inputs.
void assign(const Tensor& dst, const Tensor& src);

// dst += src in place (same shapes), and dst's slice [start, start + len) along `axis`
// += src, whose shape is dst's with len along axis. Only for a buffer no one else
// holds: the backward pass's own gradient sums (autograd/engine.cpp). `op` names the
// caller in errors.
void add_into(const Tensor& dst, const Tensor& src, const char* op);
void add_into_slice(const Tensor& dst, const Tensor& src, int axis, int64_t start, const char* op);

// A view of x's storage with a new shape of the same size (x is contiguous).
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor reduce(ReduceOp op, const Tensor& x, int axis, bool keepdim);
Tensor softmax(const Tensor& x, int axis, bool log);
Tensor softmax_backward(const Tensor& y, const Tensor& dy, int axis, bool log);
Tensor cumsum(const Tensor& x, int axis, bool reverse);

Tensor permute(const Tensor& x, const std::vector<int>& order);
Tensor narrow(const Tensor& x, int axis, int64_t start, int64_t length);
Tensor concat(const std::vector<Tensor>& xs, int axis);

// Checks that every value of `index` is a whole number in [0, bound).
void check_indices(const Tensor& index, int64_t bound, const char* op);
Tensor index_select(const Tensor& x, int axis, const Tensor& index);
Tensor index_add(const Tensor& dy, int axis, const Tensor& index, const Shape& x_shape);
Tensor gather(const Tensor& x, int axis, const Tensor& index);
Tensor scatter_add(const Tensor& dy, int axis, const Tensor& index, const Shape& x_shape);

// a [..., M, K] @ b [..., K, N] with transpose flags and broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b, Transpose ta, Transpose tb);
// A fully connected layer with its activation fused into the GEMM
// (Backend::gemm_epilogue): y = act(x W^T + b) for x [..., in], weight [out, in] and bias
// [out] (or undefined), act = None for the plain layer; bias and activation are applied
// to each tile of the product as it is written, so neither costs a pass over the output
// of its own. With PreActivation::Keep, pre = x W^T + b too (what the activation's
// backward reads); with Drop, pre is undefined.
enum class PreActivation { Drop, Keep };
struct LinearOutput {
  Tensor y, pre;
};
LinearOutput linear(const Tensor& x, const Tensor& weight, const Tensor& bias, EpilogueActivation activation,
                    PreActivation keep);

// Fused exact softmax attention (see Backend::attention_forward). q [B, H, n_q, d],
// k and v [B, H, n_k, d], key_pad [B, n_k] (1 = padded) or undefined.
// Returns {o [B, H, n_q, d], lse [B, H, n_q]}.
std::pair<Tensor, Tensor> attention(const Tensor& q, const Tensor& k, const Tensor& v, float scale, bool causal,
                                    const Tensor& key_pad);
// Returns {dq, dk, dv}.
std::vector<Tensor> attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                                       const Tensor& lse, const Tensor& d_o, float scale, bool causal,
                                       const Tensor& key_pad);

// FLASH attention (see Backend::flash_forward and core/attention/flash_options.h): qk
// [4 or 2, B, n, s], v [B, n, e], rel_bias [2L - 1] (L >= the chunk length) or
// undefined, key_pad [B, n] (1 = padded) or undefined. Returns {out [B, n, e], state}
// (state [B, causal ? chunks : 1, s, e], undefined without the linear part).
std::pair<Tensor, Tensor> flash_attention(const Tensor& qk, const Tensor& v, const FlashOptions& options,
                                          const Tensor& rel_bias, const Tensor& key_pad);
// Returns {dqk, dv, drel_bias (undefined without a table)}.
std::vector<Tensor> flash_attention_backward(const Tensor& qk, const Tensor& v, const FlashOptions& options,
                                             const Tensor& rel_bias, const Tensor& key_pad, const Tensor& state,
                                             const Tensor& d_out);
// FLASH's scale-offset: z [..., s], gamma and beta [planes, s] -> [planes, ..., s].
Tensor scale_offset(const Tensor& z, const Tensor& gamma, const Tensor& beta);
// Returns {dz, dgamma, dbeta}.
std::vector<Tensor> scale_offset_backward(const Tensor& z, const Tensor& gamma, const Tensor& dy);

// LayerNorm / RMSNorm over the last axis; gamma, beta may be undefined. Returns
// {y, mean, rstd} (the last two per row, for the backward).
struct NormResult {
  Tensor y, mean, rstd;
};
NormResult layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, bool subtract_mean);
// Returns {dx, dgamma, dbeta} (dgamma, dbeta undefined when gamma, beta were).
std::vector<Tensor> layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                        const Tensor& rstd, const Tensor& dy, bool subtract_mean);

// In-place optimizer updates of parameter p from gradient g (see core/backend_ops.h for
// the formulas); state tensors (buf, m, v) have p's shape.
void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, float lr, float momentum, float weight_decay,
                bool nesterov, bool first_step);
void adam_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, float lr, float beta1,
                 float beta2, float eps, float weight_decay, bool decoupled, int64_t step);
double sum_of_squares(const Tensor& x);

// Per-row losses and log-sum-exps of logits [rows, classes] against targets [rows].
std::pair<Tensor, Tensor> cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index);
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, const Tensor& scale,
                              int64_t ignore_index);


// ---- block-sparse attention (Sparse Transformer; see Backend::block_sparse_attention_forward) ----
// q [B, H, n_q, d], k and v [B, H, n_k, d], key_pad [B, n_k] (1 = padded) or undefined;
// the layout must be built for these n_q, n_k (attention/sparse_layout.h). Checks
// the layout's lists (indices in range, query rows unique within a part).
// Returns {o [B, H, n_q, d], lse [B, H, n_q]}.
std::pair<Tensor, Tensor> block_sparse_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                                 const BlockSparseLayout& layout, float scale, const Tensor& key_pad);
// Returns {dq, dk, dv}.
std::vector<Tensor> block_sparse_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                                                    const Tensor& lse, const Tensor& d_o,
                                                    const BlockSparseLayout& layout, float scale,
                                                    const Tensor& key_pad);

// ---- fused causal FAVOR+ attention (Performer; see Backend::favor_causal_forward) ----
// q [B, H, n_q, d], k and v [B, H, n_k, d] with n_k >= n_q, w [m, d] the random
// features (no gradient), key_pad [B, n_k] (1 = padded) or undefined.
struct FavorResult {
  Tensor o;     // [B, H, n_q, d]
  Tensor den;   // [B, H, n_q], the raw denominators
  Tensor kmax;  // [B, H, n_k], the running maxima of the key exponents
};
FavorResult favor_causal(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& w, float scale,
                         FavorKernel kernel, const Tensor& key_pad);
// Returns {dq, dk, dv}.
std::vector<Tensor> favor_causal_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& w,
                                          const FavorResult& saved, const Tensor& d_o, float scale,
                                          FavorKernel kernel, const Tensor& key_pad);

}  // namespace ta::kernels
