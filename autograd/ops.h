// autograd/ops.h — every differentiable op of the framework, the user-facing API.
//
// Each op is a pair in autograd/<concern>.cpp (the papers' fused attention in
// autograd/attention/<family>.cpp): the forward calls a tensor-level kernel of its
// concern in core/kernels/ or core/attention/ (which checks the arguments and runs
// the backend), and, when an input requires a gradient and grad mode is on, records
// a node whose backward composes these same ops. Reading one op top to bottom shows the whole path: user call -> shape
// check -> backend kernel -> recorded node -> backward.
//
// Conventions: axes may be negative (-1 is the last); KeepDims::Yes keeps a reduced
// axis with size 1; binary ops broadcast NumPy-style; index and target tensors hold
// whole numbers stored as floats (see core/tensor.h).
#pragma once

#include <memory>
#include <vector>

#include "core/attention/flash_options.h"
#include "core/causality.h"
#include "core/tensor.h"

namespace ta {

struct BlockSparseLayout;       // core/attention/types.h
enum class FavorKernel;         // core/attention/types.h (Softmax, Relu)
enum class EpilogueActivation;  // core/backend.h (None, Relu, GeluErf, GeluTanh, Silu)

// ---- element-wise, broadcasting (autograd/elementwise.cpp) ------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // ties send half the gradient each way
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, float s);
Tensor mul(const Tensor& a, float s);
Tensor pow(const Tensor& a, float exponent);

// ---- element-wise, one input (autograd/elementwise.cpp) ---------------------------
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor relu_squared(const Tensor& x);  // relu(x)^2, the attention weight of FLASH's GAU
enum class GeluApprox { Erf, Tanh };
Tensor gelu(const Tensor& x, GeluApprox approx = GeluApprox::Erf);
Tensor silu(const Tensor& x);
Tensor softplus(const Tensor& x);
// x for x > 0, alpha (e^x - 1) otherwise (Clevert et al. 2016); elu(x) + 1 is the
// positive feature map of linear attention (Katharopoulos et al. 2020).
Tensor elu(const Tensor& x, float alpha = 1.0f);

// ---- comparisons and selection (autograd/elementwise.cpp) -------------------------
// Comparisons give 1.0 where true, 0.0 where false; they carry no gradient.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
// mask != 0 ? a : b, all three broadcast together; gradients flow to a and b.
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);
// x with `value` wherever mask != 0 (mask broadcasts to x).
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);

// ---- reductions (autograd/reduce.cpp) ---------------------------------------------
// An empty `axes` list means every axis.
Tensor sum(const Tensor& x, std::vector<int> axes = {}, KeepDims keep = KeepDims::No);
Tensor mean(const Tensor& x, std::vector<int> axes = {}, KeepDims keep = KeepDims::No);
Tensor max(const Tensor& x, std::vector<int> axes = {}, KeepDims keep = KeepDims::No);  // ties share the gradient
Tensor logsumexp(const Tensor& x, std::vector<int> axes = {}, KeepDims keep = KeepDims::No);
Tensor softmax(const Tensor& x, int axis = -1);
Tensor log_softmax(const Tensor& x, int axis = -1);
Tensor cumsum(const Tensor& x, int axis);

// ---- matrix products (autograd/matmul.cpp) ----------------------------------------
// Which operands of matmul are stored transposed: matmul(q, k, Transposed::B) is
// q k^T, with k read as stored ([..., N, K]), never copied.
enum class Transposed { None, A, B, Both };
// a [..., M, K] @ b [..., K, N] -> [..., M, N]; batch dimensions broadcast; with
// Transposed::A (or Both), a is stored as [..., K, M], with B (or Both) b as
// [..., N, K], and read transposed without a copy. 1-D operands are not promoted:
// use reshape.
Tensor matmul(const Tensor& a, const Tensor& b, Transposed transposed = Transposed::None);
// x [..., in] -> x W^T + b [..., out] for weight [out, in] and bias [out] (or an
// undefined Tensor: no bias); the bias is added inside the product (core/kernels.h).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// act(x W^T + b) with the activation applied inside the product too, as each tile of
// it is written, so it costs no pass over the output of its own. act is the op of the
// same name (relu, gelu with GeluApprox::Erf or Tanh, silu): this equals
// relu(linear(x, W, b)) etc. to float rounding, gradients included.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, EpilogueActivation activation);

// ---- shapes (autograd/movement.cpp) -----------------------------------------------
// Free: shares storage. In the list forms one dimension may be -1, inferred from the
// element count: reshape(x, {-1, 64}).
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor reshape(const Tensor& x, std::initializer_list<int64_t> dims);
Tensor reshape(const Tensor& x, const std::vector<int64_t>& dims);
Tensor permute(const Tensor& x, const std::vector<int>& order);  // copies
Tensor transpose(const Tensor& x, int axis0, int axis1);        // copies
Tensor unsqueeze(const Tensor& x, int axis);
Tensor squeeze(const Tensor& x, int axis);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
// The `length` entries of `axis` starting at `start` (copies, except along a leading axis).
Tensor narrow(const Tensor& x, int axis, int64_t start, int64_t length);
// Python-style x[start:end] along `axis`; negative bounds count from the end.
Tensor slice(const Tensor& x, int axis, int64_t start, int64_t end);
Tensor concat(const std::vector<Tensor>& xs, int axis);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int axis);
Tensor stack(const std::vector<Tensor>& xs, int axis);

