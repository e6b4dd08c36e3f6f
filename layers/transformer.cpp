#include "layers/transformer.h"

#include <algorithm>
#include <cmath>

#include "autograd/checkpoint.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "layers/init.h"

namespace ta {

std::shared_ptr<Norm> make_norm(NormKind kind, int64_t dim) {
  switch (kind) {
    case NormKind::LayerNorm: return std::make_shared<LayerNorm>(dim);
    case NormKind::RMSNorm: return std::make_shared<RMSNorm>(dim);
    case NormKind::ScaleNorm: return std::make_shared<ScaleNorm>(dim);
  }
  throw Error("make_norm: unknown norm kind");
}

// ---- block ---------------------------------------------------------------------

TransformerBlock::TransformerBlock(const TransformerConfig& c, std::shared_ptr<TokenMixer> mixer_, Generator& gen,
                                   int64_t layer)
    : checkpoint_(c.checkpoint), check_inputs_(c.check_inputs), layer_(layer), gen_(&gen) {
  TA_CHECK(mixer_ != nullptr, "TransformerBlock: the mixer factory returned null");
  TA_CHECK(mixer_->causal() == c.causal, "TransformerBlock: a ", (c.causal ? "causal" : "bidirectional"),
           " model got a ", (mixer_->causal() ? "causal" : "bidirectional"), " token mixer (", mixer_->name(), ")");
  norm1 = register_module("norm1", make_norm(c.norm, c.d_model));
  mixer = register_module("mixer", mixer_);
  if (c.feed_forward) {
    norm2 = register_module("norm2", make_norm(c.norm, c.d_model));
    FeedForward::Options o;
    o.activation = c.activation;
    o.gated = c.gated_ffn;
    o.init_std = o.output_init_std = c.init_std;
    ffn = register_module("ffn", std::make_shared<FeedForward>(c.d_model, c.d_ff > 0 ? c.d_ff : 4 * c.d_model, gen, o));
  }
  dropout = register_module("dropout", std::make_shared<Dropout>(c.dropout, gen));
}

Tensor TransformerBlock::mixer_input(const Tensor& x) const {
  Tensor in = norm1->forward(x);
  if (check_inputs_ == FiniteCheck::On)
    check_finite(in, cat("layer ", layer_, ": the input of its attention (", mixer->name(), ")"));
  return in;
}

Tensor TransformerBlock::mixer_branch(const Tensor& x, const Tensor& key_padding_mask) {
  return dropout->forward(mixer->forward(mixer_input(x), key_padding_mask));
}

Tensor TransformerBlock::ffn_branch(const Tensor& x) { return dropout->forward(ffn->forward(norm2->forward(x))); }

Tensor TransformerBlock::forward(const Tensor& x, const Tensor& key_padding_mask) {
  Tensor h;
  if (checkpoint_ && training())
    h = x + checkpoint([&, key_padding_mask](const Tensor& in) { return mixer_branch(in, key_padding_mask); }, x, gen_);
  else
    h = x + mixer_branch(x, key_padding_mask);
  if (!ffn) return h;
  if (checkpoint_ && training()) return h + checkpoint([this](const Tensor& in) { return ffn_branch(in); }, h, gen_);
  return h + ffn_branch(h);
}

Tensor TransformerBlock::step(const Tensor& x_t, MixerState& state) {
  Tensor h = x_t + dropout->forward(mixer->step(mixer_input(x_t), state));
  return ffn ? h + ffn_branch(h) : h;
}

// ---- language model ----------------------------------------------------------------

TransformerLM::TransformerLM(const TransformerConfig& c, const MixerFactory& make_mixer) : config(c), gen(c.seed) {
  TA_CHECK(c.vocab_size > 0 && c.d_model > 0 && c.n_layers > 0, "TransformerLM: vocab_size, d_model and n_layers ",
           "must be positive, got ", c.vocab_size, ", ", c.d_model, ", ", c.n_layers);
  tokens = register_module("tokens", std::make_shared<Embedding>(c.vocab_size, c.d_model, gen, c.init_std));
  if (c.positions == Positions::Learned)
    learned_positions = register_module("positions", std::make_shared<LearnedPositions>(c.max_len, c.d_model, gen,
                                                                                         c.init_std));
  TA_CHECK(c.previous_tokens >= 0, "TransformerLM: previous_tokens must be >= 0, got ", c.previous_tokens);
  if (c.previous_tokens > 0) {
    auto tables = register_module("previous_tokens", std::make_shared<ModuleList>());
    for (int64_t k = 1; k <= c.previous_tokens; ++k) {
      auto table = std::make_shared<Embedding>(c.vocab_size + 1, c.d_model, gen, c.init_std);
      tables->push_back(table);
      previous_tokens.push_back(table);
    }
  }
  embedding_dropout = register_module("dropout", std::make_shared<Dropout>(c.dropout, gen));
  auto block_list = register_module("blocks", std::make_shared<ModuleList>());
  const float residual_scale = 1.0f / std::sqrt(2.0f * c.n_layers);
  for (int64_t i = 0; i < c.n_layers; ++i) {
    auto block = std::make_shared<TransformerBlock>(c, make_mixer(i), gen, i);
    for (const Tensor& w : block->mixer->residual_output_weights()) init::scale_(w, residual_scale);
    if (block->ffn) init::scale_(block->ffn->down->weight, residual_scale);
    block_list->push_back(block);
    blocks.push_back(block);
  }
  final_norm = register_module("final_norm", make_norm(c.norm, c.d_model));
  if (!c.tie_embeddings)
    head = register_module("head", std::make_shared<Linear>(c.d_model, c.vocab_size, gen, Bias::No, c.init_std));
}

// The ids k places back: column t holds the id at t - k, taken from `before` (newest
// first) where t - k < 0, and the "before the start" id (vocab) where it has none.
static Tensor ids_shifted_by(const Tensor& ids, int64_t k, const std::vector<Tensor>& before, int64_t vocab) {
  const int64_t batch = ids.size(0), n = ids.size(1);
  std::vector<Tensor> columns;
  for (int64_t t = 0; t < std::min(k, n); ++t) {  // columns whose id lies before ids
    const size_t back = static_cast<size_t>(k - t - 1);  // 0: the token just before ids
    columns.push_back(back < before.size() ? before[back]
                                           : Tensor::full(Shape{batch, 1}, static_cast<float>(vocab), ids.device()));
  }
  if (n > k) columns.push_back(narrow(ids, 1, 0, n - k));
  return columns.size() == 1 ? columns[0] : concat(columns, 1);
}

Tensor TransformerLM::embed(const Tensor& ids, int64_t offset, const std::vector<Tensor>& before) {
  const int64_t n = ids.size(-1);
  Tensor h = tokens->forward(ids);
  for (size_t i = 0; i < previous_tokens.size(); ++i)
    h = h + previous_tokens[i]->forward(ids_shifted_by(ids, static_cast<int64_t>(i) + 1, before, config.vocab_size));
  if (config.positions == Positions::Learned) h = h + learned_positions->forward(n, offset);
  if (config.positions == Positions::Sinusoidal)
    h = h + sinusoidal_positions(n, config.d_model, offset).to(h.device());
  return embedding_dropout->forward(h);
}

Tensor TransformerLM::logits(const Tensor& h) const {
  Tensor z = final_norm->forward(h);
  return head ? head->forward(z) : matmul(z, tokens->weight, Transposed::B);
}

Tensor TransformerLM::forward(const Tensor& ids, const Tensor& key_padding_mask) {
  check_defined(ids, "TransformerLM", "ids");
  TA_CHECK(ids.ndim() == 2, "TransformerLM: expected ids [batch, n], got shape ", ids.shape());
  if (key_padding_mask.defined())
    TA_CHECK(key_padding_mask.shape() == ids.shape(), "TransformerLM: key_padding_mask shape ",
             key_padding_mask.shape(), " must match ids shape ", ids.shape());
  Tensor h = embed(ids, 0, {});
  for (auto& block : blocks) h = block->forward(h, key_padding_mask);
  return logits(h);
}

DecodingState TransformerLM::start_decoding(int64_t batch) const {
  TA_CHECK(config.causal, "TransformerLM: incremental decoding needs a causal model");
  DecodingState state;
  for (const auto& block : blocks) state.layers.push_back(block->mixer->start_decoding(batch));
  return state;
}

Tensor TransformerLM::step(const Tensor& ids_t, DecodingState& state) {
  TA_CHECK(config.causal, "TransformerLM::step: incremental decoding needs a causal model");
  TA_CHECK(state.layers.size() == blocks.size(), "TransformerLM::step: got ", state.layers.size(), " states for ",
           blocks.size(), " layers (use start_decoding)");
  const int64_t batch = ids_t.size(0);
  const Tensor column = reshape(ids_t, Shape{batch, 1});
  Tensor h = embed(column, state.position, state.recent_ids);
  for (size_t i = 0; i < blocks.size(); ++i) h = blocks[i]->step(h, *state.layers[i]);
  state.recent_ids.insert(state.recent_ids.begin(), column);
  if (state.recent_ids.size() > previous_tokens.size()) state.recent_ids.pop_back();
  ++state.position;
  return reshape(logits(h), Shape{batch, config.vocab_size});
}

}  // namespace ta
