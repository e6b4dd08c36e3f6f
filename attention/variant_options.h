// attention/variant_options.h — the named options of an attention variant.
//
// A variant declares its own settings (Performer's number of random features,
// FLASH's chunk size, ...) as OptionSpecs: a name, a type, a default, the values
// allowed and a line of help. Whoever builds the variant gives values by name as
// text (AttentionConfig::options: from a command line, a checkpoint's metadata or
// code); VariantOptions checks each against its spec and hands the builder typed
// values. Nothing here knows about command lines: the example programs turn the
// specs into flags (examples/common/attention_flags.h).
//
// Names are written as on a command line, lower case with dashes, and start with
// the variant's family ("performer-features", "flash-chunk"), so that one flag can
// serve the variants that share an option and never collides with a program's own.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace ta {

enum class OptionType { Integer, Number, Boolean, Choice };

// What a boundary option is for the conformance suite: Size marks a length at which
// the computation changes (a chunk, a block, a number of landmarks), so the suite
// tests sequences just below, at, just above and several times above it.
enum class OptionRole { Setting, Size };

struct OptionSpec {
  std::string name;
  OptionType type = OptionType::Integer;
  std::string default_value;
  std::string help;
  double min = -std::numeric_limits<double>::infinity();  // Integer, Number: the allowed range, inclusive
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  // Choice: the allowed values
  OptionRole role = OptionRole::Setting;

  // "a whole number in 1..65536", "true or false", "one of: row-count, length".
  std::string allowed() const;
  // Throws an Error naming `variant`, the option, the value and what is allowed.
  void check(const std::string& variant, const std::string& value) const;
};

// The ways to declare an option; `max` defaults to no limit.
OptionSpec integer_option(std::string name, int64_t default_value, std::string help, int64_t min,
                          int64_t max = std::numeric_limits<int64_t>::max(), OptionRole role = OptionRole::Setting);
OptionSpec number_option(std::string name, double default_value, std::string help, double min,
                         double max = std::numeric_limits<double>::infinity());
OptionSpec boolean_option(std::string name, bool default_value, std::string help);
OptionSpec choice_option(std::string name, std::string default_value, std::vector<std::string> choices,
                         std::string help);

// The values of one variant's options: every declared option with its default,
// replaced by the value given for it. Construction checks every given value and
// rejects a name the variant does not declare (listing the ones it does).
class VariantOptions {
 public:
  VariantOptions(std::string variant, std::vector<OptionSpec> specs, const std::map<std::string, std::string>& given);

  // Typed values; asking for an undeclared name or with the wrong type is an Error
  // (a mistake in the variant's own code).
  int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  bool boolean(const std::string& name) const;
  const std::string& choice(const std::string& name) const;

  // Every option's value as text, defaults included: what a checkpoint stores.
  const std::map<std::string, std::string>& values() const { return values_; }
  const std::vector<OptionSpec>& specs() const { return specs_; }
  const std::string& variant() const { return variant_; }

 private:
  const OptionSpec& spec(const std::string& name, OptionType type) const;
  std::string variant_;
  std::vector<OptionSpec> specs_;
  std::map<std::string, std::string> values_;
};

}  // namespace ta
