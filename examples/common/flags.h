// examples/common/flags.h — command-line flags for the example programs.
//
// Each program declares its flags with a default and a help line; parse() reads
// --name value (or --name=value; bare --name for booleans), answers --help, and
// rejects unknown flags or malformed values with a message naming the flag.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ta::examples {

class Flags {
 public:
  explicit Flags(std::string program, std::string summary);
  void add(const std::string& name, const std::string& default_value, const std::string& help);
  void add_bool(const std::string& name, const std::string& help);  // default false
  // A paragraph of --help text at this place among the flags (a heading, a list).
  void add_text(const std::string& text);
  // Returns false when --help was given (after printing the help): exit 0 then.
  bool parse(int argc, char** argv);

  std::string str(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  bool boolean(const std::string& name) const;
  bool given(const std::string& name) const;  // set on the command line
  std::string help() const;
  // Re-parses with the values stored under "flag.<name>" in `saved` (a checkpoint's
  // metadata, say) for each of `names`, noting on stderr every flag given on the
  // command line that they override; `source` says where the values came from.
  void adopt(const std::map<std::string, std::string>& saved, const std::vector<std::string>& names,
             const std::string& source);
  // "--name value" pairs of every flag, for logs and summaries.
  std::map<std::string, std::string> values() const { return values_; }

 private:
  struct Flag {
    std::string name, default_value, help;
    bool is_bool;
    bool is_text = false;  // not a flag: a paragraph of add_text
  };
  const Flag& find(const std::string& name) const;
  std::string program_, summary_;
  std::vector<Flag> flags_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> given_;
};

}  // namespace ta::examples
