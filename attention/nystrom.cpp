#include "attention/nystrom.h"

#include <limits>
#include <vector>

#include "attention/builtin_variants.h"
#include "attention/multi_head.h"
#include "attention/non_finite.h"
#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

namespace {

// Averaging weights [batch, 1, m, n]: row s averages the unpadded positions of
// segment s = [floor(s n / m), floor((s + 1) n / m)). Segments may differ in size
// by one when m does not divide n; a segment with no unpadded position averages
// nothing (its landmark is 0).
Tensor segment_means(int64_t batch, int64_t n, int64_t m, const Tensor& key_padding_mask) {
  std::vector<float> pad = key_padding_mask.defined() ? key_padding_mask.to_vector() : std::vector<float>(batch * n, 0.0f);
  std::vector<float> w(batch * m * n, 0.0f);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < m; ++s) {
      const int64_t begin = s * n / m, end = (s + 1) * n / m;
      int64_t count = 0;
      for (int64_t i = begin; i < end; ++i) count += pad[b * n + i] == 0.0f;
      for (int64_t i = begin; i < end; ++i)
        if (pad[b * n + i] == 0.0f) w[(b * m + s) * n + i] = 1.0f / static_cast<float>(count);
    }
  return Tensor::from_vector(w, Shape{batch, 1, m, n});
}

Tensor identity(int64_t m, Device device) {
  std::vector<float> e(m * m, 0.0f);
  for (int64_t i = 0; i < m; ++i) e[i * m + i] = 1.0f;
  return Tensor::from_vector(e, Shape{m, m}, device);
}

}  // namespace

Tensor iterative_pinv(const Tensor& a, int64_t iterations) {
  const int64_t m = a.size(-1);
  const Tensor eye = identity(m, a.device());
  // Per matrix (never across the batch, so samples stay independent). The
  // iteration has not fully converged after a few steps, so its result depends on
  // this start, and the gradient flows through it too.
  Tensor abs_a = abs(a);
  Tensor norm1 = max(sum(abs_a, {-2}, KeepDims::Yes), {-1}, KeepDims::Yes);     // largest column sum
  Tensor norm_inf = max(sum(abs_a, {-1}, KeepDims::Yes), {-2}, KeepDims::Yes);  // largest row sum
  Tensor z = transpose(a, -1, -2) / (norm1 * norm_inf);
  for (int64_t it = 0; it < iterations; ++it) {
    Tensor az = matmul(a, z);
    Tensor t = eye * 7.0f - az;
    t = eye * 15.0f - matmul(az, t);
    t = eye * 13.0f - matmul(az, t);
    z = matmul(z, t) * 0.25f;
  }
  return z;
}

NystromCore::NystromCore(const Options& o, AttentionScale scale, Generator& gen) : AttentionCore(scale), options(o) {
  TA_CHECK(o.landmarks > 0 && o.pinv_iterations >= 0, "nystrom: landmarks must be positive and pinv_iterations ",
           ">= 0, got ", o.landmarks, " and ", o.pinv_iterations);
  TA_CHECK(o.conv_kernel == 0 || (o.conv_kernel > 0 && o.conv_kernel % 2 == 1), "nystrom: conv_kernel must be 0 or ",
           "odd, got ", o.conv_kernel);
  if (o.conv_kernel > 0)
    conv_weight = register_parameter(
        "conv_weight", Tensor::normal(Shape{o.heads, o.conv_kernel}, 0.0f, 1.0f / o.conv_kernel, gen));
}

