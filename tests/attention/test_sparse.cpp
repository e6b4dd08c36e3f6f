// tests/attention/test_sparse.cpp — the method-specific tests of Sparse Transformer
// attention (attention/sparse_layout.h, attention/sparse.h):
//   - the patterns against index sets listed by hand for n = 10, l = 3, c = 1, and
//     the block layouts against the patterns, pair by pair, for several block sizes;
//   - connectivity: every position reaches every earlier one within two hops;
//   - the block-sparse core equals the masked dense reference, forward and
//     gradients, for strided and fixed, causal and not, odd n, several block sizes,
//     heads split between the factors, padding, and queries that continue a cache;
//   - a layout covering every allowed pair equals dense attention;
//   - the layout's work grows as n sqrt n, and the reordered parts waste little;
//   - decoding and causality through whole mixers with a small stride; the three ways
//     to combine the factors; a checkpointed 4-layer model with the same gradients;
//   - user layouts (window, global tokens, random blocks), errors.
// The picture of a layout: tests/viz/test_sparse_layout_png.cpp.
// The conformance suite (test_conformance.cpp) checks the registered variants too.
#include <doctest/doctest.h>

#include "tests/attention/core_testing.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "attention/multi_head.h"
#include "attention/registry.h"
#include "attention/sparse.h"
#include "attention/sparse_layout.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "layers/transformer.h"

using namespace ta;
using namespace ta::testing;

