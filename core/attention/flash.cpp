// core/attention/flash.cpp — FLASH attention and the GAU's scale-offset on tensors: argument checks, then the backend.
#include "core/attention/flash.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels/common.h"

namespace ta::kernels {

namespace {

// Checks the arguments of the FLASH kernel and returns its sizes.
FlashDims flash_dims(const Tensor& qk, const Tensor& v, const FlashOptions& o, const Tensor& rel_bias,
                     const Tensor& key_pad) {
  check_defined(qk, "flash_attention", "qk");
  check_defined(v, "flash_attention", "v");
  common_device({&qk, &v}, "flash_attention");
  TA_CHECK(qk.ndim() == 4 && (qk.size(0) == 4 || qk.size(0) == 2) && v.ndim() == 3,
           "flash_attention: expected qk [4 or 2, batch, n, s] (quad q, quad k[, linear q, linear k]) and v [batch, "
           "n, e], got ", qk.shape(), " and ", v.shape());
  FlashDims d;
  d.batch = qk.size(1);
  d.n = qk.size(2);
  d.s = qk.size(3);
  d.e = v.size(2);
  d.linear = qk.size(0) == 4;
  TA_CHECK(v.size(0) == d.batch && v.size(1) == d.n && d.s > 0 && d.e > 0, "flash_attention: qk ", qk.shape(),
           " and v ", v.shape(), " must agree in batch and n, with s and e > 0");
  TA_CHECK(o.chunk >= 0 && std::isfinite(o.score_scale) && std::isfinite(o.lin_scale), "flash_attention: chunk must ",
           "be >= 0 and the scales finite, got chunk ", o.chunk, ", score_scale ", o.score_scale, ", lin_scale ",
           o.lin_scale);
  if (rel_bias.defined()) {
    common_device({&qk, &rel_bias}, "flash_attention");
    const int64_t need = o.chunk_length(d.n);
    TA_CHECK(rel_bias.ndim() == 1 && rel_bias.size(0) % 2 == 1 && (rel_bias.size(0) + 1) / 2 >= need,
             "flash_attention: rel_bias must be a table [2L - 1] of per-offset biases with L >= the chunk length ",
             need, ", got ", rel_bias.shape());
    d.bias_len = (rel_bias.size(0) + 1) / 2;
  }
  if (key_pad.defined()) {
    common_device({&qk, &key_pad}, "flash_attention");
    TA_CHECK(key_pad.shape() == Shape({d.batch, d.n}), "flash_attention: key_padding_mask must be [", d.batch, ", ",
             d.n, "], got ", key_pad.shape());
  }
  return d;
}

}  // namespace

std::pair<Tensor, Tensor> flash_attention(const Tensor& qk, const Tensor& v, const FlashOptions& options,
                                          const Tensor& rel_bias, const Tensor& key_pad) {
  const FlashDims d = flash_dims(qk, v, options, rel_bias, key_pad);
  const int64_t chunks = (d.n + options.chunk_length(d.n) - 1) / options.chunk_length(d.n);
  Tensor out = Tensor::empty(Shape{d.batch, d.n, d.e}, qk.device());
  Tensor state = d.linear ? Tensor::empty(Shape{d.batch, options.causal ? chunks : 1, d.s, d.e}, qk.device())
                          : Tensor();
  backend_of(qk).flash_forward(d, options, qk.data(), v.data(), rel_bias.defined() ? rel_bias.data() : nullptr,
                               key_pad.defined() ? key_pad.data() : nullptr, out.data(),
                               state.defined() ? state.data() : nullptr);
  return {out, state};
}

std::vector<Tensor> flash_attention_backward(const Tensor& qk, const Tensor& v, const FlashOptions& options,
                                             const Tensor& rel_bias, const Tensor& key_pad, const Tensor& state,
                                             const Tensor& d_out) {
  const FlashDims d = flash_dims(qk, v, options, rel_bias, key_pad);
  TA_CHECK(d_out.defined() && d_out.shape() == Shape({d.batch, d.n, d.e}), "flash_attention backward: the output ",
           "gradient must be [", d.batch, ", ", d.n, ", ", d.e, "]");
  Tensor dqk = Tensor::empty(qk.shape(), qk.device()), dv = Tensor::empty(v.shape(), qk.device());
  Tensor dbias = rel_bias.defined() ? Tensor::empty(rel_bias.shape(), qk.device()) : Tensor();
  backend_of(qk).flash_backward(d, options, qk.data(), v.data(), rel_bias.defined() ? rel_bias.data() : nullptr,
                                key_pad.defined() ? key_pad.data() : nullptr,
                                state.defined() ? state.data() : nullptr, d_out.data(), dqk.data(), dv.data(),
                                dbias.defined() ? dbias.data() : nullptr);
  return {dqk, dv, dbias};
}

Tensor scale_offset(const Tensor& z, const Tensor& gamma, const Tensor& beta) {
  check_defined(z, "scale_offset", "z");
  check_defined(gamma, "scale_offset", "gamma");
  check_defined(beta, "scale_offset", "beta");
  common_device({&z, &gamma, &beta}, "scale_offset");
  TA_CHECK(z.ndim() >= 1 && gamma.ndim() == 2 && gamma.shape() == beta.shape() && gamma.size(1) == z.size(-1),
           "scale_offset: expected z [..., s] and gamma, beta [planes, s], got ", z.shape(), ", ", gamma.shape(),
           ", ", beta.shape());
  const int64_t s = z.size(-1), planes = gamma.size(0);
  std::vector<int64_t> dims = {planes};
  for (int i = 0; i < z.ndim(); ++i) dims.push_back(z.size(i));
  Tensor y = Tensor::empty(Shape(dims), z.device());
  backend_of(z).scale_offset(z.data(), gamma.data(), beta.data(), y.data(), s > 0 ? z.numel() / s : 0, planes, s);
  return y;
}

std::vector<Tensor> scale_offset_backward(const Tensor& z, const Tensor& gamma, const Tensor& dy) {
  const int64_t s = z.size(-1), planes = gamma.size(0);
  Tensor dz = Tensor::empty(z.shape(), z.device()), dgamma = Tensor::empty(gamma.shape(), z.device());
  Tensor dbeta = Tensor::empty(gamma.shape(), z.device());
  backend_of(z).scale_offset_backward(z.data(), gamma.data(), dy.data(), dz.data(), dgamma.data(), dbeta.data(),
                                      s > 0 ? z.numel() / s : 0, planes, s);
  return {dz, dgamma, dbeta};
}

}  // namespace ta::kernels