// ---- indexing (autograd/index.cpp) ------------------------------------------------
// y = x with `axis` replaced by the entries named in the 1-D `index`.
Tensor index_select(const Tensor& x, int axis, const Tensor& index);
// y has index's shape; y[..i..] = x[..index[..i..]..] along `axis` (torch.gather).
Tensor gather(const Tensor& x, int axis, const Tensor& index);
// weight [V, D], ids of any shape with values in [0, V) -> ids.shape + [D].
Tensor embedding(const Tensor& weight, const Tensor& ids);

// ---- fused attention (autograd/attention/dense.cpp) -------------------------------
// softmax(scale q k^T + mask) v without materializing the scores: q [B, H, n_q, d],
// k, v [B, H, n_k, d]; Causality::Causal lets query i see keys j <= i + n_k - n_q;
// key_padding_mask [B, n_k] (1 = padded) or undefined. Hand-written backward.
Tensor fused_attention(const Tensor& q, const Tensor& k, const Tensor& v, float scale, Causality causal,
                       const Tensor& key_padding_mask = Tensor());

// ---- block-sparse attention (autograd/attention/block_sparse.cpp) -----------------
// Softmax attention over only the (query, key) pairs a block layout allows (Sparse
// Transformer; layouts from attention/sparse_layout.h): per query row, an exact
// softmax over its allowed, unpadded keys (a row with none gives 0). q [B, H, n_q, d],
// k, v [B, H, n_k, d], the layout built for n_q and n_k; key_padding_mask [B, n_k]
// (1 = padded) or undefined. Cost proportional to the active blocks; hand-written
// backward.
Tensor block_sparse_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                              std::shared_ptr<const BlockSparseLayout> layout, float scale,
                              const Tensor& key_padding_mask = Tensor());

// ---- FLASH attention (autograd/attention/flash.cpp) -------------------------------
// The GAU's per-dimension scale-offset: z [..., s], gamma and beta [planes, s] ->
// [planes, ..., s], plane p = z * gamma[p] + beta[p]. One fused pass each way.
Tensor scale_offset(const Tensor& z, const Tensor& gamma, const Tensor& beta);
// FLASH mixed-chunk attention, one head, as written out in core/attention/flash_options.h:
// qk [4, B, n, s] holds quad q, quad k, linear q, linear k (or [2, B, n, s]: the
// quadratic part only, FLASH-Quad when one chunk covers the sequence), v [B, n, e]
// -> [B, n, e]. rel_bias [2L - 1] per-offset biases (L >= the chunk length) or
// undefined; key_padding_mask [B, n] (1 = padded) or undefined. Fused chunked kernel
// with a hand-written backward; memory linear in n.
Tensor flash_attention(const Tensor& qk, const Tensor& v, const FlashOptions& options,
                       const Tensor& rel_bias = Tensor(), const Tensor& key_padding_mask = Tensor());

// ---- Performer, fused causal FAVOR+ (autograd/attention/performer.cpp) ------------
// Causal attention through the random features w [m, d] (the rows w_r; no gradient
// to them): q [B, H, n_q, d], k, v [B, H, n_k, d] with n_k >= n_q, query i seeing
// keys j <= i + n_k - n_q; key_padding_mask [B, n_k] (1 = padded) or undefined.
// The features and stabilizers are those of favor_causal_forward
// (core/attention/backend_ops.h). Chunked kernel with a hand-written backward; extra
// memory O(m d) per head.
Tensor favor_causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& w, float scale,
                              FavorKernel kernel, const Tensor& key_padding_mask = Tensor());

// ---- normalization over the last axis (autograd/norm.cpp) -------------------------
// gamma, beta of shape [last dim], or undefined Tensor() for none. Fused kernels.
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps = 1e-5f);
Tensor rms_norm(const Tensor& x, const Tensor& gamma, float eps = 1e-6f);

// ---- losses (autograd/loss.cpp) ---------------------------------------------------
// Mean over rows of -log softmax(logits)[target], logits [..., C], targets [...]
// holding class ids; rows whose target is ignore_index count for nothing (the
// mean is over the others; 0 if there are none).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100);

// ---- operators --------------------------------------------------------------------
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, float s) { return add(a, s); }
inline Tensor operator+(float s, const Tensor& a) { return add(a, s); }
inline Tensor operator-(const Tensor& a, float s) { return add(a, -s); }
inline Tensor operator-(float s, const Tensor& a) { return add(neg(a), s); }
inline Tensor operator*(const Tensor& a, float s) { return mul(a, s); }
inline Tensor operator*(float s, const Tensor& a) { return mul(a, s); }
inline Tensor operator/(const Tensor& a, float s) { return mul(a, 1.0f / s); }

}  // namespace ta
