#include "attention/variant_options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "core/error.h"

namespace ta {

namespace {

// The whole of `text` as a number (no trailing characters), or false.
bool parse_integer(const std::string& text, int64_t& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  out = v;
  return true;
}

bool parse_number(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v)) return false;
  out = v;
  return true;
}

// A bound as written: whole numbers without a decimal point.
std::string bound(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  return cat(v);
}

// "a whole number in 1..65536", "a whole number >= 0"; the int64 limits count as none.
std::string range(double min, double max, const char* kind) {
  const bool low = min > -9.2e18, high = max < 9.2e18;
  if (low && high) return cat(kind, " in ", bound(min), "..", bound(max));
  if (low) return cat(kind, " >= ", bound(min));
  if (high) return cat(kind, " <= ", bound(max));
  return kind;
}

const char* type_name(OptionType t) {
  switch (t) {
    case OptionType::Integer: return "integer";
    case OptionType::Number: return "number";
    case OptionType::Boolean: return "boolean";
    case OptionType::Choice: return "choice";
  }
  return "?";
}

}  // namespace

std::string OptionSpec::allowed() const {
  switch (type) {
    case OptionType::Integer: return range(min, max, "a whole number");
    case OptionType::Number: return range(min, max, "a number");
    case OptionType::Boolean: return "true or false";
    case OptionType::Choice: {
      std::string list;
      for (const std::string& c : choices) list += (list.empty() ? "" : ", ") + c;
      return "one of: " + list;
    }
  }
  return "?";
}

void OptionSpec::check(const std::string& variant, const std::string& value) const {
  bool ok = false;
  switch (type) {
    case OptionType::Integer: {
      int64_t v = 0;
      ok = parse_integer(value, v) && v >= min && v <= max;
      break;
    }
    case OptionType::Number: {
      double v = 0;
      ok = parse_number(value, v) && v >= min && v <= max;
      break;
    }
    case OptionType::Boolean: ok = value == "true" || value == "false"; break;
    case OptionType::Choice:
      for (const std::string& c : choices) ok = ok || c == value;
      break;
  }
  TA_CHECK(ok, "attention '", variant, "': option ", name, " must be ", allowed(), ", got '", value, "'");
}

OptionSpec integer_option(std::string name, int64_t default_value, std::string help, int64_t min, int64_t max,
                          OptionRole role) {
  OptionSpec s;
  s.name = std::move(name);
  s.type = OptionType::Integer;
  s.default_value = std::to_string(default_value);
  s.help = std::move(help);
  s.min = static_cast<double>(min);
  s.max = static_cast<double>(max);
  s.role = role;
  return s;
}

OptionSpec number_option(std::string name, double default_value, std::string help, double min, double max) {
  OptionSpec s;
  s.name = std::move(name);
  s.type = OptionType::Number;
  s.default_value = cat(default_value);
  s.help = std::move(help);
  s.min = min;
  s.max = max;
  return s;
}

OptionSpec boolean_option(std::string name, bool default_value, std::string help) {
  OptionSpec s;
  s.name = std::move(name);
  s.type = OptionType::Boolean;
  s.default_value = default_value ? "true" : "false";
  s.help = std::move(help);
  return s;
}

OptionSpec choice_option(std::string name, std::string default_value, std::vector<std::string> choices,
                         std::string help) {
  OptionSpec s;
  s.name = std::move(name);
  s.type = OptionType::Choice;
  s.default_value = std::move(default_value);
  s.choices = std::move(choices);
  s.help = std::move(help);
  return s;
}

VariantOptions::VariantOptions(std::string variant, std::vector<OptionSpec> specs,
                               const std::map<std::string, std::string>& given)
    : variant_(std::move(variant)), specs_(std::move(specs)) {
  for (const OptionSpec& s : specs_) {
    s.check(variant_, s.default_value);  // a default outside its own range is the variant's mistake
    values_[s.name] = s.default_value;
  }
  for (const auto& [name, value] : given) {
    const OptionSpec* found = nullptr;
    std::string known;
    for (const OptionSpec& s : specs_) {
      if (s.name == name) found = &s;
      known += (known.empty() ? "" : ", ") + s.name;
    }
    TA_CHECK(found != nullptr, "attention '", variant_, "' has no option ", name, " (its options: ",
             known.empty() ? "none" : known, ")");
    found->check(variant_, value);
    values_[name] = value;
  }
}

const OptionSpec& VariantOptions::spec(const std::string& name, OptionType type) const {
  for (const OptionSpec& s : specs_)
    if (s.name == name) {
      TA_CHECK(s.type == type, "attention '", variant_, "': option ", name, " is declared ", type_name(s.type),
               " but read as ", type_name(type));
      return s;
    }
  throw Error(cat("attention '", variant_, "': reads option ", name, ", which it does not declare"));
}

int64_t VariantOptions::integer(const std::string& name) const {
  spec(name, OptionType::Integer);
  int64_t v = 0;
  parse_integer(values_.at(name), v);
  return v;
}

double VariantOptions::number(const std::string& name) const {
  spec(name, OptionType::Number);
  double v = 0;
  parse_number(values_.at(name), v);
  return v;
}

bool VariantOptions::boolean(const std::string& name) const {
  spec(name, OptionType::Boolean);
  return values_.at(name) == "true";
}

const std::string& VariantOptions::choice(const std::string& name) const {
  spec(name, OptionType::Choice);
  return values_.at(name);
}

}  // namespace ta
