#include "examples/common/flags.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "core/error.h"

namespace ta::examples {

Flags::Flags(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

void Flags::add(const std::string& name, const std::string& default_value, const std::string& help) {
  flags_.push_back({name, default_value, help, false});
  values_[name] = default_value;
}

void Flags::add_bool(const std::string& name, const std::string& help) {
  flags_.push_back({name, "false", help, true});
  values_[name] = "false";
}

void Flags::add_text(const std::string& text) { flags_.push_back({"", "", text, false, true}); }

const Flags::Flag& Flags::find(const std::string& name) const {
  for (const Flag& f : flags_)
    if (!f.is_text && f.name == name) return f;
  throw Error(cat(program_, ": unknown flag --", name, " (see --help)"));
}

bool Flags::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", help().c_str());
      return false;
    }
    TA_CHECK(arg.rfind("--", 0) == 0, program_, ": unexpected argument '", arg, "' (flags start with --; see --help)");
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const Flag& f = find(name);
    if (eq == std::string::npos) {
      if (f.is_bool) {
        value = "true";
      } else {
        TA_CHECK(i + 1 < argc, program_, ": flag --", name, " needs a value");
        value = argv[++i];
      }
    }
    values_[name] = value;
    given_[name] = true;
  }
  return true;
}

std::string Flags::str(const std::string& name) const {
  find(name);
  return values_.at(name);
}

int64_t Flags::integer(const std::string& name) const {
  const std::string v = str(name);
  char* end = nullptr;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  TA_CHECK(!v.empty() && *end == '\0', program_, ": --", name, " expects a whole number, got '", v, "'");
  return x;
}

double Flags::number(const std::string& name) const {
  const std::string v = str(name);
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  TA_CHECK(!v.empty() && *end == '\0', program_, ": --", name, " expects a number, got '", v, "'");
  return x;
}

bool Flags::boolean(const std::string& name) const {
  const std::string v = str(name);
  TA_CHECK(v == "true" || v == "false" || v == "1" || v == "0", program_, ": --", name, " expects true or false, got '",
           v, "'");
  return v == "true" || v == "1";
}

bool Flags::given(const std::string& name) const { return given_.count(name) > 0; }

void Flags::adopt(const std::map<std::string, std::string>& saved, const std::vector<std::string>& names,
                  const std::string& source) {
  std::vector<std::string> args = {program_};
  for (const std::string& name : names) {
    const auto it = saved.find("flag." + name);
    if (it == saved.end()) continue;
    if (given(name) && str(name) != it->second)
      std::fprintf(stderr, "note: --%s %s ignored; %s has %s\n", name.c_str(), str(name).c_str(), source.c_str(),
                   it->second.c_str());
    args.push_back("--" + name + "=" + it->second);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  parse(static_cast<int>(argv.size()), argv.data());
}

std::string Flags::help() const {
  std::ostringstream os;
  os << program_ << ": " << summary_ << "\n\nflags:\n";
  for (const Flag& f : flags_) {
    if (f.is_text) {
      os << "\n" << f.help << "\n";
      continue;
    }
    std::string left = "  --" + f.name + (f.is_bool ? "" : " " + (f.default_value.empty() ? std::string("VALUE") : f.default_value));
    os << left;
    for (size_t pad = left.size(); pad < 34; ++pad) os << ' ';
    os << ' ' << f.help << "\n";
  }
  return os.str();
}

}  // namespace ta::examples
