// examples/common/run_config.h — a run's flags in its checkpoint, and back.
//
// A checkpoint stores the value of every flag of the run as metadata
// "flag.<name>" (the attention options: those of the run's variant), except the
// ones that say where and how to start it (--out, --resume, --overwrite). So
// `--resume --out DIR` alone continues exactly the job that was started there.
//
// Resuming, each stored flag comes back. A flag given again with the same value
// (as a value: 0.004 and 4e-3 are the same) is fine; with another value it is an
// Error naming both, unless the program lists it as one that may change between
// the sessions of a run (--steps to train longer, --time-limit, how often to
// evaluate and save, --threads, --device, what to draw at the end: see each
// program's README). A flag that the checkpoint does not store (one written by an
// older version of the program) keeps the command line's value or its default,
// and a note says which.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "examples/common/flags.h"
#include "layers/safetensors.h"

namespace ta::examples {

// Flags never stored: where and how the run starts (nor the flags of the
// checkpoint modes, FlagUse::CheckpointMode).
const std::set<std::string>& unstored_flags();

// "flag.<name>" -> value for each stored flag.
Metadata run_config(const Flags& flags);

// The flags given on the command line with another value than stored: conflicts
// ("--layers 3 (stored: 2)"), and those that may change ("--steps 50 replaces 20
// of CHECKPOINT").
struct TakenFlags {
  std::vector<std::string> conflicts, replaced;
};

// Takes the run's flags back from a checkpoint's metadata into `flags` (whose
// command line has been parsed): each stored flag not given on the command line.
// The flags the checkpoint does not store are named in a note (when there is no
// conflict). `source` names the checkpoint in messages.
TakenFlags take_run_config(Flags& flags, const Metadata& saved, const std::set<std::string>& may_change,
                           const std::string& source);

// take_run_config for --resume: each replaced value in a note; a conflict is an
// Error naming each and the flags that may change.
void restore_run_config(Flags& flags, const Metadata& saved, const std::set<std::string>& may_change,
                        const std::string& source);

// Takes each of `names` stored in `saved` into `flags` when the command line did
// not give it. Flags not stored are left.
TakenFlags take_flags(Flags& flags, const Metadata& saved, const std::vector<std::string>& names,
                      const std::set<std::string>& may_change, const std::string& source);

}  // namespace ta::examples
