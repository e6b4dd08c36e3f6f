#include "attention/non_finite.h"

#include <limits>

#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

// |x| < inf is false exactly for NaN and +-inf.
// The masks come from x.detach(), so only `value` is recorded.
FiniteRows finite_rows(const Tensor& x) {
  const Tensor finite = lt(abs(x.detach()), Tensor::scalar(std::numeric_limits<float>::infinity(), x.device()));
  return {where(finite, x, Tensor::scalar(0.0f, x.device())), max(1.0f - finite, {-1}, KeepDims::Yes)};
}

Tensor mark_non_finite(const Tensor& out, const Tensor& seen) {
  return where(seen, Tensor::scalar(std::numeric_limits<float>::quiet_NaN(), out.device()), out);
}

FiniteInputs finite_inputs(const Tensor& q, const Tensor& k, const Tensor& v) {
  const FiniteRows fq = finite_rows(q), fk = finite_rows(k), fv = finite_rows(v);
  return {fq.value, fk.value, fv.value, fq.bad, maximum(fk.bad, fv.bad)};
}

// seen_i = bad_q_i + sum_j (1 - hidden_ij) bad_kv_j, from masks without gradient.
Tensor mark_seen(const Tensor& out, const FiniteInputs& f, const Tensor& hidden) {
  const Tensor seen_keys = hidden.defined() ? matmul(1.0f - hidden.detach().to(out.device()), f.bad_kv)
                                            : sum(f.bad_kv, {-2}, KeepDims::Yes);  // every key seen
  return mark_non_finite(out, gt(f.bad_q + seen_keys, Tensor::scalar(0.0f, out.device())));
}

Tensor without_padded_rows(const Tensor& x, const Tensor& key_padding_mask) {
  if (!key_padding_mask.defined()) return x;
  TA_CHECK(x.ndim() == 4 && key_padding_mask.ndim() == 2 && key_padding_mask.size(0) == x.size(0) &&
               key_padding_mask.size(1) == x.size(2),
           "without_padded_rows: expected x [batch, heads, n, d] and key_padding_mask [batch, n], got ", x.shape(),
           " and ", key_padding_mask.shape());
  const Tensor pad = reshape(key_padding_mask, Shape{x.size(0), 1, x.size(2), 1}).to(x.device());
  return masked_fill(x, pad, 0.0f);
}

}  // namespace ta
