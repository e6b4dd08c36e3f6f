// examples/common/checkpoint_mode.h — the modes of a training program that use a
// trained model instead of training one:
//
//   PROGRAM --evaluate CHECKPOINT [--data DIR | --test-file FILE] [--output FILE]
//       scores the checkpoint's model on a test split and writes the figures as JSON;
//   PROGRAM --sample-from CHECKPOINT [--seed S] [--temperature T] [--output PATH]
//       draws from it (cifar_gen: pictures; protein_lm: FASTA).
//
// The model and the run's configuration come from the checkpoint: every flag the
// run stored (run_config.h) is taken back, so no shape or attention flag is needed.
// On the command line a mode reads only its own flags (what to score or draw, and
// how; --output, --threads, --device; each program lists them); any other flag
// given must have the stored value, so that a flag which would change the model is
// an error naming both values, and --out, --resume, --overwrite are errors. Nothing
// is trained and nothing in the run's folder is written: the output goes to
// --output, by default beside the run's folder, "<folder>-step<N>-<what>"
// (runs/cifar_gen-step3500-evaluation.json for runs/cifar_gen/checkpoint.safetensors).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "examples/common/flags.h"
#include "layers/safetensors.h"
#include "layers/transformer.h"

namespace ta::examples {

enum class ProgramMode { Train, Evaluate, Sample };

// Declares --evaluate, --sample-from and --output (`output_help`: what each mode
// writes there) in a section of --help of their own; the program adds its own
// flags of these modes after them (checkpoint_mode_flag).
void add_checkpoint_mode_flags(Flags& flags, const std::string& output_help);

// The mode the command line asks for. An Error for both modes at once, or for a
// flag of the checkpoint modes given to a training run.
ProgramMode program_mode(const Flags& flags);
// "--evaluate" or "--sample-from", for messages.
std::string mode_flag(ProgramMode mode);

struct ModelCheckpoint {
  std::string path;
  int64_t step = 0;
  Metadata metadata;
};

// Reads the checkpoint of `mode` (a file, or a run's folder: its
// checkpoint.safetensors) and takes the run's flags from it into `flags`, as
// described above. `reads`: the flags the mode reads from the command line besides
// --output, --threads and --device. Errors, each naming the file: none there, one
// that cannot be read, one that stores no run configuration or flags this program
// does not have (another program's), a given flag that conflicts or is not read.
ModelCheckpoint open_model_checkpoint(Flags& flags, ProgramMode mode, const std::set<std::string>& reads);

// --output when given, else beside the checkpoint's folder: "<folder>-step<N>-<what>".
std::string output_path(const Flags& flags, const ModelCheckpoint& checkpoint, const std::string& what);

// What a program brings to the checkpoint modes; the way through them is common
// (run_program_mode).
struct CheckpointModes {
  // The flags each mode reads from the command line (open_model_checkpoint's `reads`).
  std::set<std::string> evaluate_reads, sample_reads;
  // The last part of each mode's default output.
  std::string evaluate_output = "evaluation.json", sample_output;
  // The model the restored flags describe, before its weights are loaded.
  std::function<std::shared_ptr<TransformerLM>(const Flags& flags)> build;
  // Score or draw with the loaded model, writing to `output`.
  using Use = std::function<void(const Flags& flags, const ModelCheckpoint& checkpoint, TransformerLM& model,
                                 const std::string& output)>;
  Use evaluate, sample;
};

// What main() does after parsing: `train` in the training mode; otherwise the
// checkpoint opened (open_model_checkpoint), --threads applied, the model built
// and its weights loaded, then `modes`' evaluate or sample. Returns the exit status.
int run_program_mode(Flags& flags, const std::function<int(Flags& flags)>& train, const CheckpointModes& modes);

// The whole main() of a training program: inside run_main (errors reported, the exit
// status returned), the program's flags parsed from the command line (--help: shown,
// and nothing else), then run_program_mode.
int run_training_program(const std::string& program, int argc, char** argv, Flags (*program_flags)(),
                         const std::function<int(Flags& flags)>& train, CheckpointModes (*modes)());

}  // namespace ta::examples
