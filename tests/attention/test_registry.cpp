// tests/attention/test_registry.cpp — the registry and the variants' own options:
// registration (order, duplicates, malformed entries), the built-in variants kept
// in programs that link the static library, options checked by name, type and
// range, and the errors a user meets.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "attention/multi_head.h"
#include "attention/registry.h"
#include "attention/softmax.h"
#include "core/error.h"
#include "tests/testing.h"

using namespace ta;
using ta::testing::error_message;

namespace {

AttentionVariant toy(const std::string& name) {
  return {.name = name,
          .description = "softmax under another name",
          .options = {integer_option("toy-width", 4, "a width", 1, 16, OptionRole::Size),
                      boolean_option("toy-flag", false, "a switch"),
                      choice_option("toy-kind", "a", {"a", "b"}, "a kind"),
                      number_option("toy-rate", 0.5, "a rate", 0.0, 1.0)},
          .build = [](const AttentionConfig& c, const VariantOptions&, Generator& g) -> std::shared_ptr<TokenMixer> {
            return multi_head_attention(c, std::make_shared<SoftmaxReferenceCore>(attention_scale(c)), g);
          }};
}

}  // namespace

TEST_CASE("registry: every variant registered in attention/ is one the library keeps in every program") {
  // builtin_attention_variants() is what makes a program that links libtinyattn.a
  // normally (the examples) pull in each variant's file; a registration in attention/
  // missing from it would be in the test binary (linked whole) and silently absent
  // from the programs.
  const std::vector<std::string> builtin = builtin_attention_variants();
  for (const AttentionVariant& v : attention_variants()) {
    CAPTURE(v.name);
    CAPTURE(v.registered_at);
    if (v.registered_at.rfind("attention/", 0) == 0) CHECK(std::count(builtin.begin(), builtin.end(), v.name) == 1);
  }
  for (const std::string& name : builtin) CHECK_NOTHROW(find_attention_variant(name));
  REQUIRE(!attention_variants().empty());
  CHECK(attention_variants().front().name == "softmax");  // the library's own order, exact attention first
}

TEST_CASE("registry: a duplicate or malformed registration is reported by the first use, naming the places") {
  AttentionRegistry r;
  r.add(toy("zeta"), "mine.cpp:10");
  r.add(toy("alpha"), "mine.cpp:20");
  REQUIRE(r.variants().size() == 2);
  CHECK(r.variants()[0].name == "alpha");  // not built in: by name
  CHECK(r.variants()[0].registered_at == "mine.cpp:20");
  CHECK(error_message([&] { r.find("beta"); }) == "attention: unknown variant 'beta' (registered: alpha, zeta)");

  r.add(toy("alpha"), "theirs.cpp:5");
  AttentionVariant nameless = toy("");
  r.add(nameless, "theirs.cpp:6");
  AttentionVariant no_build = toy("gamma");
  no_build.build = nullptr;
  r.add(no_build, "theirs.cpp:7");
  const std::string e = error_message([&] { r.variants(); });
  CHECK(e.find("'alpha' is registered twice: at mine.cpp:20 and at theirs.cpp:5") != std::string::npos);
  CHECK(e.find("theirs.cpp:6: a variant without a name") != std::string::npos);
  CHECK(e.find("theirs.cpp:7: 'gamma' has no build function") != std::string::npos);
}

TEST_CASE("registry: variants that share an option must declare it alike") {
  AttentionRegistry r;
  r.add(toy("one"), "a.cpp:1");
  r.add(toy("two"), "a.cpp:2");
  const std::vector<SharedOption> shared = r.options();
  REQUIRE(shared.size() == 4);
  CHECK(shared[0].spec.name == "toy-width");
  CHECK(shared[0].variants == std::vector<std::string>{"one", "two"});
  AttentionVariant other = toy("three");
  other.options[0] = integer_option("toy-width", 8, "a width", 1, 16);
  r.add(other, "a.cpp:3");
  CHECK(error_message([&] { r.options(); }).find("option toy-width means different things in 'one' (default 4") !=
        std::string::npos);
}

TEST_CASE("variant options: defaults, given values by name, typed reads, and the errors") {
  const AttentionVariant v = toy("toy");
  const VariantOptions defaults(v.name, v.options, {});
  CHECK(defaults.integer("toy-width") == 4);
  CHECK(defaults.boolean("toy-flag") == false);
  CHECK(defaults.choice("toy-kind") == "a");
  CHECK(defaults.number("toy-rate") == 0.5);
  const VariantOptions given(v.name, v.options, {{"toy-width", "16"}, {"toy-flag", "true"}, {"toy-kind", "b"}});
  CHECK(given.integer("toy-width") == 16);
  CHECK(given.boolean("toy-flag"));
  CHECK(given.values().at("toy-rate") == "0.5");  // every option, for a checkpoint

  auto error_for = [&](const std::string& name, const std::string& value) {
    return error_message([&] { VariantOptions(v.name, v.options, {{name, value}}); });
  };
  CHECK(error_for("toy-width", "17") == "attention 'toy': option toy-width must be a whole number in 1..16, got '17'");
  CHECK(error_for("toy-width", "4.5") == "attention 'toy': option toy-width must be a whole number in 1..16, got '4.5'");
  CHECK(error_for("toy-flag", "yes") == "attention 'toy': option toy-flag must be true or false, got 'yes'");
  CHECK(error_for("toy-kind", "c") == "attention 'toy': option toy-kind must be one of: a, b, got 'c'");
  CHECK(error_for("toy-rate", "2") == "attention 'toy': option toy-rate must be a number in 0..1, got '2'");
  CHECK(error_for("toy-depth", "2") ==
        "attention 'toy' has no option toy-depth (its options: toy-width, toy-flag, toy-kind, toy-rate)");
  CHECK(error_message([&] { defaults.integer("toy-flag"); }) ==
        "attention 'toy': option toy-flag is declared boolean but read as integer");
}

TEST_CASE("make_attention: the errors a user meets name the variant and what it takes") {
  Generator g(1);
  AttentionConfig c;
  c.name = "softmax";
  c.options = {{"performer-features", "64"}};
  CHECK(error_message([&] { make_attention(c, g); }) ==
        "attention 'softmax' has no option performer-features (its options: none)");
  c.name = "performer";
  c.options = {{"performer-features", "many"}};
  CHECK(error_message([&] { make_attention(c, g); }).find("performer-features must be a whole number in 1..65536, "
                                                          "got 'many'") != std::string::npos);
  c.name = "nystrom";
  c.options = {};
  CHECK(error_message([&] { make_attention(c, g); }) == "attention 'nystrom' has no causal mode");
  c.name = "flash";
  c.train_length = 512;
  CHECK(error_message([&] { make_attention(c, g); }).find("length-aware scale (train_length 512)") != std::string::npos);
  c.name = "softmax";
  c.train_length = 1;
  CHECK(error_message([&] { make_attention(c, g); }).find("train_length must be 0 (plain scale) or at least 2") !=
        std::string::npos);
}
