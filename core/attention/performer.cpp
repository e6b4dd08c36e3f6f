// core/attention/performer.cpp — fused causal FAVOR+ attention on tensors: argument checks, then the backend.
#include "core/attention/performer.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels/common.h"

namespace ta::kernels {

FavorResult favor_causal(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& w, float scale,
                         FavorKernel kernel, const Tensor& key_pad) {
  const char* op = "favor_causal_attention";
  check_defined(q, op, "q");
  check_defined(k, op, "k");
  check_defined(v, op, "v");
  check_defined(w, op, "features");
  Device dev = common_device({&q, &k, &v, &w}, op);
  TA_CHECK(q.ndim() == 4 && k.ndim() == 4 && v.ndim() == 4, op, ": q, k, v must be [batch, heads, n, d_head], got ",
           q.shape(), ", ", k.shape(), ", ", v.shape());
  const Shape &qs = q.shape(), &ks = k.shape();
  TA_CHECK(ks == v.shape() && qs[0] == ks[0] && qs[1] == ks[1] && qs[3] == ks[3], op, ": shapes q ", qs, ", k ", ks,
           ", v ", v.shape(), " do not agree (k and v equal; batch, heads and d_head as in q)");
  TA_CHECK(ks[2] >= qs[2], op, ": causal FAVOR+ needs at least as many keys as queries (the queries are the last ",
           "positions), got ", qs[2], " queries and ", ks[2], " keys");
  TA_CHECK(w.ndim() == 2 && w.size(1) == qs[3] && w.size(0) > 0, op, ": features must be [m, ", qs[3],
           "] (d_head columns), got ", w.shape());
  TA_CHECK(scale > 0.0f && std::isfinite(scale), op, ": scale must be positive and finite, got ", scale);
  if (key_pad.defined()) {
    common_device({&q, &key_pad}, op);
    TA_CHECK(key_pad.shape() == Shape({ks[0], ks[2]}), op, ": key_padding_mask must be [", ks[0], ", ", ks[2],
             "], got ", key_pad.shape());
  }
  FavorResult r{Tensor::empty(qs, dev), Tensor::empty(Shape{qs[0], qs[1], qs[2]}, dev),
                Tensor::empty(Shape{ks[0], ks[1], ks[2]}, dev)};
  backend(dev).favor_causal_forward(q.data(), k.data(), v.data(), w.data(), r.o.data(), r.den.data(), r.kmax.data(),
                                    qs[0] * qs[1], qs[1], qs[2], ks[2], qs[3], w.size(0), scale, kernel,
                                    key_pad.defined() ? key_pad.data() : nullptr);
  return r;
}

std::vector<Tensor> favor_causal_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& w,
                                          const FavorResult& saved, const Tensor& d_o, float scale,
                                          FavorKernel kernel, const Tensor& key_pad) {
  const Shape &qs = q.shape(), &ks = k.shape();
  TA_CHECK(d_o.shape() == qs, "favor_causal_attention backward: the output gradient has shape ", d_o.shape(),
           ", the output ", qs);
  Tensor dq = Tensor::empty(qs, q.device()), dk = Tensor::empty(ks, q.device()), dv = Tensor::empty(ks, q.device());
  backend_of(q).favor_causal_backward(q.data(), k.data(), v.data(), w.data(), saved.o.data(), saved.den.data(),
                                      saved.kmax.data(), d_o.data(), dq.data(), dk.data(), dv.data(), qs[0] * qs[1],
                                      qs[1], qs[2], ks[2], qs[3], w.size(0), scale, kernel,
                                      key_pad.defined() ? key_pad.data() : nullptr);
  return {dq, dk, dv};
}

}  // namespace ta::kernels
