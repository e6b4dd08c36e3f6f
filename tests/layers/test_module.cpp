// tests/layers/test_module.cpp — the Module basics (dotted names, parameter counts,
// train/eval, zero_grad, the state dict and its all-or-nothing load, names that may
// not be registered) and the initializations (xavier, normal, fills, the TransformerLM's
// 1/sqrt(2N) scaling of residual outputs).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attention/multi_head.h"
#include "core/error.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/norm.h"
#include "layers/transformer.h"
#include "tests/layers/layer_testing.h"

using ta::Shape;
using ta::Tensor;
using namespace ta::testing;

namespace {

std::map<std::string, std::vector<float>> snapshot(const ta::Module& m) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, t] : m.state_dict()) out[name] = t.to_vector();
  return out;
}

// Calls f on m and every module below it.
void for_each_module(const ta::Module& m, const std::function<void(const ta::Module&)>& f) {
  f(m);
  for (const auto& [name, child] : m.children()) for_each_module(*child, f);
}

double mean_of(const std::vector<float>& v) {
  double s = 0.0;
  for (float x : v) s += x;
  return s / static_cast<double>(v.size());
}

double std_of(const std::vector<float>& v) {
  const double m = mean_of(v);
  double s = 0.0;
  for (float x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size()));
}

}  // namespace

// ---- Module basics --------------------------------------------------------------------

TEST_CASE("module: dotted names in registration order, depth first") {
  ta::TransformerConfig cfg = tiny_config();
  ta::TransformerLM model(cfg, softmax_mixers(8, 2, true, 1, 0.02f));
  std::vector<std::string> expected = {"tokens.weight", "positions.weight"};
  for (int b = 0; b < 2; ++b) {
    const std::string p = "blocks." + std::to_string(b) + ".";
    for (const char* n : {"norm1.weight", "norm1.bias", "mixer.qkv.weight", "mixer.qkv.bias", "mixer.out.weight",
                          "mixer.out.bias", "norm2.weight", "norm2.bias", "ffn.up.weight", "ffn.up.bias",
                          "ffn.down.weight", "ffn.down.bias"})
      expected.push_back(p + n);
  }
  for (const char* n : {"final_norm.weight", "final_norm.bias", "head.weight"}) expected.push_back(n);
  std::vector<std::string> names;
  for (const auto& [name, t] : model.named_parameters()) names.push_back(name);
  CHECK(names == expected);
  // The names reach the same tensors as the members.
  auto params = model.named_parameters();
  CHECK(params[4].first == "blocks.0.mixer.qkv.weight");
  CHECK(params[4].second.impl() == std::dynamic_pointer_cast<ta::MultiHeadAttention>(model.blocks[0]->mixer)
                                       ->qkv->weight.impl());
  CHECK(model.state_dict().size() == expected.size());  // no buffers in this model
  CHECK(model.named_buffers().empty());
}

TEST_CASE("module: parameter_count adds up every tensor") {
  ta::TransformerConfig cfg = tiny_config();  // V 11, d 8, d_ff 16, max_len 16, 2 layers
  ta::TransformerLM model(cfg, softmax_mixers(8, 2, true, 1, 0.02f));
  const int64_t per_block = 2 * 8          // norm1
                            + 8 * 24 + 24  // qkv
                            + 8 * 8 + 8    // out
                            + 2 * 8        // norm2
                            + 8 * 16 + 16  // ffn.up
                            + 16 * 8 + 8;  // ffn.down
  CHECK(per_block == 600);
  CHECK(model.parameter_count() == 11 * 8 + 16 * 8 + 2 * per_block + 2 * 8 + 11 * 8);
  cfg.tie_embeddings = true;
  ta::TransformerLM tied(cfg, softmax_mixers(8, 2, true, 1, 0.02f));
  CHECK(tied.head == nullptr);
  CHECK(tied.parameter_count() == model.parameter_count() - 11 * 8);
}

TEST_CASE("module: train() and eval() reach every descendant") {
  ta::TransformerConfig cfg = tiny_config();
  cfg.dropout = 0.5f;
  ta::TransformerLM model(cfg, softmax_mixers(8, 2, true, 1, 0.02f));
  int count = 0;
  for_each_module(model, [&](const ta::Module& m) {
    CHECK(m.training());
    ++count;
  });
  CHECK(count > 20);
  model.eval();
  for_each_module(model, [&](const ta::Module& m) { CHECK_FALSE(m.training()); });
  // In eval mode dropout is off: two forwards agree.
  Tensor ids = Tensor::from_vector({1, 2, 3}, {1, 3});
  CHECK(max_abs_diff(model.forward(ids), model.forward(ids)) == 0.0f);
  model.train();
  for_each_module(model, [&](const ta::Module& m) { CHECK(m.training()); });
  CHECK(max_abs_diff(model.forward(ids), model.forward(ids)) > 0.0f);
}

