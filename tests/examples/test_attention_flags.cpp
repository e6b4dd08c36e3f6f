// tests/examples/test_attention_flags.cpp — the attention registry on the example
// programs' command lines (examples/common/attention_flags.h): --help lists what
// the registry holds, option flags reach the chosen variant and only it, runs store
// and restore them, and the examples' README lists the variants the registry has.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "attention/registry.h"
#include "examples/common/attention_flags.h"
#include "examples/common/flags.h"
#include "examples/common/run_config.h"
#include "tests/testing.h"

using namespace ta;
using namespace ta::examples;
using ta::testing::error_message;

namespace {

Flags program(const std::vector<std::string>& args, const std::map<std::string, std::string>& defaults = {}) {
  Flags f("prog", "a test program");
  f.add(integer_flag("steps", 10, 1, 100, "training steps"));
  add_attention_flags(f, "softmax", "the token mixer", defaults);
  std::vector<const char*> argv = {"prog"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  f.parse(static_cast<int>(argv.size()), argv.data());
  return f;
}

}  // namespace

TEST_CASE("attention flags: --help lists every registered variant and every option with the variants taking it") {
  const std::string help = program({}).help();
  for (const AttentionVariant& v : attention_variants()) {
    CAPTURE(v.name);
    CHECK(help.find("  " + v.name + " ") != std::string::npos);
    CHECK(help.find(v.description) != std::string::npos);
  }
  for (const SharedOption& o : attention_options()) {
    CAPTURE(o.spec.name);
    const size_t at = help.find("  --" + o.spec.name + " " + o.spec.default_value);
    REQUIRE(at != std::string::npos);
    const std::string line = help.substr(at, help.find('\n', at) - at);
    for (const std::string& v : o.variants) CHECK(line.find(v) != std::string::npos);
    CHECK(line.find(o.spec.allowed()) != std::string::npos);
  }
}

TEST_CASE("attention flags: the chosen variant gets its options, by flag, and only its own") {
  const Flags f = program({"--attention", "performer", "--performer-features", "64"});
  const std::map<std::string, std::string> options = attention_options_of(f);
  CHECK(options.at("performer-features") == "64");
  CHECK(options.at("performer-orthogonal") == "true");  // a default
  CHECK(options.count("flash-chunk") == 0);
  CHECK(attention_options_of(program({})).empty());  // softmax has none

  CHECK(error_message([] { attention_options_of(program({"--flash-chunk", "64"})); }) ==
        "--flash-chunk is an option of flash, not of --attention softmax (whose options are: none)");
  const std::string unknown = error_message([] { program({"--attention", "no-such"}); });
  CHECK(unknown.find("--attention: expected one of: softmax,") == 0);
  CHECK(unknown.find("got 'no-such'") != std::string::npos);
}

TEST_CASE("attention flags: an option's value is checked by its flag, with the range the variant declared") {
  for (const SharedOption& o : attention_options()) {
    if (o.spec.type != OptionType::Integer || o.spec.min < -1e18) continue;
    const std::string name = o.spec.name;  // clang 14: doctest's messages cannot name a binding
    CAPTURE(name);
    // One below the declared minimum, and a number too large for 64 bits.
    const std::string below = std::to_string(static_cast<int64_t>(o.spec.min) - 1);
    CHECK(error_message([&] { program({"--" + name, below}); }) ==
          "--" + name + ": expected " + o.spec.allowed() + ", got '" + below + "' (see --help)");
    CHECK(error_message([&] { program({"--" + name, "99999999999999999999"}); }).find("--" + name + ": expected") == 0);
  }
}

TEST_CASE("attention flags: a program's own defaults, and the options a run stored") {
  const Flags f = program({"--attention", "sparse-strided"}, {{"sparse-stride", "96"}});
  CHECK(attention_options_of(f).at("sparse-stride") == "96");
  CHECK(f.help().find("--sparse-stride 96") != std::string::npos);
  CHECK(error_message([] { program({}, {{"no-such-option", "1"}}); }) ==
        "attention flags: a default for no-such-option, which no registered variant declares");

  // A checkpoint's metadata: flag.<name> for each option the run's variant has.
  const std::map<std::string, std::string> saved = {
      {"flag.attention", "performer"}, {"flag.performer-features", "32"}, {"flag.steps", "5"}};
  const std::vector<std::string> names = attention_option_flags("performer");
  CHECK(std::find(names.begin(), names.end(), "performer-features") != names.end());
  CHECK(saved_attention_options(saved, "performer") == std::map<std::string, std::string>{{"performer-features", "32"}});
  Flags resumed = program({});
  restore_run_config(resumed, saved, {}, "the checkpoint");
  CHECK(resumed.str("attention") == "performer");
  CHECK(attention_options_of(resumed).at("performer-features") == "32");
  CHECK(resumed.integer("steps") == 5);
  // Stored: the run's variant and its own options, not those of other variants.
  const Metadata stored = run_config(resumed);
  CHECK(stored.at("flag.performer-features") == "32");
  CHECK(stored.count("flag.flash-chunk") == 0);
  CHECK(stored.at("flag.steps") == "5");
}

TEST_CASE("attention flags: examples/README.md lists the registered variants") {
  std::ifstream in("examples/README.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str(), begin = "<!-- attention variants: begin -->\n",
                    end = "<!-- attention variants: end -->";
  const size_t from = readme.find(begin), to = readme.find(end);
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  const std::string listed = readme.substr(from + begin.size(), to - from - begin.size());
  CHECK_MESSAGE(listed == attention_variants_markdown(),
                "the table between the markers in examples/README.md should read:\n" << attention_variants_markdown());
}