namespace {

using Sets = std::vector<std::set<int64_t>>;

// The keys each query of a pattern may see, over n positions.
Sets pattern_sets(const SparsePattern& p, int64_t n) {
  Sets s(n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (p.allowed(i, j, n)) s[i].insert(j);
  return s;
}

// The pairs a layout lets each query row see, read back from its blocks; a pair
// listed twice (by two parts) fails the test: it would count twice in the softmax.
Sets layout_sets(const BlockSparseLayout& layout, int64_t pattern) {
  Sets s(layout.n_q);
  const int64_t b = layout.block;
  for (const auto& part : layout.patterns[pattern].parts) {
    const int64_t n_rows = static_cast<int64_t>(part.queries.size()), n_cols = static_cast<int64_t>(part.keys.size());
    for (int64_t I = 0; I + 1 < static_cast<int64_t>(part.row_begin.size()); ++I)
      for (int64_t a = part.row_begin[I]; a < part.row_begin[I + 1]; ++a) {
        const int64_t J = part.col[a];
        for (int64_t r = 0; r < std::min(b, n_rows - I * b); ++r)
          for (int64_t c = 0; c < std::min(b, n_cols - J * b); ++c)
            if (part.mask[a] < 0 || ((part.masks[part.mask[a] * b + r] >> c) & 1u)) {
              const bool fresh = s[part.queries[I * b + r]].insert(part.keys[J * b + c]).second;
              CHECK_MESSAGE(fresh, "pair listed twice");
            }
      }
  }
  return s;
}

SparseCoreOptions core_options(std::vector<SparsePattern> patterns, bool causal, float scale) {
  return {std::move(patterns), causal, AttentionScale{scale}, "sparse-test"};
}

AttentionConfig sparse_config(const std::string& name, bool causal, int64_t stride, int64_t block) {
  AttentionConfig c{.name = name, .d_model = 16, .heads = 2, .causal = causal, .init_std = 0.3f};
  c.options["sparse-block"] = std::to_string(block);
  if (name != "sparse") c.options["sparse-stride"] = std::to_string(stride);
  if (name == "sparse-fixed") c.options["sparse-summary"] = "1";
  return c;
}

}  // namespace

TEST_CASE("sparse patterns: strided and fixed, n 10, l 3, c 1, against sets listed by hand") {
  const int64_t n = 10;
  const Sets strided_causal = {{0},          {0, 1},          {0, 1, 2},       {0, 1, 2, 3},
                               {1, 2, 3, 4}, {2, 3, 4, 5},    {0, 3, 4, 5, 6}, {1, 4, 5, 6, 7},
                               {2, 5, 6, 7, 8}, {0, 3, 6, 7, 8, 9}};
  const Sets fixed_causal = {{0},          {0, 1},          {0, 1, 2},       {2, 3},
                             {2, 3, 4},    {2, 3, 4, 5},    {2, 5, 6},       {2, 5, 6, 7},
                             {2, 5, 6, 7, 8}, {2, 5, 8, 9}};
  CHECK(pattern_sets(strided_pattern(3, Causality::Causal), n) == strided_causal);
  CHECK(pattern_sets(fixed_pattern(3, 1, Causality::Causal), n) == fixed_causal);
  // Each factor alone: strided A1 is the band, A2 the multiples of l back.
  CHECK(pattern_sets({{strided_a1(3, Causality::Causal)}}, n)[9] == std::set<int64_t>{7, 8, 9});
  CHECK(pattern_sets({{strided_a2(3, Causality::Causal)}}, n)[9] == std::set<int64_t>{0, 3, 6, 9});
  CHECK(pattern_sets({{fixed_a1(3, Causality::Causal)}}, n)[8] == std::set<int64_t>{6, 7, 8});
  CHECK(pattern_sets({{fixed_a2(3, 1, Causality::Causal)}}, n)[8] == std::set<int64_t>{2, 5, 8});

  // Bidirectional: symmetric, and a summary position of fixed reads everything.
  const Sets strided_bi = pattern_sets(strided_pattern(3, Causality::Bidirectional), n);
  const Sets fixed_bi = pattern_sets(fixed_pattern(3, 1, Causality::Bidirectional), n);
  CHECK(strided_bi[0] == std::set<int64_t>{0, 1, 2, 3, 6, 9});
  CHECK(strided_bi[4] == std::set<int64_t>{1, 2, 3, 4, 5, 6, 7});
  CHECK(fixed_bi[0] == std::set<int64_t>{0, 1, 2, 5, 8});
  CHECK(fixed_bi[5] == std::set<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(fixed_bi[9] == std::set<int64_t>{2, 5, 8, 9});
  for (const Sets* s : {&strided_bi, &fixed_bi})
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j : (*s)[i]) CHECK((*s)[j].count(i) == 1);
}

TEST_CASE("sparse layouts list exactly the pattern's pairs, once each, for any block size") {
  for (bool causal : {true, false})
    for (int64_t b : {1, 2, 3, 4, 8, 64}) {
      const Causality mode = causality_if(causal);
      const std::vector<SparsePattern> patterns = {strided_pattern(3, mode), fixed_pattern(3, 1, mode),
                                                   strided_pattern(4, mode), fixed_pattern(5, 2, mode),
                                                   {{strided_a2(4, mode)}},  {{fixed_a2(4, 3, mode)}}};
      for (int64_t n : {1, 10, 23}) {
        auto layout = build_block_layout(patterns, n, n, b);
        for (size_t p = 0; p < patterns.size(); ++p) {
          CAPTURE(causal);
          CAPTURE(b);
          CAPTURE(n);
          CAPTURE(patterns[p].name());
          CHECK(layout_sets(*layout, static_cast<int64_t>(p)) == pattern_sets(patterns[p], n));
        }
      }
    }
  // Queries that continue a cache: the last 4 of 23 positions.
  auto tail = build_block_layout({strided_pattern(3, Causality::Causal)}, 4, 23, 2);
  const Sets full = pattern_sets(strided_pattern(3, Causality::Causal), 23), rows = layout_sets(*tail, 0);
  for (int64_t r = 0; r < 4; ++r) CHECK(rows[r] == full[19 + r]);
}

TEST_CASE("sparse patterns: every position reaches every earlier one within two hops") {
  const int64_t n = 150;
  for (const SparsePattern& p : {strided_pattern(8, Causality::Causal), fixed_pattern(8, 2, Causality::Causal),
                                 strided_pattern(12, Causality::Causal), fixed_pattern(16, 1, Causality::Causal)}) {
    CAPTURE(p.name());
    const Sets s = pattern_sets(p, n);
    // One factor after the other, as alternating layers route it: i reads k through
    // one factor, k read j through the other.
    const Sets a1 = pattern_sets({{p.factors[0]}}, n), a2 = pattern_sets({{p.factors[1]}}, n);
    int64_t missing = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j <= i; ++j) {
        bool reached = s[i].count(j) > 0;
        for (int64_t k : a2[i])
          if (!reached && a1[k].count(j)) reached = true;
        for (int64_t k : a1[i])
          if (!reached && a2[k].count(j)) reached = true;
        missing += !reached;
      }
    CHECK(missing == 0);
  }
  // Either factor alone does not connect everything: the union is what matters.
  const Sets band = pattern_sets({{strided_a1(8, Causality::Causal)}}, n);
  int64_t unreached = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      bool reached = band[i].count(j) > 0;
      for (int64_t k : band[i]) reached = reached || band[k].count(j) > 0;
      unreached += !reached;
    }
  CHECK(unreached > 0);
}

