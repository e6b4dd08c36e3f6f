// tests/examples/test_flags.cpp — the example programs' flags (examples/common/
// flags.h): values checked by their declared type and range, whole numbers that
// overflow refused, nan and inf refused, CLI11's command-line forms; and every flag
// of both programs declared with a range.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "examples/cifar_gen/settings.h"
#include "examples/common/attention_flags.h"
#include "examples/common/flags.h"
#include "examples/protein_lm/settings.h"
#include "tests/testing.h"

using namespace ta;
using namespace ta::examples;
using ta::testing::error_message;

namespace {

Flags small_program() {
  Flags f("prog", "a test program");
  f.add(integer_flag("steps", 10, 1, 1000, "training steps"));
  f.add(number_flag("lr", "0.1", Range{0, 10, Endpoint::Excluded}, "learning rate"));
  f.add(switch_flag("resume", "continue"));
  f.add(boolean_flag("tie", true, "tie embeddings"));
  f.add(choice_flag("objective", "causal", {"causal", "masked"}, "objective"));
  f.add(integer_list_flag("layers", "", 0, 7, 3, "layers to draw"));
  f.add(text_flag("out", "runs/x", "folder", non_empty_text()));
  return f;
}

// The message of parsing `args` (after the program name), or "" when accepted.
std::string parse_error(Flags& f, const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"prog"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  return error_message([&] { f.parse(static_cast<int>(argv.size()), argv.data()); });
}

std::string parse_error(const std::vector<std::string>& args) {
  Flags f = small_program();
  return parse_error(f, args);
}

}  // namespace

TEST_CASE("flags: whole numbers are base 10, whole, and refused when they overflow 64 bits") {
  int64_t v = 0;
  CHECK((parse_whole_number("42", v) && v == 42));
  CHECK((parse_whole_number("-7", v) && v == -7));
  CHECK((parse_whole_number("9223372036854775807", v) && v == std::numeric_limits<int64_t>::max()));
  for (const char* bad : {"9223372036854775808", "99999999999999999999", "-9223372036854775809", "1e3", "0x10", " 5",
                          "5 ", "", "12abc", "1.0", "nan"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_whole_number(bad, v));
  }
  double x = 0;
  CHECK((parse_finite_number("4e-3", x) && x == 0.004));
  CHECK((parse_finite_number("1e-400", x) && x == 0.0));  // underflows to 0: finite
  for (const char* bad : {"nan", "-nan", "inf", "-inf", "infinity", "1e400", " 1", "1 ", "", "0.1.2"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_finite_number(bad, x));
  }
}

TEST_CASE("flags: each value checked against its flag's range; the message names the flag, the value and the range") {
  CHECK(parse_error({"--steps", "5"}).empty());
  CHECK(parse_error({"--steps=5"}).empty());
  CHECK(parse_error({"--steps", "0"}) == "--steps: expected a whole number in 1..1000, got '0' (see --help)");
  CHECK(parse_error({"--steps", "99999999999999999999"}) ==
        "--steps: expected a whole number in 1..1000, got '99999999999999999999' (see --help)");
  CHECK(parse_error({"--lr", "0"}) == "--lr: expected a number > 0 and <= 10, got '0' (see --help)");
  CHECK(parse_error({"--lr", "10"}).empty());
  CHECK(parse_error({"--lr", "nan"}) == "--lr: expected a number > 0 and <= 10, got 'nan' (see --help)");
  CHECK(parse_error({"--lr=-inf"}) == "--lr: expected a number > 0 and <= 10, got '-inf' (see --help)");
  CHECK(parse_error({"--lr", "-1"}) == "--lr: expected a number > 0 and <= 10, got '-1' (see --help)");
  CHECK(parse_error({"--objective", "bert"}) == "--objective: expected one of: causal, masked, got 'bert' (see --help)");
  CHECK(parse_error({"--tie", "yes"}) == "--tie: expected true or false, got 'yes' (see --help)");
  CHECK(parse_error({"--layers", "1,2,3"}).empty());
  CHECK(parse_error({"--layers", "1,2,3,4"}).find("--layers: expected up to 3 comma-separated whole numbers in 0..7") == 0);
  CHECK(parse_error({"--layers", "8"}).find("--layers: expected") == 0);
  CHECK(parse_error({"--layers", "1,,2"}).find("--layers: expected") == 0);
  CHECK(parse_error({"--out", ""}).find("--out") == 0);
}

