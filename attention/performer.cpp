// Performer (FAVOR+), the parts above the kernel: drawing the random features, the
// plain feature maps for studies, the core (reference computation from autograd
// ops, the fused causal op, redraw, decoding by running sums, attention weights for
// pictures) and loading softmax weights. The math is in performer.h; the fused
// causal kernel is core/cpu/attention/performer.cpp.
#include "attention/performer.h"

#include <cmath>
#include <vector>

#include "attention/builtin_variants.h"
#include "attention/multi_head.h"
#include "attention/non_finite.h"
#include "attention/softmax.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/backend.h"
#include "core/error.h"

namespace ta {

namespace {

constexpr float kDenFloor = 1e-30f;  // denominators are at least this (as in the fused kernel)
constexpr float kReluEps = 1e-3f;    // ReLU features relu(w.x) + eps, so a denominator is never 0
constexpr float kPadded = -1e30f;    // the exponent of a padded key: its feature is exactly 0

bool is_relu(FeatureMap map) { return map == FeatureMap::Relu; }

// Orthonormalizes the rows of g [d, d] in place by modified Gram-Schmidt (two
// passes, for accuracy in double): the rows become Q^T of the QR decomposition of
// g^T. For a Gaussian g they are a uniformly random orthonormal basis.
void orthonormalize_rows(std::vector<double>& g, int64_t d) {
  for (int64_t i = 0; i < d; ++i) {
    double* row = &g[i * d];
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t j = 0; j < i; ++j) {
        const double* u = &g[j * d];
        double dot = 0.0;
        for (int64_t c = 0; c < d; ++c) dot += row[c] * u[c];
        for (int64_t c = 0; c < d; ++c) row[c] -= dot * u[c];
      }
    double norm = 0.0;
    for (int64_t c = 0; c < d; ++c) norm += row[c] * row[c];
    norm = std::sqrt(norm);
    TA_CHECK(norm > 1e-12, "draw_features: a Gaussian block was singular (row ", i, ")");
    for (int64_t c = 0; c < d; ++c) row[c] /= norm;
  }
}

// The key stabilizers, from the largest exponent l [bh, n_k] of each key row
// (padded keys hold kPadded): causal, M_j = the running maximum over the unpadded
// keys up to j; bidirectional, the maximum over all unpadded keys. Before any
// unpadded key (or with none) 0: such a position only meets features that are 0.
std::vector<float> key_stabilizers(const std::vector<float>& l, int64_t bh, int64_t n_k, Causality causal) {
  std::vector<float> m(l.size(), 0.0f);
  for (int64_t b = 0; b < bh; ++b) {
    float running = kPadded;
    for (int64_t j = 0; j < n_k; ++j) {
      running = std::max(running, l[b * n_k + j]);
      m[b * n_k + j] = running == kPadded ? 0.0f : running;
    }
    if (causal == Causality::Bidirectional)
      for (int64_t j = 0; j < n_k; ++j) m[b * n_k + j] = m[b * n_k + n_k - 1];
  }
  return m;
}

// F [bh, n_q, n_k]: exp(M_j - M_{i+shift}) where query i may see key j (j <= i +
// shift, unpadded), else 0. It moves key j's features from its own stabilizer to
// the query's, and masks the future: the causal prefix sums as a masked product.
Tensor causal_factors(const std::vector<float>& m, const std::vector<float>& l, int64_t bh, int64_t n_q, int64_t n_k,
                      Device device) {
  const int64_t shift = n_k - n_q;
  std::vector<float> f(bh * n_q * n_k, 0.0f);
  for (int64_t b = 0; b < bh; ++b)
    for (int64_t i = 0; i < n_q; ++i)
      for (int64_t j = 0; j <= i + shift && j < n_k; ++j)
        if (l[b * n_k + j] != kPadded)
          f[(b * n_q + i) * n_k + j] = std::exp(m[b * n_k + j] - m[b * n_k + i + shift]);
  return Tensor::from_vector(f, Shape{bh, n_q, n_k}, device);
}

// The decoding state: S = sum_j phi(k_j) [v_j | 1]^T, held at the stabilizer kmax.
struct FavorState : MixerState {
  Tensor w;     // the features decoding started with
  Tensor s;     // [batch, heads, m, d_head + 1]
  Tensor kmax;  // [batch, heads, 1, 1], the running maximum of the key exponents
};

}  // namespace

