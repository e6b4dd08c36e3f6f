// attention/non_finite.h — keeping a NaN or inf away from the outputs that may not
// see it, in attention written from autograd ops.
//
// Attention hides key j from query i with a weight of exactly 0 (a -inf score before
// the softmax, a 0 after a mask), and then multiplies: out_i = sum_j w_ij v_j. In IEEE
// arithmetic 0 x NaN and 0 x inf are NaN, so a NaN or inf in a hidden key or value
// reaches out_i all the same; and the backward multiplies the zero gradients of such
// outputs by NaN in the same way. The fused kernels skip hidden pairs instead of
// multiplying them (core/cpu/attention/dense.cpp). A core written from ops selects:
//
//   const FiniteInputs f = finite_inputs(q, k, v);  // NaN and inf read as 0, and where they were
//   Tensor out = ...the attention of f.q, f.k, f.v, masked as usual...;
//   return mark_seen(out, f, hidden);                // NaN in the outputs that may see one
//
// Inside, every value is finite, so a mask may even multiply. An output that may see
// a non-finite query, key or value comes out NaN, with gradient 0 (it no longer
// depends on the inputs); every other output and every gradient is bit for bit what
// finite values in the hidden places give (the gradient at those places is 0).
//
// A bidirectional core whose only hidden positions are padded ones needs less: read
// the padded rows as 0 (without_padded_rows), and let IEEE arithmetic carry a NaN at
// an unpadded position to every output, which all see it.
#pragma once

#include "core/tensor.h"

namespace ta {

// x with every NaN and inf entry replaced by 0, and bad [..., 1]: 1 where the row (the
// last axis) held one, else 0. The gradient of `value` reaches x only at finite entries.
struct FiniteRows {
  Tensor value, bad;
};
FiniteRows finite_rows(const Tensor& x);

// out with the rows where seen > 0 set to NaN (seen [..., 1] broadcasts over the last
// axis); those rows pass no gradient back.
Tensor mark_non_finite(const Tensor& out, const Tensor& seen);

// The attention inputs q [..., n_q, d], k and v [..., n_k, d] made finite: bad_q
// [..., n_q, 1] marks the query rows that held a NaN or inf, bad_kv [..., n_k, 1] the
// positions whose key or value did.
struct FiniteInputs {
  Tensor q, k, v, bad_q, bad_kv;
};
FiniteInputs finite_inputs(const Tensor& q, const Tensor& k, const Tensor& v);

// out [..., n_q, d_out] with NaN in every row that may see a non-finite input: its own
// query's, or a key's or value's that `hidden` [.., n_q, n_k] (1 = may not see,
// broadcasting like the scores; undefined: every key is seen) lets it see.
Tensor mark_seen(const Tensor& out, const FiniteInputs& f, const Tensor& hidden);

// x [batch, heads, n, d] with the rows of the positions that key_padding_mask [batch, n]
// marks (1 = padded) set to 0, by selection (their gradient is 0); x itself when the
// mask is undefined.
Tensor without_padded_rows(const Tensor& x, const Tensor& key_padding_mask);

}  // namespace ta
