#include "examples/common/run_config.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/error.h"
#include "examples/common/attention_flags.h"

namespace ta::examples {

namespace {

const std::string kPrefix = "flag.";

// The flags a run with this --attention stores: all but the unstored ones, those
// of the checkpoint modes and the options of other variants.
std::vector<std::string> stored_names(const Flags& flags) {
  const std::vector<std::string> own = attention_option_flags(flags.str("attention"));
  std::vector<std::string> names;
  for (const FlagSpec& s : flags.specs()) {
    if (unstored_flags().count(s.name) || s.use == FlagUse::CheckpointMode) continue;
    const bool option = is_attention_option_flag(s.name);
    if (option && std::find(own.begin(), own.end(), s.name) == own.end()) continue;
    names.push_back(s.name);
  }
  return names;
}

}  // namespace

const std::set<std::string>& unstored_flags() {
  static const std::set<std::string> names = {"out", "resume", "overwrite"};
  return names;
}

Metadata run_config(const Flags& flags) {
  Metadata meta;
  for (const std::string& name : stored_names(flags)) meta[kPrefix + name] = flags.str(name);
  return meta;
}

TakenFlags take_flags(Flags& flags, const Metadata& saved, const std::vector<std::string>& names,
                      const std::set<std::string>& may_change, const std::string& source) {
  TakenFlags taken;
  for (const std::string& name : names) {
    const auto it = saved.find(kPrefix + name);
    if (it == saved.end()) continue;
    const std::string& stored = it->second;
    if (!flags.given(name)) {
      flags.set(name, stored, source);
    } else if (!flags.spec(name).same_value(flags.str(name), stored)) {
      const std::string shown = stored.empty() ? "''" : stored;
      if (may_change.count(name))
        taken.replaced.push_back(cat("--", name, " ", flags.str(name), " replaces ", shown, " of ", source));
      else
        taken.conflicts.push_back(cat("--", name, " ", flags.str(name), " (stored: ", shown, ")"));
    }
  }
  return taken;
}

TakenFlags take_run_config(Flags& flags, const Metadata& saved, const std::set<std::string>& may_change,
                           const std::string& source) {
  // The variant first: which options are the run's depends on it.
  TakenFlags taken = take_flags(flags, saved, {"attention"}, may_change, source);
  std::vector<std::string> missing, names;
  for (const std::string& name : stored_names(flags)) {
    if (name == "attention") continue;
    names.push_back(name);
    if (!saved.count(kPrefix + name)) missing.push_back("--" + name);
  }
  const TakenFlags more = take_flags(flags, saved, names, may_change, source);
  taken.conflicts.insert(taken.conflicts.end(), more.conflicts.begin(), more.conflicts.end());
  taken.replaced.insert(taken.replaced.end(), more.replaced.begin(), more.replaced.end());
  if (taken.conflicts.empty() && !missing.empty())
    std::fprintf(stderr, "note: %s does not store %s (written by an older version); %s the command line's or the default\n",
                 source.c_str(), join(missing, ", ").c_str(), missing.size() == 1 ? "it takes" : "they take");
  return taken;
}

void restore_run_config(Flags& flags, const Metadata& saved, const std::set<std::string>& may_change,
                        const std::string& source) {
  const TakenFlags taken = take_run_config(flags, saved, may_change, source);
  for (const std::string& replaced : taken.replaced)
    std::fprintf(stderr, "note: %s\n", replaced.c_str());
  const std::vector<std::string>& conflicts = taken.conflicts;
  if (conflicts.empty()) return;
  std::vector<std::string> changeable;
  for (const std::string& name : may_change) changeable.push_back("--" + name);
  throw Error(cat("--resume: the run stored in ", source, " was started with other flags: ", join(conflicts, ", "),
                  ". Only ", join(changeable, ", "),
                  " may change when a run resumes; to change the others, start a new run (another --out, or "
                  "--overwrite)"));
}

}  // namespace ta::examples
