#include "examples/common/flags.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace ta::examples {

// ---- values ----------------------------------------------------------------------

bool parse_whole_number(const std::string& text, int64_t& out) {
  // strtoll alone would skip spaces, take a prefix and saturate at 2^63 - 1.
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-' || text[0] == '+'))
    return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (end != text.c_str() + text.size() || errno == ERANGE) return false;
  out = v;
  return true;
}

bool parse_finite_number(const std::string& text, double& out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return false;
  out = v;
  return true;
}

namespace {

// The items of "1,2,3"; "" has none.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  if (text.empty()) return items;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1)
    items.push_back(text.substr(start, comma - start));
  items.push_back(text.substr(start));
  return items;
}

bool parse_boolean(const std::string& text, bool& out) {
  if (text != "true" && text != "false" && text != "1" && text != "0") return false;
  out = text == "true" || text == "1";
  return true;
}

// Whether text is a whole number in min .. max.
bool whole_number_in(const std::string& text, int64_t min, int64_t max) {
  int64_t v = 0;
  return parse_whole_number(text, v) && v >= min && v <= max;
}

}  // namespace

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

TextRule any_text() {
  return {"any text", [](const std::string&) { return true; }};
}

TextRule non_empty_text() {
  return {"a non-empty text", [](const std::string& s) { return !s.empty(); }};
}

std::string FlagSpec::allowed() const {
  if (!described.empty()) return described;
  switch (type) {
    case FlagType::Text: return text.allowed;
    case FlagType::Integer:
      return max == std::numeric_limits<int64_t>::max() ? cat("a whole number >= ", min)
                                                          : cat("a whole number in ", min, "..", max);
    case FlagType::Number: {
      const bool low = range.min > -std::numeric_limits<double>::max(), high = range.max < std::numeric_limits<double>::max();
      const char* lower = range.min_endpoint == Endpoint::Excluded ? " > " : " >= ";
      if (low && high) return cat("a number", lower, range.min, " and <= ", range.max);
      if (low) return cat("a number", lower, range.min);
      return high ? cat("a number <= ", range.max) : std::string("a finite number");
    }
    case FlagType::Boolean: return "true or false";
    case FlagType::Switch: return "true or false (bare --" + name + ": true)";
    case FlagType::Choice: return "one of: " + join(choices, ", ");
    case FlagType::IntegerList:
      return cat("up to ", max_items, " comma-separated whole numbers in ", min, "..", max);
  }
  return "?";
}

std::string FlagSpec::problem(const std::string& value) const {
  bool ok = false;
  switch (type) {
    case FlagType::Text: ok = text.accepts(value); break;
    case FlagType::Integer: ok = whole_number_in(value, min, max); break;
    case FlagType::Number: {
      double v = 0;
      ok = parse_finite_number(value, v) && v <= range.max &&
           (range.min_endpoint == Endpoint::Excluded ? v > range.min : v >= range.min);
      break;
    }
    case FlagType::Boolean:
    case FlagType::Switch: {
      bool b = false;
      ok = parse_boolean(value, b);
      break;
    }
    case FlagType::Choice:
      for (const std::string& c : choices) ok = ok || c == value;
      break;
    case FlagType::IntegerList: {
      const std::vector<std::string> items = split_list(value);
      ok = static_cast<int64_t>(items.size()) <= max_items;
      for (const std::string& item : items) ok = ok && whole_number_in(item, min, max);
      break;
    }
  }
  return ok ? "" : cat("expected ", allowed(), ", got '", value, "'");
}

bool FlagSpec::same_value(const std::string& a, const std::string& b) const {
  switch (type) {
    case FlagType::Number: {
      double x = 0, y = 0;
      return parse_finite_number(a, x) && parse_finite_number(b, y) ? x == y : a == b;
    }
    case FlagType::Integer: {
      int64_t x = 0, y = 0;
      return parse_whole_number(a, x) && parse_whole_number(b, y) ? x == y : a == b;
    }
    case FlagType::Boolean:
    case FlagType::Switch: {
      bool x = false, y = false;
      return parse_boolean(a, x) && parse_boolean(b, y) ? x == y : a == b;
    }
    default: return a == b;
  }
}

// ---- declarations ----------------------------------------------------------------

static FlagSpec declared(std::string name, FlagType type, std::string default_value, std::string help) {
  FlagSpec s;
  s.name = std::move(name);
  s.type = type;
  s.default_value = std::move(default_value);
  s.help = std::move(help);
  return s;
}

FlagSpec text_flag(std::string name, std::string default_value, std::string help, TextRule rule) {
  FlagSpec s = declared(std::move(name), FlagType::Text, std::move(default_value), std::move(help));
  s.text = std::move(rule);
  return s;
}

FlagSpec integer_flag(std::string name, int64_t default_value, int64_t min, int64_t max, std::string help) {
  FlagSpec s = declared(std::move(name), FlagType::Integer, std::to_string(default_value), std::move(help));
  s.min = min;
  s.max = max;
  return s;
}

FlagSpec number_flag(std::string name, std::string default_value, Range range, std::string help) {
  FlagSpec s = declared(std::move(name), FlagType::Number, std::move(default_value), std::move(help));
  s.range = range;
  return s;
}

FlagSpec boolean_flag(std::string name, bool default_value, std::string help) {
  return declared(std::move(name), FlagType::Boolean, default_value ? "true" : "false", std::move(help));
}

FlagSpec switch_flag(std::string name, std::string help) {
  return declared(std::move(name), FlagType::Switch, "false", std::move(help));
}