TEST_CASE("block-sparse core equals the masked dense reference, forward and gradients") {
  struct Case {
    const char* label;
    std::vector<SparsePattern> patterns;
    bool causal;
    int64_t n_q, n_k, block, d;
    bool padded;
  };
  const std::vector<Case> cases = {
      {"strided l 3, b 4", {strided_pattern(3, Causality::Causal)}, true, 37, 37, 4, 8, false},
      {"strided l 3, b 4, bidirectional", {strided_pattern(3, Causality::Bidirectional)}, false, 37, 37, 4, 8, false},
      {"fixed l 5 c 2, b 3", {fixed_pattern(5, 2, Causality::Causal)}, true, 41, 41, 3, 8, false},
      {"fixed l 5 c 2, b 8, bidirectional",
       {fixed_pattern(5, 2, Causality::Bidirectional)},
       false,
       41,
       41,
       8,
       8,
       false},
      {"strided l 8, b 16, padded", {strided_pattern(8, Causality::Causal)}, true, 131, 131, 16, 16, true},
      {"fixed l 16 c 4, b 32, padded", {fixed_pattern(16, 4, Causality::Bidirectional)}, false, 131, 131, 32, 16, true},
      {"strided l 16, b 64, n 257", {strided_pattern(16, Causality::Causal)}, true, 257, 257, 64, 32, false},
      {"fixed l 32 c 8, b 32, n 257", {fixed_pattern(32, 8, Causality::Causal)}, true, 257, 257, 32, 32, false},
      {"strided l 4, split heads", combine_factors(strided_pattern(4, Causality::Causal), SparseCombine::SplitHeads, 0),
       true, 29, 29, 8, 8, false},
      {"fixed l 6 c 2, split heads, bidirectional",
       combine_factors(fixed_pattern(6, 2, Causality::Bidirectional), SparseCombine::SplitHeads, 0), false, 29, 29, 5,
       8, true},
      {"strided l 5, 7 queries after 40 keys", {strided_pattern(5, Causality::Causal)}, true, 7, 47, 4, 8, false},
      {"fixed l 5 c 1, 1 query after 46 keys", {fixed_pattern(5, 1, Causality::Causal)}, true, 1, 47, 8, 8, false},
      {"window 5 + 2 global + random blocks",
       {{{sliding_window(5, Causality::Causal), global_tokens(2, Causality::Causal),
          random_blocks(8, 2, 3, Causality::Causal)}}},
       true,
       53,
       53,
       8,
       8,
       true},
      {"one position", {strided_pattern(4, Causality::Causal)}, true, 1, 1, 32, 8, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    Qkv in = make_qkv(2, 2, c.n_q, c.n_k, c.d, 17 + c.n_q);
    Tensor mask = c.padded ? sample_one_padded(c.n_k, 1, 5) : Tensor();
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.d));
    SparseReferenceCore reference(core_options(c.patterns, c.causal, scale));
    SparseFusedCore fused(core_options(c.patterns, c.causal, scale), c.block);
    const Result r = run(reference, in, c.causal, mask);
    check_matches(run(fused, in, c.causal, mask), r, 1e-5f, 1e-4f);
  }
}