const char* feature_map_name(FeatureMap map) {
  switch (map) {
    case FeatureMap::Positive: return "positive";
    case FeatureMap::Hyperbolic: return "hyperbolic";
    case FeatureMap::Trigonometric: return "trigonometric";
    case FeatureMap::Relu: return "relu";
  }
  return "?";
}

// Orthogonal rows come from the same Gaussian rows as an i.i.d. draw: each block of
// d rows is orthonormalized, then every row gets back its own Gaussian length (chi_d,
// independent of all the directions, so the estimate stays unbiased) or sqrt(d).
// The same generator state thus gives an i.i.d. W and its orthogonalized twin.
Tensor draw_features(int64_t m, int64_t d, FeatureRows rows, Generator& gen, RowNorms norms) {
  TA_CHECK(m > 0 && d > 0, "draw_features: m and d must be positive, got m=", m, ", d=", d);
  const int64_t blocks = (m + d - 1) / d;
  const Tensor gaussian = Tensor::normal(Shape{blocks * d, d}, 0.0f, 1.0f, gen);
  if (rows == FeatureRows::Iid) return narrow(gaussian, 0, 0, m);
  const std::vector<float> g = gaussian.to_vector();
  std::vector<float> w(m * d);
  for (int64_t b = 0; b < blocks; ++b) {
    std::vector<double> block(g.begin() + b * d * d, g.begin() + (b + 1) * d * d);
    std::vector<double> lengths(d);
    for (int64_t r = 0; r < d; ++r) {
      double sq = 0.0;
      for (int64_t c = 0; c < d; ++c) sq += block[r * d + c] * block[r * d + c];
      lengths[r] = norms == RowNorms::Chi ? std::sqrt(sq) : std::sqrt(static_cast<double>(d));
    }
    orthonormalize_rows(block, d);
    for (int64_t r = 0; r < d && b * d + r < m; ++r)
      for (int64_t c = 0; c < d; ++c) w[(b * d + r) * d + c] = static_cast<float>(block[r * d + c] * lengths[r]);
  }
  return Tensor::from_vector(w, Shape{m, d});
}

Tensor favor_features(const Tensor& x, const Tensor& w, FeatureMap map) {
  check_defined(x, "favor_features", "x");
  check_defined(w, "favor_features", "w");
  TA_CHECK(w.ndim() == 2 && x.ndim() >= 1 && x.size(-1) == w.size(1), "favor_features: expected x [..., d] and w ",
           "[m, d], got ", x.shape(), " and ", w.shape());
  const int64_t m = w.size(0), d = w.size(1), rows = x.numel() / d;
  const bool doubled = map == FeatureMap::Hyperbolic || map == FeatureMap::Trigonometric;
  const int64_t width = doubled ? 2 * m : m;
  // 1/sqrt(m), except hyperbolic 1/sqrt(2m): its two halves each estimate the kernel.
  const double norm = 1.0 / std::sqrt(static_cast<double>(map == FeatureMap::Hyperbolic ? 2 * m : m));
  std::vector<float> p, sq(rows, 0.0f), out(rows * width);
  {
    NoGradGuard no_grad;
    const Tensor x2 = reshape(x.detach(), Shape{rows, d});
    p = matmul(x2, w.detach().to(x.device()), Transposed::B).to_vector();  // w_r . x, [rows, m]
    sq = (sum(x2 * x2, {-1}) * 0.5f).to_vector();                         // |x|^2 / 2
  }
  for (int64_t i = 0; i < rows; ++i) {
    float* o = &out[i * width];
    for (int64_t r = 0; r < m; ++r) {
      const double pr = p[i * m + r], s = sq[i];
      switch (map) {
        case FeatureMap::Positive: o[r] = static_cast<float>(norm * std::exp(pr - s)); break;
        case FeatureMap::Hyperbolic:
          o[r] = static_cast<float>(norm * std::exp(pr - s));
          o[m + r] = static_cast<float>(norm * std::exp(-pr - s));
          break;
        case FeatureMap::Trigonometric:
          o[r] = static_cast<float>(norm * std::sin(pr) * std::exp(s));
          o[m + r] = static_cast<float>(norm * std::cos(pr) * std::exp(s));
          break;
        case FeatureMap::Relu: o[r] = static_cast<float>(norm * std::max(pr, 0.0)); break;
      }
    }
  }
  std::vector<int64_t> dims;
  for (int a = 0; a + 1 < x.ndim(); ++a) dims.push_back(x.size(a));
  dims.push_back(width);
  return Tensor::from_vector(out, Shape(dims), x.device());
}