FlagSpec choice_flag(std::string name, std::string default_value, std::vector<std::string> choices, std::string help) {
  FlagSpec s = declared(std::move(name), FlagType::Choice, std::move(default_value), std::move(help));
  s.choices = std::move(choices);
  return s;
}

FlagSpec integer_list_flag(std::string name, std::string default_value, int64_t min, int64_t max, int64_t max_items,
                           std::string help) {
  FlagSpec s = declared(std::move(name), FlagType::IntegerList, std::move(default_value), std::move(help));
  s.min = min;
  s.max = max;
  s.max_items = max_items;
  return s;
}

FlagSpec checkpoint_mode_flag(FlagSpec spec) {
  spec.use = FlagUse::CheckpointMode;
  return spec;
}

// ---- Flags -----------------------------------------------------------------------

Flags::Flags(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

void Flags::begin_section(std::string title) { section_ = std::move(title); }

void Flags::add(FlagSpec spec) {
  TA_CHECK(!has(spec.name), program_, ": flag --", spec.name, " is declared twice");
  const std::string problem = spec.problem(spec.default_value);
  TA_CHECK(problem.empty(), program_, ": the default of --", spec.name, ": ", problem);
  if (spec.group.empty()) spec.group = section_.empty() ? "flags" : section_;
  values_[spec.name] = spec.default_value;
  specs_.push_back(std::move(spec));
}

bool Flags::has(const std::string& name) const { return values_.count(name) > 0; }

const FlagSpec& Flags::spec(const std::string& name) const {
  for (const FlagSpec& s : specs_)
    if (s.name == name) return s;
  throw Error(cat(program_, " has no flag --", name));
}

const std::string& Flags::str(const std::string& name) const {
  spec(name);
  return values_.at(name);
}

// The spec of `name`, which must be of type a or b: asking otherwise is the program's mistake.
const FlagSpec& Flags::typed(const std::string& name, FlagType a, FlagType b) const {
  const FlagSpec& s = spec(name);
  TA_CHECK(s.type == a || s.type == b, program_, ": flag --", name, " is not read as declared");
  return s;
}

int64_t Flags::integer(const std::string& name) const {
  typed(name, FlagType::Integer, FlagType::Integer);
  int64_t v = 0;
  parse_whole_number(values_.at(name), v);  // checked when it was set
  return v;
}

double Flags::number(const std::string& name) const {
  typed(name, FlagType::Number, FlagType::Number);
  double v = 0;
  parse_finite_number(values_.at(name), v);
  return v;
}

bool Flags::boolean(const std::string& name) const {
  typed(name, FlagType::Boolean, FlagType::Switch);
  bool v = false;
  parse_boolean(values_.at(name), v);
  return v;
}

std::vector<int64_t> Flags::integer_list(const std::string& name) const {
  typed(name, FlagType::IntegerList, FlagType::IntegerList);
  std::vector<int64_t> out;
  for (const std::string& item : split_list(values_.at(name))) {
    int64_t v = 0;
    parse_whole_number(item, v);
    out.push_back(v);
  }
  return out;
}

void Flags::set(const std::string& name, const std::string& value, const std::string& source) {
  const std::string problem = spec(name).problem(value);
  TA_CHECK(problem.empty(), "--", name, " from ", source, ": ", problem);
  values_[name] = value;
}

namespace {

// The command line as CLI11 sees it: one option per flag, bound to `parsed`, each
// value checked by its spec as CLI11 reads it (a bare switch reads as "true").
void declare(CLI::App& app, const std::vector<FlagSpec>& specs, std::map<std::string, std::string>& parsed) {
  for (const FlagSpec& s : specs) {
    const bool plain_text = s.type == FlagType::Text && s.text.allowed == any_text().allowed;
    const std::string help = plain_text || s.type == FlagType::Switch ? s.help : s.help + " (" + s.allowed() + ")";
    CLI::Option* option = s.type == FlagType::Switch
                              ? app.add_flag("--" + s.name, parsed[s.name], help)
                              : app.add_option("--" + s.name, parsed[s.name], help)
                                    ->option_text(s.default_value.empty() ? "VALUE" : s.default_value);
    option->check(CLI::Validator([spec = s](std::string& value) { return spec.problem(value); }, ""));
    option->group(s.group);
  }
}

}  // namespace

ParseResult Flags::parse(int argc, const char* const* argv) {
  CLI::App app(program_ + ": " + summary_, program_);
  app.allow_extras();  // reported below, by name
  app.get_formatter()->column_width(36);
  app.footer(footer_);
  std::map<std::string, std::string> parsed;
  declare(app, specs_, parsed);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", help().c_str());
    return ParseResult::HelpShown;
  } catch (const CLI::ParseError& e) {
    throw Error(cat(e.what(), " (see --help)"));
  }
  for (const std::string& extra : app.remaining()) {
    TA_CHECK(extra.rfind("--", 0) != 0, "unknown flag ", extra.substr(0, extra.find('=')), " (see --help)");
    throw Error(cat("unexpected argument '", extra, "' (flags start with --; see --help)"));
  }
  for (const FlagSpec& s : specs_) {
    if (app.count("--" + s.name) == 0) continue;
    values_[s.name] = parsed[s.name];
    given_.insert(s.name);
  }
  return ParseResult::Run;
}

std::string Flags::help() const {
  CLI::App app(program_ + ": " + summary_, program_);
  app.get_formatter()->column_width(36);
  app.footer(footer_);
  std::map<std::string, std::string> parsed;
  declare(app, specs_, parsed);
  return app.help();
}

}  // namespace ta::examples
