#include "attention/gau.h"

#include <cmath>

#include "attention/builtin_variants.h"
#include "attention/flash_attention.h"
#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

namespace {

// Decoding state. FLASH: the completed chunks are summarized in kv = sum Kl^T V (the
// same running state the causal full pass uses), and the current chunk's keys and
// values are kept to attend to quadratically. FLASH-Quad: one chunk that never ends.
struct GauCache : MixerState {
  Tensor kq, kl, v;         // current chunk: quad keys [b, t, s], linear keys [b, t, s], values [b, t, e]
  Tensor kv;                // [b, s, e], undefined before the first chunk completes
  int64_t summarized = 0;   // positions folded into kv
};

}  // namespace

GatedAttentionUnit::GatedAttentionUnit(const Options& o, Generator& gen) : options(o) {
  TA_CHECK(o.d_model > 0 && o.s > 0 && o.expansion >= 0 && o.chunk >= 0 && o.rotary_dims >= 0, name(),
           ": need d_model > 0, s > 0, expansion >= 0, chunk >= 0, rotary_dims >= 0; got d_model ", o.d_model,
           ", s ", o.s, ", expansion ", o.expansion, ", chunk ", o.chunk, ", rotary_dims ", o.rotary_dims);
  e = o.expansion > 0 ? o.expansion : 2 * o.d_model;
  hidden = register_module("hidden", std::make_shared<Linear>(o.d_model, 2 * e + o.s, gen, Bias::Yes, o.init_std));
  gamma = register_parameter("gamma", Tensor::normal(Shape{planes(), o.s}, 0.0f, o.init_std, gen));
  beta = register_parameter("beta", Tensor::zeros(Shape{planes(), o.s}));
  out = register_module("out", std::make_shared<Linear>(e, o.d_model, gen, Bias::Yes, o.init_std));
  if (o.relative_bias)
    bias = register_module("bias", std::make_shared<RelativePositionBias>(1, causality_if(o.causal), gen));
  if (o.rotary_dims > 0) rope_ = std::make_unique<RotaryEmbedding>(o.s, o.rotary_dims);
}

// The scaling of the squared-ReLU weights. The default is RowCount: each part of the
// output is the mean over the keys it reads, w_i relu(q.k / sqrt(s) + bias)^2 with
// w_i = 1 / (keys row i sees). It is the better default because it depends on nothing
// but the keys a row actually reads: a causal output never depends on the sequence's
// final length (so decoding token by token equals the full pass), padding does not
// shrink the other rows, and the same weights serve at any length (a model trained at
// 512 tokens reads 8192 without its attention sums growing or fading). It is not the
// paper's scaling, only close to it: bidirectional and unpadded, FLASH-Quad with
// RowCount is (1/n) relu(q.k / sqrt(s) + bias)^2, the 1/n outside the square with the
// usual 1/sqrt(s) inside, while the paper's pseudocode divides the scores by n inside
// the square, relu(q.k / n + bias)^2 (Length below).
// Length is the paper's pseudocode and the benchmark's function: relu(q.k / L)^2 with
// L = c for FLASH (the linear part also / c, or / n bidirectionally), L = n for
// FLASH-Quad. Its sums change with the length, and FLASH-Quad's causal outputs depend
// on n, so decoding FLASH-Quad with it needs a fixed scaling_length.
FlashOptions GatedAttentionUnit::flash_options(int64_t n) const {
  FlashOptions f;
  f.chunk = options.chunk;
  f.causal = options.causal;
  f.scaling = options.scaling;
  if (options.scaling == FlashScaling::RowCount) {
    f.score_scale = 1.0f / std::sqrt(static_cast<float>(options.s));
    f.lin_scale = 1.0f;
  } else {
    const int64_t length = options.chunk > 0 ? options.chunk : (options.scaling_length > 0 ? options.scaling_length : n);
    f.score_scale = 1.0f / static_cast<float>(std::max<int64_t>(length, 1));
    f.lin_scale = 1.0f / static_cast<float>(std::max<int64_t>(options.causal ? options.chunk : n, 1));
  }
  return f;
}