// ---- the core ------------------------------------------------------------------------

PerformerCore::PerformerCore(const Options& o, AttentionScale scale, int64_t d_head_)
    : AttentionCore(scale), options(o), d_head(d_head_) {
  TA_CHECK(o.features > 0 && d_head_ > 0, "performer: features (m) and d_head must be positive, got m=", o.features,
           ", d_head=", d_head_);
  TA_CHECK(o.map != FeatureMap::Trigonometric, "performer: trigonometric features are for comparison only (their ",
           "estimates of small kernel values are noisy and the denominator can reach 0 or below); use ",
           "favor_features to study them, and positive, hyperbolic or relu features in a model");
  TA_CHECK(o.redraw_interval >= 0, "performer: redraw_interval must be >= 0 (0: never), got ", o.redraw_interval);
  features = register_buffer("features", draw(0));
  steps = register_buffer("steps", Tensor::zeros(Shape{1}));
}

const char* PerformerCore::name() const {
  switch (options.map) {
    case FeatureMap::Relu: return options.fused ? "performer-relu" : "performer-relu-reference";
    case FeatureMap::Hyperbolic: return options.fused ? "performer-hyperbolic" : "performer-hyperbolic-reference";
    default: return options.fused ? "performer" : "performer-reference";
  }
}

Tensor PerformerCore::draw(int64_t index) const {
  Generator gen(options.seed);
  gen.offset = static_cast<uint64_t>(index) << 32;  // each draw its own stretch of counters
  const FeatureRows rows = options.orthogonal ? FeatureRows::Orthogonal : FeatureRows::Iid;
  return draw_features(options.features, d_head, rows, gen, options.norms);
}

void PerformerCore::redraw(int64_t index) { set_buffer("features", draw(index).to(features.device())); }

int64_t PerformerCore::training_steps() const { return static_cast<int64_t>(steps.item()); }

// Steps 0 .. K-1 use draw 0, steps K .. 2K-1 draw 1, and so on. A step is a forward
// pass in training mode with grad mode on (with gradient accumulation, each
// micro-batch; with gradient checkpointing, the recomputation in the backward pass,
// the forward pass having run without grad mode).
void PerformerCore::count_training_step() {
  if (!training() || !grad_enabled()) return;
  const int64_t done = training_steps(), k = options.redraw_interval;
  if (k > 0 && done > 0 && done % k == 0) redraw(done / k);
  set_buffer("steps", Tensor::full(Shape{1}, static_cast<float>(done + 1), steps.device()));
}

Tensor PerformerCore::projection() const {
  return options.map == FeatureMap::Hyperbolic ? concat({features, neg(features)}, 0) : features.clone();
}

