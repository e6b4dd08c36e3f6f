#include "examples/common/attention_flags.h"

#include <algorithm>
#include <limits>

#include "attention/registry.h"
#include "core/error.h"

namespace ta::examples {

namespace {

std::string modes(const AttentionVariant& v) {
  if (v.supports_causal && v.supports_bidirectional) return "causal, bidirectional";
  return v.supports_causal ? "causal" : "bidirectional";
}

std::vector<std::string> option_names(const AttentionVariant& v) {
  std::vector<std::string> names;
  for (const OptionSpec& s : v.options) names.push_back(s.name);
  return names;
}

// An integer bound of an OptionSpec (a double) as a whole number; beyond the 64-bit
// range it means no bound.
int64_t whole_bound(double v) {
  if (v <= -9.2e18) return std::numeric_limits<int64_t>::min();
  if (v >= 9.2e18) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(v);
}

// The flag of a variant's option: the same type and values allowed as its spec.
FlagSpec typed_option_flag(const SharedOption& o, const std::string& default_value) {
  const OptionSpec& s = o.spec;
  const std::string help = s.help + " [" + join(o.variants, ", ") + "]";
  switch (s.type) {
    case OptionType::Integer: {
      int64_t v = 0;
      parse_whole_number(default_value, v);
      return integer_flag(s.name, v, whole_bound(s.min), whole_bound(s.max), help);
    }
    case OptionType::Number: {
      const double big = std::numeric_limits<double>::max();
      return number_flag(s.name, default_value, Range{std::max(s.min, -big), std::min(s.max, big)}, help);
    }
    case OptionType::Boolean: return choice_flag(s.name, default_value, {"true", "false"}, help);
    case OptionType::Choice: return choice_flag(s.name, default_value, s.choices, help);
  }
  throw Error(cat("attention flags: option ", s.name, " has an unknown type"));
}

// ... described in the registry's words.
FlagSpec option_flag(const SharedOption& o, const std::string& default_value) {
  FlagSpec flag = typed_option_flag(o, default_value);
  flag.described = o.spec.allowed();
  return flag;
}

}  // namespace

void add_attention_flags(Flags& flags, const std::string& default_variant, const std::string& help,
                         const std::map<std::string, std::string>& program_defaults) {
  find_attention_variant(default_variant);  // a default that is not registered is the program's mistake
  std::vector<std::string> names;
  size_t width = 0;
  for (const AttentionVariant& v : attention_variants()) {
    names.push_back(v.name);
    width = std::max(width, v.name.size());
  }
  flags.begin_section("attention");
  flags.add(choice_flag("attention", default_variant, names, help + ", one of the variants listed below"));

  const std::vector<SharedOption> options = attention_options();
  for (const auto& program_default : program_defaults) {
    const std::string& name = program_default.first;
    TA_CHECK(std::any_of(options.begin(), options.end(), [&](const SharedOption& o) { return o.spec.name == name; }),
             "attention flags: a default for ", name, ", which no registered variant declares");
  }
  flags.begin_section("attention options (each taken by the variants named in brackets)");
  for (const SharedOption& o : options) {
    const auto program_default = program_defaults.find(o.spec.name);
    const std::string value = program_default != program_defaults.end() ? program_default->second : o.spec.default_value;
    o.spec.check(o.variants.front(), value);
    flags.add(option_flag(o, value));
  }
  std::string list = "attention variants (registered by the library or by the program itself):";
  for (const AttentionVariant& v : attention_variants())
    list += "\n  " + v.name + std::string(width + 2 - v.name.size(), ' ') + v.description + " [" + modes(v) + "]";
  flags.set_footer(list);
}

std::map<std::string, std::string> attention_options_of(const Flags& flags) {
  const AttentionVariant& chosen = find_attention_variant(flags.str("attention"));
  std::map<std::string, std::string> options;
  for (const OptionSpec& s : chosen.options) options[s.name] = flags.str(s.name);
  for (const SharedOption& o : attention_options())
    TA_CHECK(!flags.given(o.spec.name) || options.count(o.spec.name), "--", o.spec.name, " is an option of ",
             join(o.variants, ", "), ", not of --attention ", chosen.name, " (whose options are: ",
             chosen.options.empty() ? "none" : join(option_names(chosen), ", "), ")");
  return options;
}

std::vector<std::string> attention_option_flags(const std::string& variant) {
  return option_names(find_attention_variant(variant));
}

bool is_attention_option_flag(const std::string& name) {
  const std::vector<SharedOption> options = attention_options();
  return std::any_of(options.begin(), options.end(), [&](const SharedOption& o) { return o.spec.name == name; });
}

std::map<std::string, std::string> saved_attention_options(const std::map<std::string, std::string>& saved,
                                                           const std::string& variant) {
  std::map<std::string, std::string> options;
  for (const std::string& name : attention_option_flags(variant))
    if (const auto it = saved.find("flag." + name); it != saved.end()) options[name] = it->second;
  return options;
}

std::string attention_variants_markdown() {
  std::string table = "| variant | modes | what | options |\n|---|---|---|---|\n";
  for (const AttentionVariant& v : attention_variants()) {
    std::vector<std::string> options;
    for (const OptionSpec& s : v.options) options.push_back("`--" + s.name + "`");
    table += "| `" + v.name + "` | " + modes(v) + " | " + v.description + " | " +
             (options.empty() ? "none" : join(options, ", ")) + " |\n";
  }
  return table;
}

}  // namespace ta::examples
