#include "attention/flash_attention.h"

#include <vector>

#include "attention/non_finite.h"
#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

namespace {

// The constants of the reference, for B sequences cut into G chunks of c (n_pad = G c
// positions, the ones past n being padding): the mask of the quadratic weights
// [B, G, c, c] (key j visible to query i: j <= i when causal, never a padded key),
// the row weights w and u [B, G, c, 1] of core/attention/flash_options.h, and key_ok [B, G, c, 1]
// (1 for a real, unpadded key).
struct Constants {
  Tensor mask, w, u, key_ok;
};

Constants constants(int64_t B, int64_t n, int64_t c, int64_t G, const FlashOptions& o, const Tensor& key_pad,
                    Device device) {
  const int64_t n_pad = G * c;
  std::vector<float> pad = key_pad.defined() ? key_pad.to_vector() : std::vector<float>(B * n, 0.0f);
  std::vector<float> ok(B * n_pad, 0.0f), mask(B * n_pad * c, 0.0f), w(B * n_pad), u(B * n_pad);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < n; ++t) ok[b * n_pad + t] = pad[b * n + t] == 0.0f ? 1.0f : 0.0f;
  for (int64_t b = 0; b < B; ++b) {
    int64_t total = 0, before = 0;  // real keys: in the sequence, in the chunks before g
    for (int64_t t = 0; t < n_pad; ++t) total += ok[b * n_pad + t] != 0.0f;
    for (int64_t g = 0; g < G; ++g) {
      int64_t in_chunk = 0;
      for (int64_t i = 0; i < c; ++i) {
        const int64_t row = b * n_pad + g * c + i;
        int64_t local = 0;
        for (int64_t j = 0; j < c; ++j) {
          const bool visible = ok[b * n_pad + g * c + j] != 0.0f && (!o.causal || j <= i);
          mask[row * c + j] = visible ? 1.0f : 0.0f;
          local += visible;
        }
        in_chunk += ok[row] != 0.0f;
        const int64_t global = o.causal ? before : total;
        if (o.scaling == FlashScaling::RowCount) {
          w[row] = local > 0 ? 1.0f / static_cast<float>(local) : 0.0f;
          u[row] = global > 0 ? o.lin_scale / static_cast<float>(global) : 0.0f;
        } else {
          w[row] = 1.0f;
          u[row] = o.lin_scale;
        }
      }
      before += in_chunk;
    }
  }
  return {Tensor::from_vector(mask, Shape{B, G, c, c}, device), Tensor::from_vector(w, Shape{B, G, c, 1}, device),
          Tensor::from_vector(u, Shape{B, G, c, 1}, device), Tensor::from_vector(ok, Shape{B, G, c, 1}, device)};
}

// The [c, c] matrix of biases bias[(j - i) + L - 1] from a per-offset table.
Tensor bias_matrix(const Tensor& table, int64_t c) {
  const int64_t L = (table.size(0) + 1) / 2;
  std::vector<float> ids(c * c);
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = 0; j < c; ++j) ids[i * c + j] = static_cast<float>(j - i + L - 1);
  return reshape(index_select(table, 0, Tensor::from_vector(ids, Shape{c * c}, table.device())), Shape{c, c});
}

// Which outputs [B, G, c, 1] may see a NaN or inf: their own query row's (quad or
// linear plane), or that of a key (either key plane, or the value) they read, in
// their chunk through the quadratic mask, or in the chunks the linear part sums.
// bad_qk [planes, B, n, 1] and bad_v [B, n, 1] mark the rows that held one.
Tensor seen_non_finite(const Tensor& bad_qk, const Tensor& bad_v, const Constants& k, const FlashOptions& o,
                       int64_t G, int64_t c) {
  const int64_t planes = bad_qk.size(0), B = bad_v.size(0), n = bad_v.size(1), n_pad = G * c;
  auto chunked = [&](Tensor x) {  // [B, n, 1] -> [B, G, c, 1], the chunk padding not bad
    if (n_pad > n) x = concat({x, Tensor::zeros(Shape{B, n_pad - n, 1}, x.device())}, 1);
    return reshape(x, Shape{B, G, c, 1});
  };
  auto plane = [&](int64_t p) { return reshape(narrow(bad_qk, 0, p, 1), Shape{B, n, 1}); };
  Tensor bad_query = plane(0), bad_key = maximum(plane(1), bad_v);
  if (planes == 4) {
    bad_query = maximum(bad_query, plane(2));
    bad_key = maximum(bad_key, plane(3));
  }
  const Tensor keys = chunked(bad_key);
  Tensor seen = chunked(bad_query) + matmul(k.mask, keys);
  if (planes == 4) {
    const Tensor per_chunk = sum(keys * k.key_ok, {2}, KeepDims::Yes);  // [B, G, 1, 1]
    if (!o.causal)
      seen = seen + sum(per_chunk, {1}, KeepDims::Yes);
    else if (G > 1)
      seen = seen + concat({Tensor::zeros(Shape{B, 1, 1, 1}, keys.device()), narrow(cumsum(per_chunk, 1), 1, 0, G - 1)},
                           1);
  }
  return gt(seen, Tensor::scalar(0.0f, seen.device()));
}

}  // namespace