// The features of one call, stabilized, up to constant factors (which cancel):
//   positive:  qf_i = exp(W q'_i - max_r (W q'_i)_r),   kf_j = exp(W k'_j - |k'_j|^2/2 - M_j)
//   relu:      qf = relu(W q') + eps,                   kf = relu(W k') + eps
// (hyperbolic: positive with [W; -W]); padded keys get kf = 0. Here q' = q sqrt(base)
// times the query's length factor (AttentionScale::scale_queries), k' = k sqrt(base).
PerformerCore::Stabilized PerformerCore::stabilized_features(const Tensor& q, const Tensor& k, Causality causal,
                                                             const Tensor& key_padding_mask) const {
  TA_CHECK(q.ndim() == 4 && k.ndim() == 4 && q.size(3) == d_head && k.size(3) == d_head, name(),
           ": expected q, k [batch, heads, n, ", d_head, "], got ", q.shape(), " and ", k.shape());
  const int64_t batch = q.size(0), heads = q.size(1), n_k = k.size(2);
  const float s = scale_.base, root = std::sqrt(s);
  const Tensor w = projection().to(q.device());
  const Tensor q_scaled = scale_.scale_queries(q, n_k, causal, key_padding_mask);
  const Tensor pq = matmul(q_scaled, w, Transposed::B) * root, pk = matmul(k, w, Transposed::B) * root;  // w_r . x'
  Tensor pad;
  if (key_padding_mask.defined()) {
    TA_CHECK(key_padding_mask.shape() == Shape({batch, n_k}), name(), ": key_padding_mask must be [", batch, ", ",
             n_k, "], got ", key_padding_mask.shape());
    pad = reshape(key_padding_mask, Shape{batch, 1, n_k, 1}).to(q.device());
  }
  Stabilized f;
  if (is_relu(options.map)) {
    f.qf = relu(pq) + kReluEps;
    f.kf = relu(pk) + kReluEps;
    if (pad.defined()) f.kf = masked_fill(f.kf, pad, 0.0f);
    std::vector<float> l(batch * heads * n_k, 0.0f);
    if (pad.defined()) {
      const std::vector<float> p = key_padding_mask.to_vector();
      for (int64_t b = 0; b < batch * heads; ++b)
        for (int64_t j = 0; j < n_k; ++j)
          if (p[(b / heads) * n_k + j] != 0.0f) l[b * n_k + j] = kPadded;
    }
    f.key_max.assign(l.size(), 0.0f);
    f.key_row_max = l;
    return f;
  }
  Tensor e = pk - sum(k * k, {-1}, KeepDims::Yes) * (0.5f * s);  // key exponents
  if (pad.defined()) e = masked_fill(e, pad, kPadded);
  Tensor row_max;
  {
    NoGradGuard no_grad;  // the stabilizers carry no gradient
    row_max = max(pq, {-1}, KeepDims::Yes);
    f.key_row_max = max(e, {-1}).to_vector();
  }
  f.key_max = key_stabilizers(f.key_row_max, batch * heads, n_k, causal);
  f.qf = exp(pq - row_max);
  f.kf = exp(e - Tensor::from_vector(f.key_max, Shape{batch, heads, n_k, 1}, q.device()));
  return f;
}

// Bidirectional: out = Q' (K'^T V) / Q' (K'^T 1). Causal: the prefix sums
// S_i = sum_{j <= i} phi(k_j) v_j^T written as the masked product (A o F) V with
// A = Q' K'^T and F from causal_factors; the fused kernel computes the same sums
// chunk by chunk.
// A NaN or inf input reaches only the outputs that may see it (attention/non_finite.h):
// causally, the masked product computes on finite inputs and marks the outputs that
// see a non-finite one; bidirectionally, only padded rows are hidden, and they are
// read as 0.
Tensor PerformerCore::reference_forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                                        const Tensor& key_padding_mask) const {
  if (causal == Causality::Causal) {
    const FiniteInputs in = finite_inputs(q, k, v);
    const Stabilized f = stabilized_features(in.q, in.k, causal, key_padding_mask);
    const int64_t bh = q.size(0) * q.size(1), n_q = q.size(2), n_k = k.size(2);
    Tensor factors = reshape(causal_factors(f.key_max, f.key_row_max, bh, n_q, n_k, q.device()),
                             Shape{q.size(0), q.size(1), n_q, n_k});
    Tensor a = matmul(f.qf, f.kf, Transposed::B) * factors;  // w_ij
    const Tensor out = matmul(a, in.v) / maximum(sum(a, {-1}, KeepDims::Yes), Tensor::scalar(kDenFloor, q.device()));
    return mark_seen(out, in, attention_mask(n_q, n_k, causal, key_padding_mask));
  }
  const Tensor v_used = without_padded_rows(v, key_padding_mask);
  const Stabilized f = stabilized_features(without_padded_rows(q, key_padding_mask),
                                           without_padded_rows(k, key_padding_mask), causal, key_padding_mask);
  const Tensor num = matmul(f.qf, matmul(f.kf, v_used, Transposed::A));
  const Tensor den = matmul(f.qf, sum(f.kf, {2}, KeepDims::Yes), Transposed::B);
  return num / maximum(den, Tensor::scalar(kDenFloor, q.device()));
}

