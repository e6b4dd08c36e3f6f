// examples/common/run_folder.h — the folder a training run lives in (--out) and
// its checkpoints.
//
// A folder that holds a run's files is never overwritten by accident: a new run
// there is refused unless the user says --overwrite (which removes the earlier
// run's files first, so nothing of it survives to be mistaken for this one's) or
// --resume (which continues it).
//
// Checkpoints rotate: checkpoint.safetensors is the newest, and the one it
// replaced stays as checkpoint.previous.safetensors (when the run knows it good).
// Each is written whole and renamed into place (layers/safetensors.h), and the
// newest is linked to the previous name before the new one replaces it, so at
// every moment both names hold complete checkpoints. Resuming reads the newest and, when it cannot be
// loaded (damaged, or from a run that went wrong), the previous one, saying why.
// A run that diverges right after a checkpoint sets that checkpoint aside as
// checkpoint.diverged.safetensors (its weights are the ones that blew up) and
// makes the previous one the newest again.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "layers/safetensors.h"

namespace ta::examples {

enum class RunStart { New, Overwrite, Resume };

// What a new checkpoint does with the current newest: keeps it as the previous, or
// replaces it (one that is damaged or not known good).
enum class Rotation { KeepAsPrevious, Replace };

struct StoredCheckpoint {
  std::string path;
  Metadata metadata;
};

class RunFolder {
 public:
  // `outputs`: the names of the files the program writes there besides the
  // checkpoints (log.csv, summary.json, ...).
  RunFolder(std::string dir, std::vector<std::string> outputs);

  const std::string& dir() const { return dir_; }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  std::string checkpoint() const { return file("checkpoint.safetensors"); }
  std::string previous_checkpoint() const { return file("checkpoint.previous.safetensors"); }
  std::string diverged_checkpoint() const { return file("checkpoint.diverged.safetensors"); }

  // Whether the folder fits `start`, changing nothing: New refuses a folder that
  // holds a run, Resume requires a checkpoint there.
  void check(RunStart start) const;
  // Before the run writes: creates the folder; Overwrite removes the earlier
  // run's files.
  void prepare(RunStart start) const;

  // The metadata of the newest checkpoint that can be read, else of the previous
  // one (with a warning on stderr); an Error naming both when neither can.
  StoredCheckpoint stored() const;
  // Calls `load` on the checkpoint stored() chose; when that fails and the
  // previous checkpoint exists, on that one (with a warning). Returns the path
  // loaded and what `load` returned.
  StoredCheckpoint load(const std::function<Metadata(const std::string& path)>& load) const;
  // Writes a new checkpoint with `write(path)`.
  void save(const std::function<void(const std::string& path)>& write, Rotation rotation) const;
  // Renames the newest checkpoint to diverged_checkpoint() and the previous one,
  // if any, to the newest; at every moment a resume finds a checkpoint that was
  // not set aside. Returns whether a checkpoint remains.
  bool set_aside_newest() const;

 private:
  std::vector<std::string> run_files() const;  // outputs and checkpoints, as paths
  std::string dir_;
  std::vector<std::string> outputs_;
};

// Creates the folder and its parents if missing; throws naming it on failure.
void make_dirs(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace ta::examples