TEST_CASE("a layout covering every allowed pair equals dense softmax attention") {
  for (bool causal : {true, false})
    for (int64_t n : {9, 100}) {
      CAPTURE(causal);
      CAPTURE(n);
      Qkv in = make_qkv(1, 3, n, n, 16, 5 + n);
      // A window of n covers every pair; so does a stride of at least n (A1 alone).
      const Causality mode = causality_if(causal);
      for (const SparsePattern& p :
           {SparsePattern{{sliding_window(n, mode)}}, strided_pattern(n, mode), fixed_pattern(n, 1, mode)}) {
        SparseFusedCore fused(core_options({p}, causal, 0.25f), 16);
        Tensor sparse = fused.forward(in.q, in.k, in.v, mode, Tensor());
        Tensor dense = fused_attention(in.q, in.k, in.v, 0.25f, mode);
        CHECK(relative_error(sparse, dense) < 1e-5f);
      }
    }
}

TEST_CASE("sparse layouts: work grows as n sqrt n, and the reordered factors fill their blocks") {
  // l = sqrt(n): the paper's choice. Allowed pairs per row are about l + i / l, so the
  // total is about 1.5 n^1.5 in both patterns; the kernel's work (computed pairs)
  // must stay within a small factor of it, and grow by about 8x when n grows 4x.
  auto stats = [](const SparsePattern& p, int64_t n) { return layout_stats(*build_block_layout({p}, n, n, 32)); };
  for (int kind = 0; kind < 2; ++kind) {
    CAPTURE(kind);
    auto pattern = [&](int64_t l) {
      return kind == 0 ? strided_pattern(l, Causality::Causal) : fixed_pattern(l, 4, Causality::Causal);
    };
    const LayoutStats small = stats(pattern(32), 1024), large = stats(pattern(64), 4096);
    CHECK(static_cast<double>(large.computed_pairs) / static_cast<double>(large.allowed_pairs) < 2.5);
    const double growth = static_cast<double>(large.computed_pairs) / static_cast<double>(small.computed_pairs);
    CHECK(growth > 6.0);
    CHECK(growth < 10.0);
    CHECK(large.computed_pairs < 4096LL * 4096 / 8);  // an eighth of the causal pairs or less
  }
  // The trap the reordering avoids: strided A2 in natural order touches a block for
  // every b pairs it uses.
  const LayoutStats reordered = stats({{strided_a2(64, Causality::Causal)}}, 4096);
  CHECK(static_cast<double>(reordered.computed_pairs) / static_cast<double>(reordered.allowed_pairs) < 2.5);
}

TEST_CASE("sparse mixers with a small stride: decoding equals the full pass, and no future leak") {
  for (const char* name : {"sparse-strided", "sparse-fixed"})
    for (const std::string how : {"merged", "heads", "layers"}) {
      CAPTURE(name);
      CAPTURE(how);
      AttentionConfig c = sparse_config(name, true, 3, 4);
      c.options["sparse-combine"] = how;
      c.layer = 1;
      Generator gen(4);
      auto mixer = make_attention(c, gen);
      const int64_t n = 23;
      Tensor x = input(2, n, 16, 12);
      Tensor full = mixer->forward(x);
      auto state = mixer->start_decoding(2);
      for (int64_t t = 0; t < n; ++t) {
        std::vector<float> a = mixer->step(narrow(x, 1, t, 1), *state).to_vector();
        std::vector<float> b = narrow(full, 1, t, 1).to_vector();
        for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-4).scale(1e-4));
      }
      for (int64_t j : {5, 13, 22}) {
        std::vector<float> v = x.to_vector();
        for (int64_t k = 0; k < 16; ++k) v[j * 16 + k] += 1.5f;
        Tensor y2 = mixer->forward(Tensor::from_vector(v, x.shape()));
        CHECK(narrow(narrow(y2, 0, 0, 1), 1, 0, j).to_vector() == narrow(narrow(full, 0, 0, 1), 1, 0, j).to_vector());
      }
    }
}