void GatedAttentionUnit::project(const Tensor& x, int64_t offset, Tensor& u, Tensor& v, Tensor& qk) const {
  check_defined(x, name(), "x");
  TA_CHECK(x.ndim() == 3 && x.size(2) == options.d_model, name(), ": expected x [batch, n, ", options.d_model,
           "], got ", x.shape());
  // [U | V | Z] as three products with row blocks of the one weight: a single product
  // split afterwards would copy the [b, n, 2e + s] activations, forward and backward.
  // Each applies its SiLU as it writes the product (linear with an epilogue activation).
  auto part = [&](int64_t first, int64_t width) {
    return linear(x, narrow(hidden->weight, 0, first, width), narrow(hidden->bias, 0, first, width),
                  EpilogueActivation::Silu);
  };
  u = part(0, e);
  v = part(e, e);
  qk = scale_offset(part(2 * e, options.s), gamma, beta);  // [planes, b, n, s]
  if (rope_) qk = rope_->apply(qk, offset);
}

Tensor GatedAttentionUnit::forward(const Tensor& x, const Tensor& key_padding_mask) {
  Tensor u, v, qk;
  project(x, 0, u, v, qk);
  const int64_t n = x.size(1);
  const FlashOptions f = flash_options(n);
  Tensor table = bias ? relative_bias_table(*bias, f.chunk_length(n)) : Tensor();
  Tensor a = options.fused ? flash_attention(qk, v, f, table, key_padding_mask)
                           : flash_attention_reference(qk, v, f, table, key_padding_mask);
  return out->forward(u * a);
}

std::unique_ptr<MixerState> GatedAttentionUnit::start_decoding(int64_t) const {
  TA_CHECK(options.causal, name(), ": incremental decoding needs causal attention");
  TA_CHECK(!(options.scaling == FlashScaling::Length && options.chunk == 0 && options.scaling_length == 0), name(),
           ": with FlashScaling::Length every causal output depends on the final length n (weights relu(q.k/n)^2), ",
           "which decoding does not know; set scaling_length to fix n, or use FlashScaling::RowCount");
  return std::make_unique<GauCache>();
}

Tensor GatedAttentionUnit::step(const Tensor& x_t, MixerState& state) {
  auto* cache = dynamic_cast<GauCache*>(&state);
  TA_CHECK(cache != nullptr, name(), ": step() got a state from another kind of mixer");
  TA_CHECK(x_t.ndim() == 3 && x_t.size(1) == 1, name(), ": step() expects one token [batch, 1, d_model], got ",
           x_t.shape());
  const int64_t p = cache->position, b = x_t.size(0), s = options.s;
  Tensor u, v, qk;
  project(x_t, p, u, v, qk);
  auto plane = [&](int64_t i) { return reshape(narrow(qk, 0, i, 1), Shape{b, 1, s}); };
  const bool linear = planes() == 4;
  if (options.chunk > 0 && p > 0 && p % options.chunk == 0) {  // a chunk is complete: fold it into the state
    if (linear) {
      Tensor kv = matmul(cache->kl, cache->v, Transposed::A);
      cache->kv = cache->kv.defined() ? cache->kv + kv : kv;
      cache->summarized += cache->v.size(1);
    }
    cache->kq = cache->kl = cache->v = Tensor();
  }
  auto append = [](const Tensor& cached, const Tensor& x) { return cached.defined() ? concat({cached, x}, 1) : x; };
  cache->kq = append(cache->kq, plane(1));
  cache->v = append(cache->v, v);
  if (linear) cache->kl = append(cache->kl, plane(3));
  cache->position += 1;

  // Quadratic part over the current chunk's t keys (offsets j - p = -(t - 1) .. 0).
  const int64_t t = cache->kq.size(1);
  const FlashOptions f = flash_options(p + 1);
  Tensor scores = matmul(plane(0), cache->kq, Transposed::B) * f.score_scale;  // [b, 1, t]
  if (bias) scores = scores + reshape(narrow(relative_bias_table(*bias, t), 0, 0, t), Shape{1, 1, t});
  const float w = f.scaling == FlashScaling::RowCount ? 1.0f / static_cast<float>(t) : 1.0f;
  Tensor a = matmul(relu_squared(scores) * w, cache->v);  // [b, 1, e]
  // Linear part from the completed chunks.
  if (linear && cache->kv.defined()) {
    const float u_row = f.scaling == FlashScaling::RowCount ? f.lin_scale / static_cast<float>(cache->summarized)
                                                            : f.lin_scale;
    a = a + matmul(plane(2), cache->kv) * u_row;
  }
  return out->forward(u * a);
}

// ---- the registered variants ----------------------------------------------------------

