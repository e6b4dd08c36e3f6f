// tests/layers/test_transformer.cpp — whole Transformer language models
// (layers/transformer.h with softmax attention from attention/registry.h):
//   - a small byte-level decoder memorizes a real paragraph (tests/data/paragraph.txt)
//     with AdamW, down to a training loss below 0.05: if any gradient in the path
//     were wrong, it would stall well above;
//   - gradient checkpointing gives the same losses and gradients as storing the
//     activations, with dropout on, so the replay of the random masks is exercised;
//   - incremental decoding (start_decoding / step) equals the full causal pass at
//     every position;
//   - a key padding mask keeps padded tokens from reaching the other positions;
//   - the errors a user can make with a model.
//
// Not here: the layers one by one (test_linear.cpp, test_norm.cpp, test_dropout.cpp,
// test_block_gradients.cpp, test_module.cpp, test_position.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attention/registry.h"
#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "layers/transformer.h"
#include "optim/adam.h"
#include "optim/schedule.h"
#include "tests/testing.h"

namespace {

using ta::Shape;
using ta::Tensor;

// Softmax attention for every layer, from a generator of its own.
ta::MixerFactory softmax_mixers(const ta::TransformerConfig& c, int64_t heads, uint64_t seed,
                                int64_t rotary_dims = 0) {
  auto gen = std::make_shared<ta::Generator>(seed);
  return [=](int64_t) {
    return ta::make_attention({.name = "softmax",
                               .d_model = c.d_model,
                               .heads = heads,
                               .causal = c.causal,
                               .rotary_dims = rotary_dims,
                               .init_std = c.init_std},
                              *gen);
  };
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  std::vector<float> u = a.to_vector(), v = b.to_vector();
  float m = 0.0f;
  for (size_t i = 0; i < u.size(); ++i) m = std::max(m, std::fabs(u[i] - v[i]));
  return m;
}

float max_abs(const Tensor& a) {
  float m = 0.0f;
  for (float x : a.to_vector()) m = std::max(m, std::fabs(x));
  return m;
}

Tensor random_ids(const Shape& shape, int64_t vocab, uint64_t seed) {
  ta::Generator gen(seed);
  std::vector<float> v = Tensor::uniform(shape, 0.0f, 1.0f, gen).to_vector();
  for (float& x : v) x = std::min<float>(static_cast<float>(vocab - 1), std::floor(x * vocab));
  return Tensor::from_vector(v, shape);
}

}  // namespace

TEST_CASE("transformer LM: a byte-level decoder memorizes a paragraph to a loss below 0.05") {
  const std::string text = ta::testing::read_test_data("paragraph.txt");
  REQUIRE(text.size() >= 400);
  const int64_t rows = 8, n = (static_cast<int64_t>(text.size()) - 1) / rows;  // the whole paragraph, 8 pieces
  ta::testing::ByteBatch batch = ta::testing::byte_batch(text, rows, n);

  ta::TransformerConfig cfg{.vocab_size = 256, .d_model = 64, .n_layers = 2, .max_len = 128,
                            .positions = ta::Positions::Learned, .seed = 1};
  ta::TransformerLM model(cfg, softmax_mixers(cfg, 4, 2));
  ta::AdamW opt(ta::weight_decay_groups(model.named_parameters(), 0.0f));
  const int64_t max_steps = 400;
  ta::WarmupCosineSchedule schedule(3e-3f, 10, max_steps, 3e-4f);

  float first = 0.0f, loss = 0.0f;
  int64_t step = 0;
  for (; step < max_steps; ++step) {
    opt.zero_grad();
    Tensor l = ta::cross_entropy(model.forward(batch.ids), batch.targets);
    loss = l.item();
    if (step == 0) first = loss;
    if (loss < 0.05f) break;
    ta::backward(l);
    opt.step(schedule.lr(opt.step_count()));
  }
  INFO("loss ", first, " at the start, ", loss, " after ", step, " steps");
  CHECK(first == doctest::Approx(std::log(256.0)).epsilon(0.05));  // uniform over bytes at init
  CHECK(loss < 0.05f);
}