Tensor PerformerCore::forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                              const Tensor& key_padding_mask) {
  count_training_step();
  if (causal == Causality::Bidirectional || !options.fused) return reference_forward(q, k, v, causal, key_padding_mask);
  const Tensor q_scaled = scale_.scale_queries(q, k.size(2), causal, key_padding_mask);
  return favor_causal_attention(q_scaled, k, v, projection().to(q.device()), scale_.base,
                                is_relu(options.map) ? FavorKernel::Relu : FavorKernel::Softmax, key_padding_mask);
}

std::unique_ptr<MixerState> PerformerCore::start_decoding(int64_t) const {
  auto state = std::make_unique<FavorState>();
  state->w = projection();
  return state;
}

// One token: add phi(k_t) [v_t | 1]^T to S (moving S to the new running maximum
// first), then read o_t = phi(q_t)^T S[:, :d] / phi(q_t).S[:, d]. The length-aware
// scale touches only q_t (its factor counts the position + 1 keys it sees), so the
// sums over past keys stay valid.
Tensor PerformerCore::step(const Tensor& q, const Tensor& k, const Tensor& v, MixerState& state) {
  auto* st = dynamic_cast<FavorState*>(&state);
  TA_CHECK(st != nullptr, name(), ": step() got a decoding state from another kind of mixer");
  TA_CHECK(q.ndim() == 4 && q.size(2) == 1 && q.size(3) == d_head && k.shape() == q.shape() && v.shape() == q.shape(),
           name(), ": step() expects q, k, v [batch, heads, 1, ", d_head, "], got ", q.shape(), ", ", k.shape(), ", ",
           v.shape());
  const int64_t batch = q.size(0), heads = q.size(1);
  const float s = scale_.base, root = std::sqrt(s);
  const Tensor w = st->w.to(q.device());
  const Tensor q_scaled = scale_.scale_queries(q, state.position + 1, Causality::Causal, Tensor());
  const Tensor pq = matmul(q_scaled, w, Transposed::B) * root, pk = matmul(k, w, Transposed::B) * root;
  const Tensor vext = concat({v, Tensor::ones(Shape{batch, heads, 1, 1}, q.device())}, -1);
  if (!st->s.defined()) {
    st->s = Tensor::zeros(Shape{batch, heads, w.size(0), d_head + 1}, q.device());
    st->kmax = Tensor::full(Shape{batch, heads, 1, 1}, kPadded, q.device());
  }
  Tensor qf;
  if (is_relu(options.map)) {
    qf = relu(pq) + kReluEps;
    st->s = st->s + matmul(relu(pk) + kReluEps, vext, Transposed::A);
  } else {
    const Tensor e = pk - sum(k * k, {-1}, KeepDims::Yes) * (0.5f * s);
    Tensor row_max, m_new;
    {
      NoGradGuard no_grad;
      row_max = max(pq, {-1}, KeepDims::Yes);
      m_new = maximum(st->kmax, max(e, {-1}, KeepDims::Yes));
    }
    qf = exp(pq - row_max);
    st->s = st->s * exp(st->kmax - m_new) + matmul(exp(e - m_new), vext, Transposed::A);
    st->kmax = m_new;
  }
  const Tensor o = matmul(qf, st->s);  // [batch, heads, 1, d_head + 1]
  return narrow(o, 3, 0, d_head) / maximum(narrow(o, 3, d_head, 1), Tensor::scalar(kDenFloor, q.device()));
}

