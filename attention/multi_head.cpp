#include "attention/multi_head.h"

#include <cmath>

#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

namespace {
struct KVCache : MixerState {
  Tensor k, v;  // [batch, heads, t, d_head]
};
}  // namespace

MultiHeadAttention::MultiHeadAttention(const Options& o, std::shared_ptr<AttentionCore> core_, Generator& gen)
    : options(o) {
  TA_CHECK(o.heads > 0 && o.d_model % o.heads == 0, "MultiHeadAttention: d_model (", o.d_model,
           ") must be a positive multiple of heads (", o.heads, ")");
  TA_CHECK(core_ != nullptr, "MultiHeadAttention: no attention core given");
  d_head = o.d_model / o.heads;
  core = register_module("core", std::move(core_));
  qkv = register_module("qkv", std::make_shared<Linear>(o.d_model, 3 * o.d_model, gen, bias_if(o.bias), o.init_std));
  out = register_module("out", std::make_shared<Linear>(o.d_model, o.d_model, gen, bias_if(o.bias), o.init_std));
  if (o.rotary_dims > 0) rope_ = std::make_unique<RotaryEmbedding>(d_head, o.rotary_dims);
}

void MultiHeadAttention::project(const Tensor& x, int64_t offset, Tensor& q, Tensor& k, Tensor& v) const {
  TA_CHECK(x.ndim() == 3 && x.size(2) == options.d_model, name(), ": expected x [batch, n, ", options.d_model,
           "], got ", x.shape());
  const int64_t b = x.size(0), n = x.size(1);
  // [b, n, 3 d] -> [b, n, 3, heads, d_head] -> [3, b, heads, n, d_head]; the three
  // slices along the leading axis are free views.
  Tensor t = permute(reshape(qkv->forward(x), Shape{b, n, 3, options.heads, d_head}), {2, 0, 3, 1, 4});
  q = reshape(narrow(t, 0, 0, 1), Shape{b, options.heads, n, d_head});
  k = reshape(narrow(t, 0, 1, 1), Shape{b, options.heads, n, d_head});
  v = reshape(narrow(t, 0, 2, 1), Shape{b, options.heads, n, d_head});
  if (rope_) {
    q = rope_->apply(q, offset);
    k = rope_->apply(k, offset);
  }
}

Tensor MultiHeadAttention::merge_heads(const Tensor& o) const {
  const int64_t b = o.size(0), n = o.size(2);
  return out->forward(reshape(permute(o, {0, 2, 1, 3}), Shape{b, n, options.d_model}));
}

Tensor MultiHeadAttention::forward(const Tensor& x, const Tensor& key_padding_mask) {
  Tensor q, k, v;
  project(x, 0, q, k, v);
  if (keep_qk) {
    last_q = q.detach();
    last_k = k.detach();
  }
  return merge_heads(core->forward(q, k, v, causality_if(options.causal), key_padding_mask));
}

std::unique_ptr<MixerState> MultiHeadAttention::start_decoding(int64_t batch) const {
  TA_CHECK(options.causal, name(), ": incremental decoding needs causal attention");
  if (std::unique_ptr<MixerState> own = core->start_decoding(batch)) return own;  // a recurrent core
  return std::make_unique<KVCache>();
}

Tensor MultiHeadAttention::step(const Tensor& x_t, MixerState& state) {
  TA_CHECK(options.causal, name(), ": incremental decoding needs causal attention");
  TA_CHECK(x_t.ndim() == 3 && x_t.size(1) == 1, name(), ": step() expects one token [batch, 1, d_model], got ",
           x_t.shape());
  Tensor q, k, v;
  auto* cache = dynamic_cast<KVCache*>(&state);
  if (cache == nullptr) {  // the core's own state (the core checks that it is one of its own)
    project(x_t, state.position, q, k, v);
    Tensor o = core->step(q, k, v, state);
    state.position += 1;
    return merge_heads(o);
  }
  project(x_t, cache->position, q, k, v);
  cache->k = cache->k.defined() ? concat({cache->k, k}, 2) : k;
  cache->v = cache->v.defined() ? concat({cache->v, v}, 2) : v;
  cache->position += 1;
  return merge_heads(core->forward(q, cache->k, cache->v, Causality::Causal, Tensor()));
}

MultiHeadAttention::Options multi_head_options(const AttentionConfig& c) {
  MultiHeadAttention::Options o;
  o.d_model = c.d_model;
  o.heads = c.heads;
  o.causal = c.causal;
  o.rotary_dims = c.rotary_dims;
  o.init_std = c.init_std;
  return o;
}

AttentionScale attention_scale(const AttentionConfig& c) {
  TA_CHECK(c.heads > 0 && c.d_model % c.heads == 0, "attention '", c.name, "': d_model (", c.d_model,
           ") must be a positive multiple of heads (", c.heads, ")");
  return {1.0f / std::sqrt(static_cast<float>(c.d_model / c.heads)), c.train_length};
}

std::shared_ptr<MultiHeadAttention> multi_head_attention(const AttentionConfig& c, std::shared_ptr<AttentionCore> core,
                                                         Generator& gen) {
  return std::make_shared<MultiHeadAttention>(multi_head_options(c), std::move(core), gen);
}

}  // namespace ta
