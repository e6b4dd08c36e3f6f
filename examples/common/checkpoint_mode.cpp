#include "examples/common/checkpoint_mode.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "examples/common/run_config.h"
#include "examples/common/run_folder.h"
#include "examples/common/shared_flags.h"
#include "examples/common/training_run.h"
#include "layers/training_checkpoint.h"

namespace ta::examples {

namespace {

const std::string kFlagPrefix = "flag.";

bool is_folder(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The checkpoint a mode's flag names: the file, or the newest checkpoint of a run's folder.
std::string checkpoint_file(const std::string& flag, const std::string& given) {
  TA_CHECK(!given.empty(), flag, ": expected the path of a checkpoint (or of a run's folder), got ''");
  const std::string path = is_folder(given) ? RunFolder(given, {}).checkpoint() : given;
  TA_CHECK(file_exists(path), flag, ": no checkpoint at '", path, "'");
  return path;
}

// The run flags `metadata` stores that `flags` does not declare: a checkpoint of
// another program.
std::vector<std::string> foreign_flags(const Flags& flags, const Metadata& metadata) {
  std::vector<std::string> foreign;
  for (const auto& [key, value] : metadata)
    if (key.starts_with(kFlagPrefix) && !flags.has(key.substr(kFlagPrefix.size())))
      foreign.push_back("--" + key.substr(kFlagPrefix.size()));
  return foreign;
}

}  // namespace

void add_checkpoint_mode_flags(Flags& f, const std::string& output_help) {
  f.begin_section("using a checkpoint (no training)");
  f.add(checkpoint_mode_flag(text_flag("evaluate", "",
                                       "score the model of this checkpoint (or run folder) on the test split, with its "
                                       "stored configuration; writes the figures as JSON to --output")));
  f.add(checkpoint_mode_flag(text_flag("sample-from", "",
                                       "draw from the model of this checkpoint (or run folder), with its stored "
                                       "configuration; writes to --output")));
  f.add(checkpoint_mode_flag(text_flag("output", "", output_help)));
}

std::string mode_flag(ProgramMode mode) {
  switch (mode) {
    case ProgramMode::Evaluate: return "--evaluate";
    case ProgramMode::Sample: return "--sample-from";
    case ProgramMode::Train: break;
  }
  return "training";
}

ProgramMode program_mode(const Flags& f) {
  TA_CHECK(!(f.given("evaluate") && f.given("sample-from")),
           "--evaluate and --sample-from are two modes: give one of them");
  if (f.given("evaluate")) return ProgramMode::Evaluate;
  if (f.given("sample-from")) return ProgramMode::Sample;
  for (const FlagSpec& s : f.specs())
    TA_CHECK(!(s.use == FlagUse::CheckpointMode && f.given(s.name)), "--", s.name,
             " is read by --evaluate and --sample-from only; a training run writes everything into --out");
  return ProgramMode::Train;
}

ModelCheckpoint open_model_checkpoint(Flags& flags, ProgramMode mode, const std::set<std::string>& reads) {
  const std::string flag = mode_flag(mode);
  TA_CHECK(mode != ProgramMode::Train, "open_model_checkpoint: training reads no checkpoint this way");
  ModelCheckpoint c;
  c.path = checkpoint_file(flag, flags.str(mode == ProgramMode::Evaluate ? "evaluate" : "sample-from"));
  try {
    c.metadata = read_safetensors_metadata(c.path);
  } catch (const Error& e) {
    throw Error(cat(flag, ": cannot read the checkpoint '", c.path, "': ", e.what()));
  }
  int64_t step = 0;
  TA_CHECK(c.metadata.count("step") && parse_whole_number(c.metadata.at("step"), step) && step >= 0, flag, ": '",
           c.path, "' is not a training checkpoint (its metadata has no step)");
  c.step = step;
  TA_CHECK(c.metadata.count(kFlagPrefix + "attention"), flag, ": '", c.path,
           "' stores no run configuration (no flag.attention in its metadata): not a checkpoint of ", flags.program());
  const std::vector<std::string> foreign = foreign_flags(flags, c.metadata);
  TA_CHECK(foreign.empty(), flag, ": '", c.path, "' stores ", join(foreign, ", "), ", which ", flags.program(),
           " does not have: a checkpoint of another program?");

  std::set<std::string> readable = reads;
  readable.insert({"output", "threads", "device", mode == ProgramMode::Evaluate ? "evaluate" : "sample-from"});
  std::vector<std::string> allowed;
  for (const std::string& name : readable) allowed.push_back("--" + name);
  for (const FlagSpec& s : flags.specs()) {
    const bool never_stored = unstored_flags().count(s.name) || s.use == FlagUse::CheckpointMode;
    TA_CHECK(!(flags.given(s.name) && never_stored && !readable.count(s.name)), "--", s.name, " is not read by ", flag,
             ", which reads only ", join(allowed, ", "));
  }
  const std::vector<std::string> conflicts = take_run_config(flags, c.metadata, readable, c.path).conflicts;
  TA_CHECK(conflicts.empty(), flag, ": the model of ", c.path, " was trained with other flags: ", join(conflicts, ", "),
           ". ", flag, " takes the model and its configuration from the checkpoint and reads only ", join(allowed, ", "),
           " (leave the others out)");
  return c;
}

std::string output_path(const Flags& flags, const ModelCheckpoint& c, const std::string& what) {
  if (!flags.str("output").empty()) return flags.str("output");
  namespace fs = std::filesystem;
  // The folder as given ("runs/x"), or, when that has no name of its own (".", ".."
  // or none), as the file system knows it.
  fs::path folder = fs::path(c.path).lexically_normal().parent_path();
  const std::string last = folder.filename().string();
  if (last.empty() || last == "." || last == "..") folder = fs::weakly_canonical(fs::absolute(c.path)).parent_path();
  const std::string name = folder.filename().empty() ? "checkpoint" : folder.filename().string();
  return (folder.parent_path() / (name + "-step" + std::to_string(c.step) + "-" + what)).string();
}

int run_program_mode(Flags& flags, const std::function<int(Flags& flags)>& train, const CheckpointModes& modes) {
  const ProgramMode mode = program_mode(flags);
  if (mode == ProgramMode::Train) return train(flags);
  const bool evaluate = mode == ProgramMode::Evaluate;
  const ModelCheckpoint checkpoint = open_model_checkpoint(flags, mode, evaluate ? modes.evaluate_reads : modes.sample_reads);
  apply_threads(flags);
  const std::string output = output_path(flags, checkpoint, evaluate ? modes.evaluate_output : modes.sample_output);
  const std::shared_ptr<TransformerLM> model = modes.build(flags);
  load_training_checkpoint_model(checkpoint.path, *model);
  std::printf("loaded %s: the model of step %lld (%s attention, %lld parameters)\n", checkpoint.path.c_str(),
              static_cast<long long>(checkpoint.step), flags.str("attention").c_str(),
              static_cast<long long>(model->parameter_count()));
  (evaluate ? modes.evaluate : modes.sample)(flags, checkpoint, *model, output);
  return kExitDone;
}

int run_training_program(const std::string& program, int argc, char** argv, Flags (*program_flags)(),
                         const std::function<int(Flags& flags)>& train, CheckpointModes (*modes)()) {
  return run_main(program, [&] {
    Flags flags = program_flags();
    if (flags.parse(argc, argv) == ParseResult::HelpShown) return kExitDone;
    return run_program_mode(flags, train, modes());
  });
}

}  // namespace ta::examples