// Pad the sequence to whole chunks, view it as [B, G, c, .], and per chunk:
//   quad = (w * mask * relu(score_scale Qq Kq^T + bias)^2) V        (the mask after the activation)
//   lin  = u * Ql P_g,  P_g = sum_{h < g} Kl_h^T V_h  (causal)  or  sum over all h
// The causal prefix is exclusive: the inclusive cumsum shifted down by one chunk. Not
// "cumsum - own chunk": that subtraction would round differently when a later key of
// the same chunk changes, so position i would still read the future, in the last bits.
Tensor flash_attention_reference(const Tensor& qk, const Tensor& v, const FlashOptions& o, const Tensor& rel_bias,
                                 const Tensor& key_padding_mask) {
  check_defined(qk, "flash_attention_reference", "qk");
  check_defined(v, "flash_attention_reference", "v");
  TA_CHECK(qk.ndim() == 4 && (qk.size(0) == 4 || qk.size(0) == 2) && v.ndim() == 3 && v.size(0) == qk.size(1) &&
               v.size(1) == qk.size(2),
           "flash_attention_reference: expected qk [4 or 2, batch, n, s] and v [batch, n, e], got ", qk.shape(),
           " and ", v.shape());
  const int64_t planes = qk.size(0), B = qk.size(1), n = qk.size(2), s = qk.size(3), e = v.size(2);
  const int64_t c = o.chunk_length(n), G = (n + c - 1) / c, n_pad = G * c;
  const Device dev = qk.device();
  // Computed on finite values; the outputs that may see a NaN or inf are marked at the
  // end (attention/non_finite.h).
  const FiniteRows fqk = finite_rows(qk), fv = finite_rows(v);
  Tensor qkp = fqk.value, vp = fv.value;
  if (n_pad > n) {
    qkp = concat({qkp, Tensor::zeros(Shape{planes, B, n_pad - n, s}, dev)}, 2);
    vp = concat({vp, Tensor::zeros(Shape{B, n_pad - n, e}, dev)}, 1);
  }
  auto plane = [&](int64_t p) { return reshape(narrow(qkp, 0, p, 1), Shape{B, G, c, s}); };
  Tensor vc = reshape(vp, Shape{B, G, c, e});
  Constants k = constants(B, n, c, G, o, key_padding_mask, dev);

  Tensor scores = matmul(plane(0), plane(1), Transposed::B) * o.score_scale;  // [B, G, c, c]
  if (rel_bias.defined()) scores = scores + bias_matrix(rel_bias, c);
  Tensor out = matmul(relu_squared(scores) * k.mask * k.w, vc);  // [B, G, c, e]

  if (planes == 4) {
    Tensor kv = matmul(plane(3) * k.key_ok, vc, Transposed::A);  // Kl_g^T V_g: [B, G, s, e]
    Tensor p;
    if (!o.causal) {
      p = sum(kv, {1}, KeepDims::Yes);  // every chunk
    } else if (G == 1) {
      p = Tensor::zeros(Shape{B, 1, s, e}, dev);  // nothing before the first chunk
    } else {
      p = concat({Tensor::zeros(Shape{B, 1, s, e}, dev), narrow(cumsum(kv, 1), 1, 0, G - 1)}, 1);
    }
    out = out + matmul(plane(2), p) * k.u;
  }
  return narrow(reshape(mark_non_finite(out, seen_non_finite(fqk.bad, fv.bad, k, o, G, c)), Shape{B, n_pad, e}), 1,
                0, n);
}

Tensor relative_bias_table(const RelativePositionBias& bias, int64_t length) {
  TA_CHECK(bias.heads == 1, "relative_bias_table: FLASH has one head, got a bias with ", bias.heads);
  std::vector<float> ids(2 * length - 1);
  for (int64_t d = -(length - 1); d <= length - 1; ++d)
    ids[d + length - 1] =
        static_cast<float>(RelativePositionBias::bucket(d, bias.causality, bias.num_buckets, bias.max_distance));
  Tensor table = embedding(bias.weight, Tensor::from_vector(ids, Shape{2 * length - 1}, bias.weight.device()));
  return reshape(table, Shape{2 * length - 1});
}

Tensor flash_attention_from_base(const Tensor& z, const Tensor& v, const Tensor& gamma, const Tensor& beta,
                                 const FlashOptions& options, FlashImplementation implementation) {
  Tensor qk = scale_offset(z, gamma, beta);
  return implementation == FlashImplementation::Fused ? flash_attention(qk, v, options)
                                                      : flash_attention_reference(qk, v, options);
}

}  // namespace ta
