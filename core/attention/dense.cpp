// core/attention/dense.cpp — fused exact softmax attention on tensors: argument checks, then the backend.
#include "core/attention/dense.h"

#include "core/error.h"
#include "core/kernels/common.h"

namespace ta::kernels {

std::pair<Tensor, Tensor> attention(const Tensor& q, const Tensor& k, const Tensor& v, float scale, Causality causal,
                                    const Tensor& key_pad) {
  check_defined(q, "attention", "q");
  check_defined(k, "attention", "k");
  check_defined(v, "attention", "v");
  Device dev = common_device({&q, &k, &v}, "attention");
  TA_CHECK(q.ndim() == 4 && k.ndim() == 4 && v.ndim() == 4, "attention: q, k, v must be [batch, heads, n, d_head], got ",
           q.shape(), ", ", k.shape(), ", ", v.shape());
  const Shape &qs = q.shape(), &ks = k.shape();
  TA_CHECK(ks == v.shape() && qs[0] == ks[0] && qs[1] == ks[1] && qs[3] == ks[3], "attention: shapes q ", qs, ", k ",
           ks, ", v ", v.shape(), " do not agree (k and v equal; batch, heads and d_head as in q)");
  if (key_pad.defined()) {
    common_device({&q, &key_pad}, "attention");
    TA_CHECK(key_pad.shape() == Shape({ks[0], ks[2]}), "attention: key_padding_mask must be [", ks[0], ", ", ks[2],
             "], got ", key_pad.shape());
  }
  Tensor o = Tensor::empty(qs, dev), lse = Tensor::empty(Shape{qs[0], qs[1], qs[2]}, dev);
  backend(dev).attention_forward(q.data(), k.data(), v.data(), o.data(), lse.data(), qs[0] * qs[1], qs[1], qs[2],
                                 ks[2], qs[3], scale, causal, key_pad.defined() ? key_pad.data() : nullptr);
  return {o, lse};
}

std::vector<Tensor> attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                                       const Tensor& lse, const Tensor& d_o, float scale, Causality causal,
                                       const Tensor& key_pad) {
  const Shape &qs = q.shape(), &ks = k.shape();
  Tensor dq = Tensor::empty(qs, q.device()), dk = Tensor::empty(ks, q.device()), dv = Tensor::empty(ks, q.device());
  backend_of(q).attention_backward(q.data(), k.data(), v.data(), o.data(), lse.data(), d_o.data(), dq.data(),
                                   dk.data(), dv.data(), qs[0] * qs[1], qs[1], qs[2], ks[2], qs[3], scale, causal,
                                   key_pad.defined() ? key_pad.data() : nullptr);
  return {dq, dk, dv};
}

}  // namespace ta::kernels