Tensor NystromCore::forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                            const Tensor& key_padding_mask) {
  TA_CHECK(causal == Causality::Bidirectional,
           "nystrom: there is no causal Nystromformer (each landmark averages a whole segment, so every ",
           "output would see future tokens); use it bidirectionally");
  TA_CHECK(q.size(2) == k.size(2), "nystrom: queries and keys must have the same length, got ", q.shape(), " and ",
           k.shape());
  const int64_t batch = q.size(0), n = q.size(2), m = std::min(options.landmarks, n);
  const float inf = std::numeric_limits<float>::infinity(), s = scale_.base;
  // Padded positions are read as 0 (selected, not multiplied by a 0 weight), so that
  // a NaN there reaches nothing: not the landmarks (whose averages leave them out),
  // not the convolution, not the padded queries' own rows, whose outputs are unused.
  // A NaN at an unpadded position reaches every output: each sees it.
  const Tensor q_used = without_padded_rows(q, key_padding_mask), k_used = without_padded_rows(k, key_padding_mask),
               v_used = without_padded_rows(v, key_padding_mask);
  // Every query of a sample sees all its unpadded keys, so the length factor is one
  // number per sample, and the landmark queries (means of queries) carry it too.
  const Tensor q_scaled = scale_.scale_queries(q_used, n, Causality::Bidirectional, key_padding_mask);
  Tensor pool = segment_means(batch, n, m, key_padding_mask).to(q.device());
  Tensor q_land = matmul(pool, q_scaled), k_land = matmul(pool, k_used);  // [b, h, m, d]
  Tensor f = softmax(matmul(q_scaled, k_land, Transposed::B) * s, -1);
  Tensor a = softmax(matmul(q_land, k_land, Transposed::B) * s, -1);
  Tensor scores_b = matmul(q_land, k_used, Transposed::B) * s;
  if (key_padding_mask.defined())
    scores_b = masked_fill(scores_b, reshape(key_padding_mask, Shape{batch, 1, 1, n}), -inf);
  Tensor out = matmul(f, matmul(iterative_pinv(a, options.pinv_iterations), matmul(softmax(scores_b, -1), v_used)));
  if (options.conv_kernel == 0) return out;
  // Depthwise convolution over positions, per head: sum_t w[h, t] v[i + t - r]. Tap t
  // of every head, [1, heads, 1, 1], lines up with the head axis of v [batch, heads, n, d].
  const int64_t heads = v.size(1), r = options.conv_kernel / 2, d = v.size(3);
  TA_CHECK(heads == options.heads, "nystrom: the convolution skip was built for ", options.heads,
           " heads, got values with ", heads);
  Tensor zeros = Tensor::zeros(Shape{batch, heads, r, d}, v.device());
  Tensor padded = concat({zeros, v_used, zeros}, 2);
  for (int64_t t = 0; t < options.conv_kernel; ++t)
    out = out + narrow(padded, 2, t, n) * reshape(narrow(conv_weight, 1, t, 1), Shape{1, heads, 1, 1});
  return out;
}

const AttentionRegistration nystrom_registration({
    .name = "nystrom",
    .description = "Nystromformer: landmark approximation with iterative pseudo-inverse",
    .supports_causal = false,
    .options = {integer_option("nystrom-landmarks", 64, "m, the landmarks (segment means of queries and keys)", 1,
                               1 << 20, OptionRole::Size),
                integer_option("nystrom-pinv-iterations", 6, "iterations of the pseudo-inverse (the paper's 6)", 0, 100),
                integer_option("nystrom-conv-kernel", 0, "odd width of the depthwise convolution skip on the values "
                                                         "(the paper's 33; 0: none)", 0, 1023)},
    .build = [](const AttentionConfig& c, const VariantOptions& o, Generator& g) -> std::shared_ptr<TokenMixer> {
      NystromCore::Options n;
      n.landmarks = o.integer("nystrom-landmarks");
      n.pinv_iterations = o.integer("nystrom-pinv-iterations");
      n.conv_kernel = o.integer("nystrom-conv-kernel");
      n.heads = c.heads;
      const AttentionScale scale = attention_scale(c);
      return multi_head_attention(c, std::make_shared<NystromCore>(n, scale, g), g);
    },
    .test_options = {{{"nystrom-landmarks", "4"}, {"nystrom-conv-kernel", "3"}}},
});

}  // namespace ta