TEST_CASE("module: zero_grad clears the gradient of every parameter") {
  ta::TransformerLM model(tiny_config(), softmax_mixers(8, 2, true, 1, 0.02f));
  Tensor ids = Tensor::from_vector({1, 2, 3, 4}, {1, 4});
  ta::backward(ta::cross_entropy(model.forward(ids), Tensor::from_vector({2, 3, 4, 5}, {1, 4})));
  for (const auto& [key, p] : model.named_parameters()) {
    const std::string name = key;  // clang 14: doctest's messages cannot name a binding
    CHECK_MESSAGE(p.grad().defined(), name);
  }
  model.zero_grad();
  for (const auto& [key, p] : model.named_parameters()) {
    const std::string name = key;
    CHECK_MESSAGE(!p.grad().defined(), name);
  }
}

TEST_CASE("module: state_dict and load_state_dict round trip, copying the values") {
  ta::TransformerConfig a_cfg = tiny_config(), b_cfg = tiny_config();
  b_cfg.seed = 99;
  ta::TransformerLM a(a_cfg, softmax_mixers(8, 2, true, 1, 0.02f));
  ta::TransformerLM b(b_cfg, softmax_mixers(8, 2, true, 2, 0.02f));
  Tensor ids = Tensor::from_vector({1, 2, 3, 4}, {1, 4});
  REQUIRE(max_abs_diff(a.forward(ids), b.forward(ids)) > 0.0f);
  b.load_state_dict(a.state_dict());
  CHECK(snapshot(a) == snapshot(b));
  CHECK(max_abs_diff(a.forward(ids), b.forward(ids)) == 0.0f);
  // Loading copies: changing a afterwards leaves b alone, and b's parameters stay leaves.
  ta::init::fill_(a.tokens->weight, 1.0f);
  CHECK(b.tokens->weight.to_vector() != a.tokens->weight.to_vector());
  for (const auto& [key, p] : b.named_parameters()) {
    const std::string name = key;  // clang 14: doctest's messages cannot name a binding
    CHECK_MESSAGE(p.requires_grad(), name);
  }
  // state_dict shares the tensors themselves.
  CHECK(a.state_dict().at("tokens.weight").impl() == a.tokens->weight.impl());
}

TEST_CASE("module: load_state_dict is all or nothing; the error lists every problem") {
  ta::TransformerLM source(tiny_config(), softmax_mixers(8, 2, true, 1, 0.02f));
  ta::TransformerConfig cfg = tiny_config();
  cfg.seed = 5;
  ta::TransformerLM target(cfg, softmax_mixers(8, 2, true, 2, 0.02f));
  const auto before = snapshot(target);

  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : source.state_dict()) state[name] = t.clone();
  SUBCASE("one wrong shape") {
    state["blocks.1.ffn.up.weight"] = Tensor::zeros({8, 16});
    CHECK_THROWS_WITH_AS(target.load_state_dict(state),
                         doctest::Contains("shape mismatch: blocks.1.ffn.up.weight is [16, 8] in the model, [8, 16] given"),
                         ta::Error);
  }
  SUBCASE("missing, unexpected and mismatched together") {
    state.erase("head.weight");
    state["blocks.0.extra"] = Tensor::zeros({2});
    state["tokens.weight"] = Tensor::zeros({3});
    try {
      target.load_state_dict(state);
      FAIL("load_state_dict accepted a bad state");
    } catch (const ta::Error& e) {
      const std::string msg = e.what();
      CHECK(msg.find("nothing was loaded") != std::string::npos);
      CHECK(msg.find("missing: head.weight") != std::string::npos);
      CHECK(msg.find("unexpected: blocks.0.extra") != std::string::npos);
      CHECK(msg.find("shape mismatch: tokens.weight") != std::string::npos);
    }
  }
  CHECK(snapshot(target) == before);
}

namespace {
struct TwoSameNames : ta::Module {
  explicit TwoSameNames(int which) {
    register_parameter("w", Tensor::zeros({2}));
    if (which == 0) register_parameter("w", Tensor::zeros({2}));
    if (which == 1) register_buffer("w", Tensor::zeros({2}));
    if (which == 2) register_module("w", std::make_shared<ta::LayerNorm>(2));
    if (which == 3) register_parameter("a.b", Tensor::zeros({2}));
    if (which == 4) register_parameter("", Tensor::zeros({2}));
  }
};
}  // namespace

TEST_CASE("module: a name registered twice, or a name with a dot, is an error") {
  for (int which : {0, 1, 2})
    CHECK_THROWS_WITH_AS(TwoSameNames{which}, doctest::Contains("the name 'w' is already registered"), ta::Error);
  CHECK_THROWS_WITH_AS(TwoSameNames{3}, doctest::Contains("invalid name 'a.b'"), ta::Error);
  CHECK_THROWS_AS(TwoSameNames{4}, ta::Error);
  CHECK_NOTHROW(TwoSameNames{5});
}

