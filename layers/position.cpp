#include "layers/position.h"

#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

LearnedPositions::LearnedPositions(int64_t max_len_, int64_t dim, Generator& gen, float init_std) : max_len(max_len_) {
  TA_CHECK(max_len > 0 && dim > 0, "LearnedPositions: sizes must be positive, got ", max_len, " x ", dim);
  weight = register_parameter("weight", Tensor::normal(Shape{max_len, dim}, 0.0f, init_std, gen));
}

Tensor LearnedPositions::forward(int64_t n, int64_t offset) const {
  TA_CHECK(offset >= 0 && offset + n <= max_len, "LearnedPositions: positions ", offset, "..", offset + n - 1,
           " exceed the ", max_len, " learned positions (max_len)");
  return narrow(weight, 0, offset, n);
}

Tensor sinusoidal_positions(int64_t n, int64_t dim, int64_t offset) {
  TA_CHECK(dim > 0 && dim % 2 == 0, "sinusoidal_positions: dim must be even and positive, got ", dim);
  std::vector<float> pe(n * dim);
  for (int64_t p = 0; p < n; ++p)
    for (int64_t i = 0; i < dim / 2; ++i) {
      double angle = static_cast<double>(p + offset) / std::pow(10000.0, 2.0 * i / dim);
      pe[p * dim + 2 * i] = static_cast<float>(std::sin(angle));
      pe[p * dim + 2 * i + 1] = static_cast<float>(std::cos(angle));
    }
  return Tensor::from_vector(pe, Shape{n, dim});
}

RotaryEmbedding::RotaryEmbedding(int64_t head_dim_, int64_t rotary_dims_, float base_)
    : head_dim(head_dim_), rotary_dims(rotary_dims_), base(base_) {
  TA_CHECK(rotary_dims > 0 && rotary_dims % 2 == 0 && rotary_dims <= head_dim, "RotaryEmbedding: rotary_dims must be ",
           "even, positive and at most head_dim (", head_dim, "), got ", rotary_dims);
}

Tensor RotaryEmbedding::apply(const Tensor& x, int64_t offset) const {
  check_defined(x, "RotaryEmbedding", "x");
  TA_CHECK(x.ndim() >= 2 && x.size(-1) == head_dim, "RotaryEmbedding: expected x [..., n, ", head_dim, "], got ",
           x.shape());
  const int64_t n = x.size(-2), half = rotary_dims / 2;
  std::vector<float> c(n * half), s(n * half);
  for (int64_t p = 0; p < n; ++p)
    for (int64_t i = 0; i < half; ++i) {
      double angle = static_cast<double>(p + offset) * std::pow(static_cast<double>(base), -2.0 * i / rotary_dims);
      c[p * half + i] = static_cast<float>(std::cos(angle));
      s[p * half + i] = static_cast<float>(std::sin(angle));
    }
  Tensor cos_t = Tensor::from_vector(c, Shape{n, half}, x.device());
  Tensor sin_t = Tensor::from_vector(s, Shape{n, half}, x.device());
  Tensor x1 = narrow(x, -1, 0, half), x2 = narrow(x, -1, half, half);
  std::vector<Tensor> parts = {x1 * cos_t - x2 * sin_t, x2 * cos_t + x1 * sin_t};
  if (rotary_dims < head_dim) parts.push_back(narrow(x, -1, rotary_dims, head_dim - rotary_dims));
  return concat(parts, -1);
}

RelativePositionBias::RelativePositionBias(int64_t heads_, Causality causality_, Generator& gen, int64_t num_buckets_,
                                           int64_t max_distance_)
    : heads(heads_), num_buckets(num_buckets_), max_distance(max_distance_), causality(causality_) {
  TA_CHECK(heads > 0 && num_buckets >= 4 && max_distance > num_buckets / 2, "RelativePositionBias: need heads > 0, ",
           "num_buckets >= 4 and max_distance > num_buckets/2, got ", heads, ", ", num_buckets, ", ", max_distance);
  weight = register_parameter("weight", Tensor::normal(Shape{num_buckets, heads}, 0.0f, 0.02f, gen));
}

// Half the buckets (per direction) hold the exact offsets 0 .. max_exact - 1; the
// rest cover max_exact .. max_distance logarithmically; farther offsets share the
// last bucket. Bidirectional: the first half of the buckets is for keys at or
// before the query, the second half for keys after it.
int64_t RelativePositionBias::bucket(int64_t relative_position, Causality causality, int64_t num_buckets,
                                     int64_t max_distance) {
  int64_t result = 0;
  int64_t n = -relative_position;  // how far back the key is
  if (causality == Causality::Bidirectional) {
    num_buckets /= 2;
    if (n < 0) result += num_buckets;
    n = std::abs(n);
  } else {
    n = std::max<int64_t>(n, 0);
  }
  const int64_t max_exact = num_buckets / 2;
  if (n < max_exact) return result + n;
  int64_t large = max_exact + static_cast<int64_t>(std::log(static_cast<double>(n) / max_exact) /
                                                   std::log(static_cast<double>(max_distance) / max_exact) *
                                                   (num_buckets - max_exact));
  return result + std::min(large, num_buckets - 1);
}

Tensor RelativePositionBias::forward(int64_t q_len, int64_t k_len, int64_t q_offset) const {
  std::vector<float> ids(q_len * k_len);
  for (int64_t i = 0; i < q_len; ++i)
    for (int64_t j = 0; j < k_len; ++j)
      ids[i * k_len + j] = static_cast<float>(bucket(j - (i + q_offset), causality, num_buckets, max_distance));
  Tensor bias = embedding(weight, Tensor::from_vector(ids, Shape{q_len, k_len}, weight.device()));  // [q, k, heads]
  return permute(bias, {2, 0, 1});
}

}  // namespace ta