TEST_CASE("transformer LM: gradient checkpointing gives the same losses and gradients, dropout replayed") {
  const std::string text = ta::testing::read_test_data("paragraph.txt");
  ta::testing::ByteBatch batch = ta::testing::byte_batch(text, 4, 32);
  ta::TransformerConfig cfg{.vocab_size = 256, .d_model = 32, .n_layers = 2, .d_ff = 64, .max_len = 32,
                            .dropout = 0.2f, .seed = 7};
  ta::TransformerConfig ckpt_cfg = cfg;
  ckpt_cfg.checkpoint = true;
  ta::TransformerLM stored(cfg, softmax_mixers(cfg, 4, 8));
  ta::TransformerLM recomputed(ckpt_cfg, softmax_mixers(ckpt_cfg, 4, 8));
  ta::AdamW opt_a(ta::weight_decay_groups(stored.named_parameters(), 0.01f));
  ta::AdamW opt_b(ta::weight_decay_groups(recomputed.named_parameters(), 0.01f));

  // Dropout is really on: the training loss differs from the evaluation loss.
  {
    ta::NoGradGuard no_grad;
    ta::TransformerLM probe(cfg, softmax_mixers(cfg, 4, 8));
    Tensor train_loss = ta::cross_entropy(probe.forward(batch.ids), batch.targets);
    probe.eval();
    Tensor eval_loss = ta::cross_entropy(probe.forward(batch.ids), batch.targets);
    REQUIRE(std::fabs(train_loss.item() - eval_loss.item()) > 1e-4f);
  }

  const auto params_a = stored.named_parameters(), params_b = recomputed.named_parameters();
  REQUIRE(params_a.size() == params_b.size());
  for (int step = 0; step < 10; ++step) {
    CAPTURE(step);
    opt_a.zero_grad();
    opt_b.zero_grad();
    Tensor la = ta::cross_entropy(stored.forward(batch.ids), batch.targets);
    Tensor lb = ta::cross_entropy(recomputed.forward(batch.ids), batch.targets);
    CHECK(lb.item() == doctest::Approx(la.item()).epsilon(1e-5));
    ta::backward(la);
    ta::backward(lb);
    for (size_t i = 0; i < params_a.size(); ++i) {
      CAPTURE(params_a[i].first);
      Tensor ga = params_a[i].second.grad(), gb = params_b[i].second.grad();
      REQUIRE(ga.defined());
      REQUIRE(gb.defined());
      CHECK(max_abs_diff(ga, gb) <= 1e-5f * max_abs(ga) + 1e-8f);
    }
    opt_a.step(1e-3f);
    opt_b.step(1e-3f);
  }
  // Both ran the same number of random draws.
  CHECK(stored.gen.offset == recomputed.gen.offset);
}

TEST_CASE("transformer LM: incremental decoding equals the full causal pass at every position") {
  ta::TransformerConfig cfg{.vocab_size = 50, .d_model = 32, .n_layers = 2, .d_ff = 48, .max_len = 16,
                            .init_std = 0.1f, .seed = 11};
  int64_t rotary = 0;
  SUBCASE("learned positions, LayerNorm") {}
  SUBCASE("rotary positions") {
    cfg.positions = ta::Positions::None;
    rotary = 8;
  }
  SUBCASE("sinusoidal positions, RMSNorm, SwiGLU, tied embeddings") {
    cfg.positions = ta::Positions::Sinusoidal;
    cfg.norm = ta::NormKind::RMSNorm;
    cfg.gated_ffn = true;
    cfg.activation = ta::Activation::Silu;
    cfg.tie_embeddings = true;
  }
  SUBCASE("ScaleNorm, with dropout configured (off in eval mode)") {
    cfg.norm = ta::NormKind::ScaleNorm;
    cfg.dropout = 0.3f;
  }
  // K below, at and above the positions decoded before it is full (n = 12).
  SUBCASE("previous-token embeddings, K = 1") { cfg.previous_tokens = 1; }
  SUBCASE("previous-token embeddings, K = 3") { cfg.previous_tokens = 3; }
  SUBCASE("previous-token embeddings, K = 12, sinusoidal positions") {
    cfg.previous_tokens = 12;
    cfg.positions = ta::Positions::Sinusoidal;
  }
  ta::TransformerLM model(cfg, softmax_mixers(cfg, 4, 12, rotary));
  model.eval();
  ta::NoGradGuard no_grad;
  const int64_t batch = 2, n = 12;
  Tensor ids = random_ids({batch, n}, cfg.vocab_size, 13);
  Tensor full = model.forward(ids);  // [batch, n, vocab]
  REQUIRE(full.shape() == Shape{batch, n, cfg.vocab_size});
  auto states = model.start_decoding(batch);
  REQUIRE(states.layers.size() == 2);
  for (int64_t t = 0; t < n; ++t) {
    CAPTURE(t);
    // ids_t may be [batch, 1] or [batch].
    Tensor ids_t = ta::narrow(ids, 1, t, 1);
    if (t % 2 == 1) ids_t = ta::reshape(ids_t, Shape{batch});
    Tensor logits = model.step(ids_t, states);
    REQUIRE(logits.shape() == Shape{batch, cfg.vocab_size});
    Tensor expected = ta::reshape(ta::narrow(full, 1, t, 1), Shape{batch, cfg.vocab_size});
    CHECK(max_abs_diff(logits, expected) < 1e-4f);
  }
  CHECK(states.position == n);
  CHECK(states.layers[0]->position == n);
  CHECK(states.layers[1]->position == n);
}

