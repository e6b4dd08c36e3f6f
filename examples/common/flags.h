// examples/common/flags.h — the command-line flags of the example programs.
//
// A program declares each flag once, as a FlagSpec: its name, its type, its
// default, the values allowed (a range, a list of choices, a rule for text) and a
// line of help. parse() hands the command line to CLI11 (Debian's libcli11-dev),
// which splits it into `--name value`, `--name=value` and bare switches, answers
// --help and refuses missing values and a flag given twice; every value is then
// checked against its spec, so a program only ever reads allowed values. A refused
// value is a ta::Error naming the flag, the value and what is allowed, which the
// program prints as
//
//   cifar_gen: error: --steps: expected a whole number in 1..1000000000, got '99999999999999999999'
//
// Whole numbers are read in base 10 and a number too large for 64 bits is refused,
// never saturated; numbers must be finite (nan and inf are refused everywhere).
// The same checks apply to values taken from a checkpoint (set()), so a run
// restored from a file obeys the same rules as one typed by hand.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ta::examples {

enum class FlagType {
  Text,         // any text the flag's TextRule accepts
  Integer,      // a whole number in [min, max]
  Number,       // a finite number in the flag's Range
  Boolean,      // --name true|false (also 1|0)
  Switch,       // bare --name: on when given (--name=false also works)
  Choice,       // one of a list of words
  IntegerList,  // comma-separated whole numbers, each in [min, max]; empty allowed
};

enum class Endpoint { Included, Excluded };

// Which invocations read a flag. Run: the run's own flags, stored in its
// checkpoints (run_config.h). CheckpointMode: read only by the modes that use a
// checkpoint's model without training (--evaluate, --sample-from and what they
// write: checkpoint_mode.h); never stored, and an error when given to a training run.
enum class FlagUse { Run, CheckpointMode };

// The numbers a Number flag allows: min..max, min itself excluded when said so
// (a learning rate > 0).
struct Range {
  double min = -std::numeric_limits<double>::max(), max = std::numeric_limits<double>::max();
  Endpoint min_endpoint = Endpoint::Included;
};

// The texts a Text flag allows: a description for messages and --help, and the test.
struct TextRule {
  std::string allowed;
  std::function<bool(const std::string&)> accepts;
};
TextRule any_text();        // anything, the empty text included
TextRule non_empty_text();  // anything but the empty text

struct FlagSpec {
  std::string name;  // without the dashes
  FlagType type = FlagType::Text;
  std::string default_value;
  std::string help;
  std::string group;  // the --help section; Flags::add fills it with the current section
  int64_t min = 0, max = 0;      // Integer, IntegerList items
  Range range;                   // Number
  std::vector<std::string> choices;  // Choice
  int64_t max_items = 0;         // IntegerList
  TextRule text = any_text();    // Text
  std::string described;         // what allowed() says, when the declaring code words it itself
  FlagUse use = FlagUse::Run;

  // What is allowed, for messages: "a whole number in 1..1000000000", "a number > 0
  // and <= 1e+30", "one of: causal, masked".
  std::string allowed() const;
  // "" when `value` is allowed, else why not ("expected ..., got ...").
  std::string problem(const std::string& value) const;
  // Whether two allowed values mean the same: "0.004" and "4e-3", "true" and "1".
  bool same_value(const std::string& a, const std::string& b) const;
};

// The ways to declare a flag.
FlagSpec text_flag(std::string name, std::string default_value, std::string help, TextRule rule = any_text());
FlagSpec integer_flag(std::string name, int64_t default_value, int64_t min, int64_t max, std::string help);
FlagSpec number_flag(std::string name, std::string default_value, Range range, std::string help);
FlagSpec boolean_flag(std::string name, bool default_value, std::string help);
FlagSpec switch_flag(std::string name, std::string help);
FlagSpec choice_flag(std::string name, std::string default_value, std::vector<std::string> choices, std::string help);
FlagSpec integer_list_flag(std::string name, std::string default_value, int64_t min, int64_t max, int64_t max_items,
                           std::string help);
// `spec` as a flag of the checkpoint modes (FlagUse::CheckpointMode).
FlagSpec checkpoint_mode_flag(FlagSpec spec);

// Whole numbers and numbers as the flags read them: the whole text, base 10 for
// whole numbers, overflow refused, finite numbers only. False when not allowed.
bool parse_whole_number(const std::string& text, int64_t& out);
bool parse_finite_number(const std::string& text, double& out);
// "a, b, c" from {a, b, c} with ", " (for messages, help and file lines).
std::string join(const std::vector<std::string>& items, const std::string& separator);

enum class ParseResult { Run, HelpShown };

class Flags {
 public:
  Flags(std::string program, std::string summary);

  // Declares a flag in the current section; a name declared twice, or a default its
  // own spec refuses, is an Error (the program's mistake).
  void add(FlagSpec spec);
  // Flags added from now on are listed under `title` in --help.
  void begin_section(std::string title);
  // Text printed at the end of --help (the attention variants).
  void set_footer(std::string text) { footer_ = std::move(text); }

  // Reads the command line (argv[0] is the program); on --help prints help() and
  // returns HelpShown. A refused command line is an Error naming the flag.
  ParseResult parse(int argc, const char* const* argv);
  // Sets a flag from elsewhere (a checkpoint's stored value): checked like a
  // command-line value; `source` names where it came from in the message.
  void set(const std::string& name, const std::string& value, const std::string& source);

  const std::string& str(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  bool boolean(const std::string& name) const;  // Boolean and Switch flags
  std::vector<int64_t> integer_list(const std::string& name) const;
  bool given(const std::string& name) const { return given_.count(name) > 0; }  // on the command line
  bool has(const std::string& name) const;  // declared
  const FlagSpec& spec(const std::string& name) const;
  const std::vector<FlagSpec>& specs() const { return specs_; }
  const std::string& program() const { return program_; }
  std::string help() const;

 private:
  const FlagSpec& typed(const std::string& name, FlagType a, FlagType b) const;
  std::string program_, summary_, section_, footer_;
  std::vector<FlagSpec> specs_;
  std::map<std::string, std::string> values_;
  std::set<std::string> given_;
};

}  // namespace ta::examples
