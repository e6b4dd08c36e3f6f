// examples/common/training_run.h — one training run of an example program, as
// named steps that both programs take in the same order:
//
//   TrainingRun run(flags, outputs, may_change);  // --out checked: a new run, an overwritten
//                                                 // one, or a resumed one (its flags taken back)
//   run.restore(trainer);                         // resuming: the checkpoint, or the previous one
//   RunEnd end = run.train(job);                  // the loop, below
//   ... the final evaluation and files; run.exit_status(end)
//
// The loop, step by step: the learning rate, one update (job.step), the loss
// watch (loss_watch.h), the progress line, every --eval-every steps the job's
// evaluation, one log row (log.csv), every --checkpoint-every steps a checkpoint
// (run_folder.h: rotated, never written while the loss is above the watch's limit
// nor with a parameter that is not finite). It ends when the steps or the time
// limit are done (a last checkpoint), when SIGINT or SIGTERM asks (a checkpoint,
// then exit status 128 + the signal), or when the loss has blown up (exit status
// kExitDiverged). A checkpoint is good once the step after it had a healthy loss
// (the loss of step s + 1 is the first computed from the weights saved at step s):
// only a good one is kept as the previous when the next is written, and a run that
// diverges before its newest is known good sets that one aside, so the newest left
// is always a good one (or none is left).
//
// Started by mpirun or srun, every process runs the same loop on its rows of each
// batch, and every process takes the same decisions (examples/common/
// data_parallel.h): the clock and a stop asked by a signal are shared, and only
// rank 0 writes the log, the checkpoints and the messages.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "examples/common/flags.h"
#include "examples/common/loss_watch.h"
#include "examples/common/run_files.h"
#include "examples/common/run_folder.h"
#include "examples/common/trainer.h"

namespace ta::examples {

// Exit statuses of the example programs (README.md: "Runs, checkpoints and
// failures"). Stopped by a signal: 128 + the signal (SIGINT 130, SIGTERM 143).
constexpr int kExitDone = 0, kExitError = 1, kExitDiverged = 3;

enum class RunEnd { Finished, Interrupted, Diverged };

// What a program's training plugs into the loop.
class TrainingJob {
 public:
  virtual ~TrainingJob() = default;
  virtual Trainer& trainer() = 0;
  // One update on a fresh batch (through trainer().update).
  virtual StepResult step(float lr) = 0;
  // The log's columns after step, lr and train_loss: the training loss as the
  // program reports it (bits/dim, perplexity), then the periodic evaluation's.
  virtual std::vector<std::string> train_columns() const = 0;
  virtual std::vector<std::string> eval_columns() const = 0;
  virtual std::vector<std::string> train_values(double loss) const = 0;
  // The metrics of the progress line ("loss 2.310 ppl 10.07").
  virtual std::string progress_text(double loss) const = 0;
  // The periodic evaluation: prints its line, returns the values of eval_columns().
  virtual std::vector<std::string> evaluate(int64_t step) = 0;
  // The program's own checkpoint metadata, besides the flags.
  virtual Metadata metadata() const { return {}; }
};

class TrainingRun {
 public:
  // Checks --out for `start` (run_folder.h) and, resuming, takes the run's flags
  // back from its checkpoint into `flags` (run_config.h). `outputs`: the files the
  // program writes in --out besides log.csv and the checkpoints.
  TrainingRun(Flags& flags, std::vector<std::string> outputs, std::set<std::string> may_change);

  bool resuming() const { return start_ == RunStart::Resume; }
  std::string file(const std::string& name) const { return folder_.file(name); }
  const std::string& dir() const { return folder_.dir(); }

  // Resuming: loads the trainer from the newest usable checkpoint and returns its
  // metadata; otherwise returns nothing.
  Metadata restore(Trainer& trainer);
  RunEnd train(TrainingJob& job);
  // After train(): a last row of the log (the final evaluation; the training
  // columns empty), the training time of all sessions and of this one (this
  // invocation of the program), the steps this one trained, the tokens per second
  // of this one.
  void log_final(TrainingJob& job, const std::vector<std::string>& eval_values);
  double training_seconds() const { return elapsed_before_ + session_seconds_; }
  double session_seconds() const { return session_seconds_; }
  int64_t session_steps() const { return session_steps_; }
  double tokens_per_second() const;
  // "after 2000 steps (1000 in this invocation) and 7m10s of training (3m31s in this
  // invocation)"; a session that trained nothing says so.
  std::string time_report() const;
  int exit_status(RunEnd end) const;

 private:
  std::optional<RunEnd> after_step(TrainingJob& job, int64_t step, LossWatch::Verdict verdict);
  void save_checkpoint(TrainingJob& job, int64_t step);
  RunEnd stop(RunEnd end, int64_t step);
  std::string newest_checkpoint() const;
  double elapsed() const;
  double shared_elapsed() const;  // a collective: every process calls it

  Flags& flags_;
  RunStart start_;
  RunFolder folder_;
  LossWatch watch_;
  std::unique_ptr<CsvLog> log_;
  double elapsed_before_ = 0, session_seconds_ = 0;
  int64_t session_tokens_ = 0, session_steps_ = 0, saved_step_ = -1, resumed_step_ = 0;
  int64_t vouching_step_ = -1;  // the step whose loss tells whether the newest checkpoint is good
  bool newest_good_ = false;  // the step after the newest checkpoint had a healthy loss
  bool held_back_noted_ = false;
  bool state_finite_ = true;
  int stopped_by_ = 0;  // the signal that stopped the run on any process
  std::string finite_problem_;
  std::chrono::steady_clock::time_point session_start_;
};

// The training time in a run's summary.json: wall_s (all sessions), session_s
// and session_steps (this one).
void add_training_time(JsonSummary& summary, const TrainingRun& run);

// main() of an example program: runs `body` and returns its status; an exception
// is printed as "PROGRAM: error: ..." and the status is kExitError. Started by
// mpirun or srun, it is one of several processes (data_parallel.h: Processes),
// and an exception on any of them ends them all with its message.
// A file-size limit (ulimit -f) is an error like a full disk: SIGXFSZ is ignored,
// so the write that crosses it fails and says so.
int run_main(const std::string& program, const std::function<int()>& body);

}  // namespace ta::examples