namespace {

const OptionSpec kExpansion = integer_option("flash-expansion", 0, "e, the width of U and V (0: 2 d_model)", 0);
const OptionSpec kS = integer_option("flash-s", 128, "s, the width of the shared base Z and so of queries and keys", 1);
const OptionSpec kScaling = choice_option("flash-scaling", "row-count", {"row-count", "length"},
                                          "weights of the squared-ReLU scores: row-count (the mean over the keys a "
                                          "row reads) or length (the paper's pseudocode: scores / c, or / n)");
const OptionSpec kRelativeBias = boolean_option("flash-relative-bias", true, "a relative position bias on the scores "
                                                "(only without rotary dims)");

// The GAU of FLASH (chunk > 0) or FLASH-Quad (chunk 0), fused or its reference.
GatedAttentionUnit::Options gau_options(const AttentionConfig& c, const VariantOptions& o, int64_t chunk,
                                        FlashImplementation implementation) {
  GatedAttentionUnit::Options g;
  g.d_model = c.d_model;
  g.expansion = o.integer("flash-expansion");
  g.s = o.integer("flash-s");
  g.chunk = chunk;
  g.causal = c.causal;
  g.scaling = o.choice("flash-scaling") == "length" ? FlashScaling::Length : FlashScaling::RowCount;
  g.relative_bias = o.boolean("flash-relative-bias") && c.rotary_dims == 0;
  g.rotary_dims = c.rotary_dims;
  g.fused = implementation == FlashImplementation::Fused;
  g.init_std = c.init_std;
  return g;
}

AttentionVariant::Builder flash_builder(FlashImplementation implementation) {
  return
      [implementation](const AttentionConfig& c, const VariantOptions& o, Generator& g) -> std::shared_ptr<TokenMixer> {
        return std::make_shared<GatedAttentionUnit>(gau_options(c, o, o.integer("flash-chunk"), implementation), g);
      };
}

AttentionVariant::Builder flash_quad_builder(FlashImplementation implementation) {
  return
      [implementation](const AttentionConfig& c, const VariantOptions& o, Generator& g) -> std::shared_ptr<TokenMixer> {
        GatedAttentionUnit::Options q = gau_options(c, o, 0, implementation);
        q.scaling_length = o.integer("flash-scaling-length");
        return std::make_shared<GatedAttentionUnit>(q, g);
      };
}

}  // namespace

// The fused kernel works in tiles of 64 rows and steps of 256 keys within each chunk
// (core/cpu/attention/flash.cpp).
const AttentionRegistration flash_registration({
    .name = "flash",
    .description = "FLASH: gated attention unit, squared-ReLU attention within chunks + linear across, fused",
    .options = {kExpansion, kS,
                integer_option("flash-chunk", 256, "c, the positions per chunk", 1, 1 << 20, OptionRole::Size),
                kScaling, kRelativeBias},
    .build = flash_builder(FlashImplementation::Fused),
    .reference = flash_builder(FlashImplementation::Reference),
    .fixed_sizes = {64, 256},
    // Many short chunks; and chunks longer than the kernel's tile of 64 rows.
    .test_options = {{{"flash-chunk", "6"}, {"flash-s", "8"}, {"flash-expansion", "16"}},
                     {{"flash-chunk", "70"}, {"flash-s", "8"}, {"flash-expansion", "16"}, {"flash-scaling", "length"}}},
    .length_scale = LengthScale::NotApplicable,
});

const AttentionRegistration flash_quad_registration({
    .name = "flash-quad",
    .description = "FLASH-Quad: gated attention unit, squared-ReLU attention over the whole sequence",
    .options = {kExpansion, kS, kScaling, kRelativeBias,
                integer_option("flash-scaling-length", 0,
                               "the fixed n of flash-scaling length, relu(q.k / n)^2 "
                               "(0: each input's own n; decoding needs it fixed)",
                               0)},
    .build = flash_quad_builder(FlashImplementation::Fused),
    .reference = flash_quad_builder(FlashImplementation::Reference),
    .fixed_sizes = {64, 256},
    .test_options =
        {{{"flash-s", "8"}, {"flash-expansion", "16"}},
         {{"flash-s", "8"}, {"flash-expansion", "16"}, {"flash-scaling", "length"}, {"flash-scaling-length", "32"}}},
    .length_scale = LengthScale::NotApplicable,
});

}  // namespace ta