// h_t = E[x_t] + sum_k E_k[x_{t-k}]: each table is read at the ids k places back, the
// "before the start" row (vocab) where there are none. With the attention's weights
// zeroed, every later step works position by position, so the logits at t show
// exactly which ids the input of t read.
TEST_CASE("transformer LM: previous-token embeddings read the ids k places back and nothing else") {
  const ta::TransformerConfig cfg{
      .vocab_size = 7, .d_model = 8, .n_layers = 1, .max_len = 8, .init_std = 0.5f, .previous_tokens = 2};
  ta::TransformerLM model(cfg, softmax_mixers(cfg, 2, 1));
  model.eval();
  ta::NoGradGuard no_grad;
  REQUIRE(model.previous_tokens.size() == 2);
  REQUIRE(model.previous_tokens[0]->weight.shape() == Shape{8, 8});
  std::map<std::string, Tensor> silent = model.state_dict();
  for (auto& [name, w] : silent)
    if (name.rfind("blocks.0.mixer.", 0) == 0) w = Tensor::zeros(w.shape());
  model.load_state_dict(silent);

  const int64_t n = 6;
  const Tensor ids = random_ids({1, n}, cfg.vocab_size, 3);
  const Tensor base = model.forward(ids);
  auto moved = [&](const Tensor& other, int64_t t) {
    return max_abs_diff(ta::narrow(other, 1, t, 1), ta::narrow(base, 1, t, 1)) > 0.0f;
  };
  // The token at p reaches the inputs of p, p + 1 and p + 2 (K = 2), no others.
  for (int64_t p = 0; p < n; ++p) {
    std::vector<float> changed = ids.to_vector();
    changed[p] = std::fmod(changed[p] + 1.0f, static_cast<float>(cfg.vocab_size));
    const Tensor other = model.forward(Tensor::from_vector(changed, Shape{1, n}));
    for (int64_t t = 0; t < n; ++t) {
      CAPTURE(p);
      CAPTURE(t);
      CHECK(moved(other, t) == (t >= p && t <= p + 2));
    }
  }
  // E_k's "before the start" row is read at the first k positions only.
  for (int64_t k = 1; k <= 2; ++k) {
    const std::string name = "previous_tokens." + std::to_string(k - 1) + ".weight";
    std::map<std::string, Tensor> state = silent;
    std::vector<float> w = state.at(name).to_vector();
    std::fill(w.end() - cfg.d_model, w.end(), 0.0f);
    state[name] = Tensor::from_vector(w, state.at(name).shape());
    model.load_state_dict(state);
    const Tensor other = model.forward(ids);
    model.load_state_dict(silent);
    for (int64_t t = 0; t < n; ++t) {
      CAPTURE(k);
      CAPTURE(t);
      CHECK(moved(other, t) == (t < k));
    }
  }
}

TEST_CASE("transformer LM: decoding past the learned positions is an error naming max_len") {
  ta::TransformerConfig cfg{.vocab_size = 10, .d_model = 16, .n_layers = 1, .max_len = 3};
  ta::TransformerLM model(cfg, softmax_mixers(cfg, 2, 1));
  model.eval();
  ta::NoGradGuard no_grad;
  auto states = model.start_decoding(1);
  for (int t = 0; t < 3; ++t) CHECK_NOTHROW(model.step(Tensor::from_vector({1}, {1}), states));
  CHECK_THROWS_WITH_AS(model.step(Tensor::from_vector({1}, {1}), states), doctest::Contains("max_len"), ta::Error);
}

