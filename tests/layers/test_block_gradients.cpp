// tests/layers/test_block_gradients.cpp — gradient checks of the layers that make up a
// Transformer: positions (rotary, relative bias, learned), multi-head attention causal
// or not with rotary dims and padding, the Transformer block for each norm, plain and
// gated, and a whole TransformerLM's cross-entropy against every parameter.
//
// Not here: positions by value (test_position.cpp), training, checkpointing, decoding
// and padding masks of whole models (test_transformer.cpp).
#include <doctest/doctest.h>

#include <vector>

#include "attention/multi_head.h"
#include "attention/registry.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "layers/init.h"
#include "layers/norm.h"
#include "layers/position.h"
#include "layers/transformer.h"
#include "tests/layers/layer_testing.h"

using ta::Shape;
using ta::Tensor;
using namespace ta::testing;

// ---- positions -------------------------------------------------------------------------

TEST_CASE("positions: gradcheck of RotaryEmbedding.apply, RelativePositionBias.forward, LearnedPositions") {
  SUBCASE("rotary, all dims and part of them, with an offset") {
    for (int64_t r : {8, 4}) {
      CAPTURE(r);
      ta::RotaryEmbedding rope(8, r);
      Tensor x = randn({2, 2, 5, 8}, 19).set_requires_grad();
      check_input_grads([&](const Inputs& in) { return rope.apply(in[0], 3); }, {x});
    }
  }
  SUBCASE("relative position bias, both directions, with a query offset") {
    for (ta::Causality causality : {ta::Causality::Bidirectional, ta::Causality::Causal}) {
      CAPTURE(causality == ta::Causality::Bidirectional);
      ta::Generator gen(20);
      ta::RelativePositionBias rpb(3, causality, gen, 8, 20);
      ta::init::normal_(rpb.weight, 1.0f, gen);
      check_param_grads(rpb, [&] { return rpb.forward(4, 30, 2); }, {.samples = 24});
    }
  }
  SUBCASE("learned positions") {
    ta::Generator gen(21);
    ta::LearnedPositions pos(10, 4, gen, 0.5f);
    // Only rows 3..8 are used: the others must get a zero gradient.
    check_param_grads(pos, [&] { return pos.forward(6, 3); }, {.samples = 40});
    ta::backward(ta::sum(pos.forward(6, 3)));
    std::vector<float> g = pos.weight.grad().to_vector();
    for (int64_t row = 0; row < 10; ++row) CHECK(g[row * 4] == (row >= 3 && row < 9 ? 1.0f : 0.0f));
  }
}

// ---- attention and blocks ------------------------------------------------------------------

TEST_CASE("multi-head attention: gradcheck of input and parameters, causal or not, with rotary dims") {
  struct Case {
    bool causal;
    int64_t rotary_dims;
    bool padding;
  };
  for (Case c : {Case{true, 0, false}, Case{false, 0, false}, Case{true, 4, false}, Case{false, 2, false},
                 Case{false, 0, true}}) {
    CAPTURE(c.causal);
    CAPTURE(c.rotary_dims);
    CAPTURE(c.padding);
    ta::Generator gen(22);
    auto mha = ta::make_attention(
        {.name = "softmax", .d_model = 8, .heads = 2, .causal = c.causal, .rotary_dims = c.rotary_dims, .init_std = 0.4f},
        gen);
    CHECK(mha->causal() == c.causal);
    Tensor x = randn({2, 4, 8}, 23).set_requires_grad();
    Tensor mask = c.padding ? Tensor::from_vector({0, 0, 1, 1, 0, 0, 0, 1}, {2, 4}) : Tensor();
    check_input_grads([&](const Inputs& in) { return mha->forward(in[0], mask); }, {x});
    check_param_grads(*mha, [&] { return mha->forward(x.detach(), mask); });
  }
}

TEST_CASE("transformer block: gradcheck of input and parameters for each norm, plain and gated, mixer only") {
  struct Case {
    ta::NormKind norm;
    bool gated, feed_forward;
  };
  for (Case c : {Case{ta::NormKind::LayerNorm, false, true}, Case{ta::NormKind::RMSNorm, true, true},
                 Case{ta::NormKind::ScaleNorm, false, true}, Case{ta::NormKind::LayerNorm, false, false}}) {
    CAPTURE(static_cast<int>(c.norm));
    CAPTURE(c.gated);
    CAPTURE(c.feed_forward);
    ta::TransformerConfig cfg = tiny_config();
    cfg.norm = c.norm;
    cfg.gated_ffn = c.gated;
    cfg.feed_forward = c.feed_forward;
    cfg.init_std = 0.4f;
    ta::Generator gen(24);
    ta::TransformerBlock block(cfg, softmax_mixers(8, 2, true, 25, 0.4f)(0), gen);
    CHECK((block.ffn != nullptr) == c.feed_forward);
    Tensor x = randn({2, 4, 8}, 26).set_requires_grad();
    check_input_grads([&](const Inputs& in) { return block.forward(in[0]); }, {x});
    check_param_grads(block, [&] { return block.forward(x.detach()); }, {.samples = 3});
  }
}

TEST_CASE("transformer LM: cross-entropy of the logits, every parameter against finite differences") {
  ta::TransformerConfig cfg = tiny_config();
  cfg.init_std = 0.4f;
  SUBCASE("learned positions, LayerNorm, separate head") {}
  SUBCASE("tied embeddings, sinusoidal positions, RMSNorm, SwiGLU") {
    cfg.tie_embeddings = true;
    cfg.positions = ta::Positions::Sinusoidal;
    cfg.norm = ta::NormKind::RMSNorm;
    cfg.gated_ffn = true;
    cfg.activation = ta::Activation::Silu;
  }
  SUBCASE("gradient checkpointing, rotary positions") {
    cfg.checkpoint = true;
    cfg.positions = ta::Positions::None;
  }
  SUBCASE("bidirectional") { cfg.causal = false; }
  const int64_t rotary = cfg.positions == ta::Positions::None ? 4 : 0;
  ta::TransformerLM model(cfg, softmax_mixers(cfg.d_model, 2, cfg.causal, 27, cfg.init_std, rotary));
  Tensor ids = Tensor::from_vector({1, 5, 2, 9, 0, 3, 3, 10, 7, 4}, {2, 5});
  Tensor targets = Tensor::from_vector({5, 2, 9, 0, 6, 3, 10, 7, 4, 8}, {2, 5});
  check_param_grads(model, [&] { return ta::cross_entropy(model.forward(ids), targets); }, {.samples = 3});
}