TEST_CASE("flags: the command line's forms: switches, unknown flags, stray words, missing and repeated values") {
  Flags f = small_program();
  CHECK(parse_error(f, {"--resume", "--steps", "7", "--tie=false", "--layers", "2,0"}).empty());
  CHECK(f.boolean("resume"));
  CHECK(f.integer("steps") == 7);
  CHECK_FALSE(f.boolean("tie"));
  CHECK(f.integer_list("layers") == std::vector<int64_t>{2, 0});
  CHECK(f.given("steps"));
  CHECK_FALSE(f.given("lr"));
  CHECK(f.number("lr") == 0.1);  // the default

  Flags g = small_program();
  CHECK(parse_error(g, {"--resume=false"}).empty());
  CHECK_FALSE(g.boolean("resume"));
  CHECK(parse_error({"--stpes", "5"}) == "unknown flag --stpes (see --help)");
  CHECK(parse_error({"--stpes=5"}) == "unknown flag --stpes (see --help)");
  CHECK(parse_error({"5"}) == "unexpected argument '5' (flags start with --; see --help)");
  CHECK(parse_error({"--steps"}).find("--steps") == 0);
  CHECK(parse_error({"--steps", "5", "--steps", "6"}).find("--steps") == 0);
  CHECK(parse_error({"--resume=maybe"}).find("--resume") != std::string::npos);
}

TEST_CASE("flags: --help, values from elsewhere, and values compared as values") {
  Flags f = small_program();
  const std::string help = f.help();
  for (const FlagSpec& s : f.specs()) {
    CAPTURE(s.name);
    CHECK(help.find("--" + s.name) != std::string::npos);
  }
  CHECK(help.find("(a whole number in 1..1000)") != std::string::npos);

  f.set("steps", "12", "the checkpoint");
  CHECK(f.integer("steps") == 12);
  CHECK(error_message([&] { f.set("steps", "1e9", "the checkpoint"); }) ==
        "--steps from the checkpoint: expected a whole number in 1..1000, got '1e9'");
  CHECK(f.spec("lr").same_value("0.004", "4e-3"));
  CHECK_FALSE(f.spec("lr").same_value("0.004", "0.0041"));
  CHECK(f.spec("tie").same_value("true", "1"));
  CHECK(f.spec("steps").same_value("007", "7"));
  CHECK(error_message([&] { f.add(integer_flag("steps", 1, 1, 2, "again")); }) == "prog: flag --steps is declared twice");
  CHECK(error_message([&] { f.add(integer_flag("bad", 5, 1, 2, "out of its own range")); })
            .find("the default of --bad") != std::string::npos);
}

// Each program's flags: every one has a range, and values outside it, too large
// for 64 bits, nan and inf are refused, naming the flag.
TEST_CASE("flags: every flag of cifar_gen and protein_lm has a range, and values outside it are refused") {
  for (Flags program : {cifar::program_flags(), protein::program_flags()}) {
    const std::string name_of_program = program.program();
    CAPTURE(name_of_program);
    const std::string help = program.help();
    for (const FlagSpec& s : program.specs()) {
      const std::string name = s.name;
      CAPTURE(name);
      CHECK(help.find("--" + name) != std::string::npos);
      std::vector<std::string> refused;
      switch (s.type) {
        case FlagType::Integer:
          refused = {"99999999999999999999", "-99999999999999999999", "1.5", "nan", ""};
          if (s.min > std::numeric_limits<int64_t>::min()) refused.push_back(std::to_string(s.min - 1));
          if (s.max < std::numeric_limits<int64_t>::max()) refused.push_back(std::to_string(s.max + 1));
          // Only seeds and the attention registry's own options may go up to 2^63 - 1.
          if (name != "seed" && !is_attention_option_flag(name)) CHECK(s.max <= (int64_t{1} << 40));
          break;
        case FlagType::Number:
          refused = {"nan", "inf", "-inf", "1e999", std::to_string(s.range.max * 2 + 1)};
          CHECK(s.range.max < std::numeric_limits<double>::max());
          CHECK(s.range.min > -std::numeric_limits<double>::max());
          break;
        case FlagType::Choice: refused = {"no-such-choice", ""}; break;
        case FlagType::Boolean:
        case FlagType::Switch: refused = {"maybe", "2"}; break;
        case FlagType::IntegerList: refused = {"x", std::to_string(s.max + 1), "99999999999999999999"}; break;
        case FlagType::Text:
          if (s.text.accepts("")) continue;  // any text: a path that may be missing, checked when read
          refused = {""};
          break;
      }
      for (const std::string& value : refused) {
        CAPTURE(value);
        Flags copy = program;
        const std::string message = parse_error(copy, {"--" + name + "=" + value});
        CHECK(message.find("--" + name + ":") == 0);
      }
    }
  }
}