Tensor PerformerCore::query_weights(const Tensor& q, const Tensor& k, int64_t i, Causality causal) {
  NoGradGuard no_grad;
  const int64_t n_q = q.size(2), n_k = k.size(2), visible = causal == Causality::Causal ? i + (n_k - n_q) + 1 : n_k;
  TA_CHECK(i >= 0 && i < n_q, name(), ": query ", i, " is outside 0..", n_q - 1);
  const int64_t batch = q.size(0), heads = q.size(1);
  if (visible <= 0) return Tensor::zeros(Shape{batch, heads, n_k}, q.device());
  // Query i against the keys it sees, as the last query of a causal call (or all keys).
  const Tensor qi = narrow(q, 2, i, 1), keys = narrow(k, 2, 0, visible);
  const Stabilized f = stabilized_features(qi, keys, causal, Tensor());
  Tensor a = matmul(f.qf, f.kf, Transposed::B);  // [batch, heads, 1, visible]
  if (causal == Causality::Causal)
    a = a * reshape(causal_factors(f.key_max, f.key_row_max, batch * heads, 1, visible, q.device()),
                    Shape{batch, heads, 1, visible});
  a = a / maximum(sum(a, {-1}, KeepDims::Yes), Tensor::scalar(kDenFloor, q.device()));
  if (visible < n_k) a = concat({a, Tensor::zeros(Shape{batch, heads, 1, n_k - visible}, q.device())}, -1);
  return reshape(a, Shape{batch, heads, n_k});
}

void load_softmax_weights(Module& model, const std::map<std::string, Tensor>& state) {
  std::map<std::string, Tensor> merged = state;
  for (const auto& [name, t] : model.named_buffers())
    if (!merged.count(name)) merged[name] = t.clone();  // kept: the model's own features and step count
  model.load_state_dict(merged);
}

// ---- the registered variants ----------------------------------------------------------

namespace {

const std::vector<OptionSpec> kPerformerOptions = {
    integer_option("performer-features", 256, "m, random features per layer (shared by its heads)", 1, 1 << 16),
    boolean_option("performer-orthogonal", true, "orthogonal blocks of features (false: i.i.d. Gaussian rows)"),
    integer_option("performer-redraw-interval", 1000, "new features every K training steps (0: never)", 0),
    integer_option("performer-seed", 0, "seed of the feature draws (0: one drawn from the model's generator, so "
                   "layers differ)", 0)};

// Multi-head attention with a FAVOR+ core. Without a seed, each layer takes one from
// the model's generator, so layers get different features.
AttentionVariant::Builder performer_builder(FeatureMap map, bool fused) {
  return [map, fused](const AttentionConfig& c, const VariantOptions& o, Generator& g) -> std::shared_ptr<TokenMixer> {
    PerformerCore::Options p;
    p.features = o.integer("performer-features");
    p.map = map;
    p.orthogonal = o.boolean("performer-orthogonal");
    p.redraw_interval = o.integer("performer-redraw-interval");
    p.fused = fused;
    if (const int64_t seed = o.integer("performer-seed"); seed != 0) {
      p.seed = static_cast<uint64_t>(seed);
    } else {
      const auto words = philox4x32(g.seed, g.advance(1));
      p.seed = (static_cast<uint64_t>(words[0]) << 32) | words[1];
    }
    const AttentionScale scale = attention_scale(c);
    return multi_head_attention(c, std::make_shared<PerformerCore>(p, scale, c.d_model / c.heads), g);
  };
}

// A registration of FAVOR+ with `map`; `fused` variants are held to the reference
// computation with the same features.
AttentionVariant performer_variant(std::string name, std::string description, FeatureMap map, bool fused) {
  return {.name = std::move(name),
          .description = std::move(description),
          .options = kPerformerOptions,
          .build = performer_builder(map, fused),
          .reference = fused ? performer_builder(map, false) : AttentionVariant::Builder(),
          .fixed_sizes = fused ? std::vector<int64_t>{64} : std::vector<int64_t>{},  // the fused kernel's chunks
          .test_options = {{{"performer-features", "16"}}},
          .smoothness = map == FeatureMap::Relu ? Smoothness::Kinked : Smoothness::Smooth};
}

}  // namespace

const AttentionRegistration performer_registration(performer_variant(
    "performer", "Performer FAVOR+: positive orthogonal random features, fused causal kernel (linear in n)",
    FeatureMap::Positive, true));
const AttentionRegistration performer_relu_registration(performer_variant(
    "performer-relu", "Performer with the ReLU kernel relu(W x) (generalized attention), fused causal kernel",
    FeatureMap::Relu, true));
const AttentionRegistration performer_reference_registration(performer_variant(
    "performer-reference", "Performer FAVOR+ from autograd ops (causal: masked n x n product)", FeatureMap::Positive,
    false));

}  // namespace ta