// ---- init ------------------------------------------------------------------------------

TEST_CASE("init: xavier bounds and variance, normal std, fills and scaling") {
  ta::Generator gen(30);
  Tensor w = Tensor::zeros({64, 192});  // [fan_out, fan_in]
  for (float gain : {1.0f, 2.0f}) {
    CAPTURE(gain);
    ta::init::xavier_uniform_(w, gen, gain);
    std::vector<float> v = w.to_vector();
    const double a = gain * std::sqrt(6.0 / (64 + 192));
    double max_abs = 0;
    for (float x : v) max_abs = std::max(max_abs, static_cast<double>(std::fabs(x)));
    CHECK(max_abs <= a);
    CHECK(max_abs > 0.99 * a);
    // U(-a, a) has variance a^2 / 3 = gain^2 * 2 / (fan_in + fan_out).
    CHECK(std_of(v) * std_of(v) == doctest::Approx(gain * gain * 2.0 / 256).epsilon(0.05));
    CHECK(std::fabs(mean_of(v)) < 0.01 * a);
  }
  CHECK_THROWS_AS(ta::init::xavier_uniform_(Tensor::zeros({3}), gen), ta::Error);

  ta::init::normal_(w, 0.02f, gen);
  CHECK(std_of(w.to_vector()) == doctest::Approx(0.02).epsilon(0.03));
  CHECK(std::fabs(mean_of(w.to_vector())) < 0.001);

  Tensor t = Tensor::from_vector({1, -2, 3}, {3});
  Tensor alias = t.detach();  // in place: every handle sees the change
  ta::init::scale_(t, 0.5f);
  CHECK(alias.to_vector() == std::vector<float>{0.5f, -1.0f, 1.5f});
  ta::init::fill_(t, 7.0f);
  CHECK(alias.to_vector() == std::vector<float>{7, 7, 7});
  ta::init::zeros_(t);
  CHECK(alias.to_vector() == std::vector<float>{0, 0, 0});
  ta::init::ones_(t);
  CHECK(alias.to_vector() == std::vector<float>{1, 1, 1});
}

TEST_CASE("init: TransformerLM scales each mixer's output and each ffn.down weight by 1/sqrt(2N)") {
  for (int64_t n_layers : {2, 3}) {
    CAPTURE(n_layers);
    ta::TransformerConfig cfg = tiny_config();
    cfg.n_layers = n_layers;
    cfg.d_model = 32;
    cfg.d_ff = 64;
    const uint64_t mixer_seed = 40;
    ta::TransformerLM model(cfg, softmax_mixers(32, 4, true, mixer_seed, cfg.init_std));

    // The same model without the scaling, built draw for draw like the constructor.
    ta::Generator gen(cfg.seed);
    ta::Embedding tokens(cfg.vocab_size, cfg.d_model, gen, cfg.init_std);
    ta::LearnedPositions positions(cfg.max_len, cfg.d_model, gen, cfg.init_std);
    auto mixers = softmax_mixers(32, 4, true, mixer_seed, cfg.init_std);
    const float scale = 1.0f / std::sqrt(2.0f * n_layers);
    for (int64_t i = 0; i < n_layers; ++i) {
      CAPTURE(i);
      ta::TransformerBlock ref(cfg, mixers(i), gen);
      auto& blk = *model.blocks[i];
      auto* mha = dynamic_cast<ta::MultiHeadAttention*>(blk.mixer.get());
      auto* ref_mha = dynamic_cast<ta::MultiHeadAttention*>(ref.mixer.get());
      REQUIRE(mha != nullptr);
      REQUIRE(ref_mha != nullptr);
      // Unscaled weights are equal, so the two were drawn alike...
      CHECK(max_abs_diff(mha->qkv->weight, ref_mha->qkv->weight) == 0.0f);
      CHECK(max_abs_diff(blk.ffn->up->weight, ref.ffn->up->weight) == 0.0f);
      // ...and the residual outputs are the same draws times 1/sqrt(2N).
      for (auto [got, unscaled] : {std::pair{mha->out->weight, ref_mha->out->weight},
                                   std::pair{blk.ffn->down->weight, ref.ffn->down->weight}}) {
        CHECK(max_abs_diff(got, ta::mul(unscaled, scale)) < 1e-8f);
        CHECK(std_of(got.to_vector()) / std_of(unscaled.to_vector()) == doctest::Approx(scale).epsilon(1e-4));
        CHECK(std_of(unscaled.to_vector()) == doctest::Approx(cfg.init_std).epsilon(0.1));
      }
    }
  }
}