TEST_CASE("sparse: the ways to combine the factors give the patterns they promise") {
  const SparsePattern s = strided_pattern(4, Causality::Causal);
  CHECK(combine_factors(s, SparseCombine::Merged, 3).size() == 1);
  const auto heads = combine_factors(s, SparseCombine::SplitHeads, 0);
  REQUIRE(heads.size() == 2);
  CHECK(heads[0].name() == "strided A1 (l=4)");
  CHECK(heads[1].name() == "strided A2 (l=4)");
  CHECK(combine_factors(s, SparseCombine::AlternateLayers, 0)[0].name() == "strided A1 (l=4)");
  CHECK(combine_factors(s, SparseCombine::AlternateLayers, 5)[0].name() == "strided A2 (l=4)");
  CHECK(parse_sparse_combine("heads") == SparseCombine::SplitHeads);
  CHECK_THROWS_AS(parse_sparse_combine("both"), Error);

  // Split heads: head 0 of the mixer sees A1 only, head 1 A2 only (query weights).
  Generator gen(2);
  AttentionConfig c = sparse_config("sparse-strided", true, 4, 8);
  c.options["sparse-combine"] = "heads";
  auto mixer = std::dynamic_pointer_cast<MultiHeadAttention>(make_attention(c, gen));
  REQUIRE(mixer);
  Generator g(3);
  Tensor q = Tensor::normal(Shape{1, 2, 12, 8}, 0, 1, g), k = Tensor::normal(Shape{1, 2, 12, 8}, 0, 1, g);
  std::vector<float> w = mixer->core->query_weights(q, k, 11, Causality::Causal).to_vector();  // [1, 2, 12]
  for (int64_t j = 0; j < 12; ++j) {
    CAPTURE(j);
    CHECK((w[j] > 0.0f) == (11 - j < 4));             // head 0: the previous 4
    CHECK((w[12 + j] > 0.0f) == ((11 - j) % 4 == 0));  // head 1: every 4th back
  }
}

TEST_CASE("a 4-layer checkpointed sparse model gives the same gradients as a stored one") {
  TransformerConfig cfg{.vocab_size = 32, .d_model = 16, .n_layers = 4, .d_ff = 32, .max_len = 40, .dropout = 0.1f,
                        .seed = 3};
  auto mixers = [](const TransformerConfig& tc) -> MixerFactory {
    auto gen = std::make_shared<Generator>(9);
    return [tc, gen](int64_t layer) {
      AttentionConfig c = sparse_config("sparse-strided", true, 5, 8);
      c.d_model = tc.d_model;
      c.options["sparse-combine"] = "layers";
      c.layer = layer;
      return make_attention(c, *gen);
    };
  };
  TransformerConfig ckpt = cfg;
  ckpt.checkpoint = true;
  TransformerLM stored(cfg, mixers(cfg)), recomputed(ckpt, mixers(ckpt));
  std::vector<float> ids_v, targets_v;
  for (int64_t t = 0; t < 2 * 37; ++t) {
    ids_v.push_back(static_cast<float>((t * 7 + 3) % 32));
    targets_v.push_back(static_cast<float>((t * 5 + 1) % 32));
  }
  Tensor ids = Tensor::from_vector(ids_v, Shape{2, 37}), targets = Tensor::from_vector(targets_v, Shape{2, 37});
  Tensor la = cross_entropy(stored.forward(ids), targets), lb = cross_entropy(recomputed.forward(ids), targets);
  CHECK(lb.item() == doctest::Approx(la.item()).epsilon(1e-6));
  backward(la);
  backward(lb);
  const auto pa = stored.named_parameters(), pb = recomputed.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    CAPTURE(pa[i].first);
    REQUIRE(pa[i].second.grad().defined());
    CHECK(relative_error(pb[i].second.grad(), pa[i].second.grad()) < 1e-5f);
  }
}