TEST_CASE("transformer LM: padded keys do not reach the unpadded positions of a bidirectional model") {
  ta::TransformerConfig cfg{.vocab_size = 20, .d_model = 16, .n_layers = 2, .max_len = 8, .causal = false,
                            .init_std = 0.2f, .seed = 21};
  ta::TransformerLM model(cfg, softmax_mixers(cfg, 2, 22));
  model.eval();
  ta::NoGradGuard no_grad;
  // Row 0 is padded at positions 4 and 5, row 1 at position 5.
  Tensor mask = Tensor::from_vector({0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1}, {2, 6});
  Tensor ids = Tensor::from_vector({3, 7, 1, 9, 0, 0, 4, 4, 12, 5, 8, 0}, {2, 6});
  Tensor changed = Tensor::from_vector({3, 7, 1, 9, 17, 2, 4, 4, 12, 5, 8, 19}, {2, 6});
  Tensor a = model.forward(ids, mask), b = model.forward(changed, mask);
  auto position = [&](const Tensor& logits, int64_t row, int64_t t) {
    return ta::narrow(ta::narrow(logits, 0, row, 1), 1, t, 1);
  };
  for (int64_t row = 0; row < 2; ++row)
    for (int64_t t = 0; t < (row == 0 ? 4 : 5); ++t) {
      CAPTURE(row);
      CAPTURE(t);
      CHECK(max_abs_diff(position(a, row, t), position(b, row, t)) < 1e-6f);
    }
  // The padded positions themselves read their own (changed) token, and without the
  // mask the change reaches every position.
  CHECK(max_abs_diff(position(a, 0, 4), position(b, 0, 4)) > 1e-3f);
  Tensor c = model.forward(ids), d = model.forward(changed);
  CHECK(max_abs_diff(position(c, 0, 0), position(d, 0, 0)) > 1e-4f);
  CHECK(max_abs_diff(position(c, 1, 0), position(d, 1, 0)) > 1e-4f);
  CHECK_THROWS_WITH_AS(model.forward(ids, Tensor::zeros({2, 5})), doctest::Contains("key_padding_mask shape"),
                       ta::Error);
}

TEST_CASE("transformer LM: clear errors for a mismatched mixer, ids of the wrong rank, decoding a bidirectional model") {
  ta::TransformerConfig cfg{.vocab_size = 10, .d_model = 16, .n_layers = 2, .max_len = 8};

  ta::TransformerConfig bidirectional_cfg = cfg;
  bidirectional_cfg.causal = false;
  CHECK_THROWS_WITH_AS(ta::TransformerLM(cfg, softmax_mixers(bidirectional_cfg, 2, 1)),
                       doctest::Contains("a causal model got a bidirectional token mixer (softmax)"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::TransformerLM(bidirectional_cfg, softmax_mixers(cfg, 2, 1)),
                       doctest::Contains("a bidirectional model got a causal token mixer"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::TransformerLM(cfg, [](int64_t) { return std::shared_ptr<ta::TokenMixer>(); }),
                       doctest::Contains("the mixer factory returned null"), ta::Error);

  ta::TransformerLM model(cfg, softmax_mixers(cfg, 2, 1));
  CHECK_THROWS_WITH_AS(model.forward(Tensor::from_vector({1, 2, 3}, {3})),
                       doctest::Contains("expected ids [batch, n], got shape [3]"), ta::Error);
  CHECK_THROWS_WITH_AS(model.forward(Tensor::zeros({1, 2, 3})), doctest::Contains("expected ids [batch, n]"),
                       ta::Error);
  CHECK_THROWS_AS(model.forward(Tensor::from_vector({1, 10}, {1, 2})), ta::Error);  // id out of the vocabulary
  CHECK_THROWS_WITH_AS(model.forward(Tensor::zeros({1, 9})), doctest::Contains("max_len"), ta::Error);

  ta::DecodingState one_state;
  one_state.layers.push_back(model.blocks[0]->mixer->start_decoding(1));
  CHECK_THROWS_WITH_AS(model.step(Tensor::from_vector({1}, {1}), one_state), doctest::Contains("use start_decoding"),
                       ta::Error);

  ta::TransformerLM encoder(bidirectional_cfg, softmax_mixers(bidirectional_cfg, 2, 1));
  CHECK_THROWS_WITH_AS(encoder.start_decoding(1), doctest::Contains("incremental decoding needs a causal model"),
                       ta::Error);
  CHECK_THROWS_WITH_AS(encoder.blocks[0]->mixer->start_decoding(1), doctest::Contains("causal"), ta::Error);
  // step() itself refuses too, even given states made by a causal model of the same depth.
  auto causal_states = model.start_decoding(1);
  CHECK_THROWS_WITH_AS(encoder.step(Tensor::from_vector({1}, {1}), causal_states), doctest::Contains("causal"),
                       ta::Error);
  CHECK_THROWS_WITH_AS(encoder.blocks[0]->mixer->step(Tensor::zeros({1, 1, 16}), *causal_states.layers[0]),
                       doctest::Contains("causal"), ta::Error);
}