TEST_CASE("user layouts: sliding window, global tokens and seeded random blocks") {
  const Sets window = pattern_sets({{sliding_window(2, Causality::Causal)}}, 6);
  CHECK(window[4] == std::set<int64_t>{3, 4});
  const Sets global = pattern_sets({{global_tokens(2, Causality::Bidirectional)}}, 6);
  CHECK(global[0] == std::set<int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(global[4] == std::set<int64_t>{0, 1});
  CHECK(pattern_sets({{global_tokens(2, Causality::Causal)}}, 6)[1] == std::set<int64_t>{0, 1});
  // Random blocks: the same seed gives the same blocks; causal draws do not depend on n.
  const SparsePattern r = {{random_blocks(4, 2, 7, Causality::Causal)}};
  const Sets a = pattern_sets(r, 40), b = pattern_sets(r, 80);
  for (int64_t i = 0; i < 40; ++i) {
    CHECK(a[i] == pattern_sets({{random_blocks(4, 2, 7, Causality::Causal)}}, 40)[i]);
    CHECK(a[i] == b[i]);
    CHECK(!a[i].empty());
    for (int64_t j : a[i]) CHECK(j <= i);
  }
  CHECK(pattern_sets({{random_blocks(4, 2, 8, Causality::Causal)}}, 40) != a);
  // The registry's "sparse" variant builds its layout from its options.
  AttentionConfig c = sparse_config("sparse", true, 4, 8);
  c.options["sparse-window"] = "4";
  c.options["sparse-global"] = "1";
  c.options["sparse-random"] = "1";
  Generator gen(1);
  Tensor y = make_attention(c, gen)->forward(input(1, 30, 16, 2));
  CHECK(y.shape() == Shape({1, 30, 16}));
}

TEST_CASE("sparse attention: the errors a user can make") {
  auto expect = [](auto&& f, const char* needle) {
    try {
      f();
      FAIL("expected an error mentioning " << needle);
    } catch (const Error& e) {
      CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  };
  expect([] { build_block_layout({strided_pattern(4, Causality::Causal)}, 8, 8, 65); }, "1..64");
  expect([] { build_block_layout({strided_pattern(4, Causality::Causal)}, 9, 8, 8); }, "n_q");
  expect([] { fixed_a2(4, 5, Causality::Causal); }, "c must be in 1..l");
  expect([] { strided_a1(0, Causality::Causal); }, "at least 1");
  expect(
      [] {
        Generator g(1);
        AttentionConfig c = sparse_config("sparse-strided", true, 4, 8);
        c.heads = 1;
        c.options["sparse-combine"] = "heads";
        make_attention(c, g);
      },
      "heads");
  Qkv in = make_qkv(1, 1, 6, 6, 4, 1);
  expect(
      [&] {
        SparseFusedCore core(core_options({strided_pattern(2, Causality::Causal)}, true, 1.0f), 4);
        core.forward(in.q, in.k, in.v, Causality::Bidirectional, Tensor());
      },
      "bidirectional");
  expect(
      [&] {
        auto layout = build_block_layout({strided_pattern(2, Causality::Causal)}, 5, 5, 4);
        block_sparse_attention(in.q, in.k, in.v, layout, 1.0f);
      },
      "built for 5 queries");
}
