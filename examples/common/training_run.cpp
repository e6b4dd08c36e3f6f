#include "examples/common/training_run.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>

#include "core/error.h"
#include "examples/common/data_parallel.h"
#include "examples/common/progress.h"
#include "examples/common/run_config.h"
#include "examples/common/shared_flags.h"
#include "examples/common/stop_signals.h"
#include "layers/finite_check.h"

namespace ta::examples {

namespace {

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The shortest text that reads back as the same double.
std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

// Of several processes, rank 0 alone checks a new run's folder (it alone writes
// there, and may have begun to), while every process reads a resumed run's
// checkpoint (examples/common/data_parallel.h).
TrainingRun::TrainingRun(Flags& flags, std::vector<std::string> outputs, std::set<std::string> may_change)
    : flags_(flags), start_(run_start(flags)), folder_(flags.str("out"), concat({"log.csv"}, outputs)) {
  if (dist::is_root() || resuming()) folder_.check(start_);
  if (resuming()) {
    const StoredCheckpoint stored = folder_.stored();
    restore_run_config(flags, for_these_processes(stored.metadata, stored.path), may_change, stored.path);
  }
  if (flags.str("device") == "cuda" && dist::world_size() > 1) dist::bind_local_gpu();
}

Metadata TrainingRun::restore(Trainer& trainer) {
  if (!resuming()) return {};
  const StoredCheckpoint loaded = folder_.load([&](const std::string& path) { return trainer.load(path); });
  double elapsed = 0;
  if (const auto it = loaded.metadata.find("elapsed_s"); it != loaded.metadata.end())
    if (parse_finite_number(it->second, elapsed) && elapsed >= 0) elapsed_before_ = elapsed;
  watch_.restore(loaded.metadata);
  resumed_step_ = saved_step_ = trainer.steps_done();
  // The next step's loss tells whether the newest is good, unless what was loaded
  // is the previous one (the newest is damaged: never kept).
  vouching_step_ = loaded.path == folder_.checkpoint() ? saved_step_ + 1 : -1;
  std::printf("resumed from %s at step %lld (%s of training so far)\n", loaded.path.c_str(),
              static_cast<long long>(trainer.steps_done()), format_duration(elapsed_before_).c_str());
  return loaded.metadata;
}

double TrainingRun::elapsed() const {
  return elapsed_before_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start_).count();
}

// The clock that decides the learning rate and the end of training: rank 0's, on
// every process.
double TrainingRun::shared_elapsed() const { return rank0_value(elapsed()); }

RunEnd TrainingRun::train(TrainingJob& job) {
  Trainer& t = job.trainer();
  if (dist::is_root()) folder_.prepare(start_);
  const StopSignals stop_signals;
  if (dist::is_root())
    log_ = std::make_unique<CsvLog>(
        folder_.file("log.csv"),
        concat(concat(concat({"step", "lr", "train_loss"}, job.train_columns()), job.eval_columns()),
               {"tokens_per_s", "elapsed_s", "session_s"}),
        resuming() ? LogStart::Continue : LogStart::Fresh, resumed_step_);
  if (const std::string parallel = t.parallel.description(t.options.batch); !parallel.empty())
    std::printf("%s\n", parallel.c_str());
  if (t.steps_done() >= t.options.steps)
    std::printf("the checkpoint is at step %lld of %lld: this invocation trains no steps\n",
                static_cast<long long>(t.steps_done()), static_cast<long long>(t.options.steps));
  Progress progress(t.options.steps, t.steps_done());
  if (t.options.time_limit_s > 0) progress.set_time_limit(t.options.time_limit_s - elapsed_before_);
  progress.set_time_before(elapsed_before_);
  session_start_ = std::chrono::steady_clock::now();
  for (double now = shared_elapsed(); !t.finished(now); now = shared_elapsed()) {
    const int64_t step = t.steps_done() + 1;
    try {
      const float lr = t.lr(now);
      const StepResult r = job.step(lr);
      session_tokens_ += r.tokens;
      ++session_steps_;
      const LossWatch::Verdict verdict = watch_.observe(step, r.loss, r.grad_norm);
      if (step == vouching_step_) newest_good_ = verdict == LossWatch::Verdict::Healthy;
      if (verdict == LossWatch::Verdict::Healthy) held_back_noted_ = false;
      if (dist::is_root()) progress.update(step, job.progress_text(r.loss), r.tokens);
      std::vector<std::string> eval(job.eval_columns().size());
      if (verdict == LossWatch::Verdict::Healthy && step % flags_.integer("eval-every") == 0 &&
          !t.finished(shared_elapsed())) {
        progress.finish_line();
        eval = job.evaluate(step);
      }
      session_seconds_ = elapsed() - elapsed_before_;
      if (log_)
        log_->row(concat(concat(concat({std::to_string(step), fmt(lr), fmt(r.loss)}, job.train_values(r.loss)), eval),
                         {fmt(tokens_per_second()), fmt(training_seconds()), fmt(session_seconds_)}));
      if (const std::optional<RunEnd> end = after_step(job, step, verdict)) {
        progress.finish_line();
        return stop(*end, step);
      }
    } catch (const NonFiniteError& e) {
      // --check-inputs found a NaN or inf in a forward pass: in one process the run
      // ends as diverged, like a NaN loss (in several, the error ends them all).
      if (dist::world_size() > 1) throw;
      progress.finish_line();
      state_finite_ = false;
      finite_problem_ = e.what();
      return stop(RunEnd::Diverged, step);
    }
  }
  progress.finish_line();
  session_seconds_ = elapsed() - elapsed_before_;
  if (watch_.at_end() == LossWatch::Verdict::Diverged) return stop(RunEnd::Diverged, t.steps_done());
  if (saved_step_ != t.steps_done()) save_checkpoint(job, t.steps_done());
  if (!state_finite_) return stop(RunEnd::Diverged, t.steps_done());
  if (t.steps_done() < t.options.steps)
    std::printf("time limit of %s reached after %lld of %lld steps\n", format_duration(t.options.time_limit_s).c_str(),
                static_cast<long long>(t.steps_done()), static_cast<long long>(t.options.steps));
  return RunEnd::Finished;
}

// After a step's log row: the checkpoint when one is due or a signal asked, and
// whether the run stops here.
std::optional<RunEnd> TrainingRun::after_step(TrainingJob& job, int64_t step, LossWatch::Verdict verdict) {
  if (verdict == LossWatch::Verdict::Diverged) return RunEnd::Diverged;
  stopped_by_ = stop_signal_of_any_process();
  if (step % flags_.integer("checkpoint-every") == 0 || stopped_by_ != 0) save_checkpoint(job, step);
  if (!state_finite_) return RunEnd::Diverged;
  if (stopped_by_ != 0) return RunEnd::Interrupted;
  return std::nullopt;
}

// A checkpoint of the trainer at `step`, unless the loss is above the watch's limit
// or a value is not finite: then the last checkpoint stays the newest.
void TrainingRun::save_checkpoint(TrainingJob& job, int64_t step) {
  if (watch_.above_limit()) {
    if (!held_back_noted_)
      std::fprintf(stderr, "\nnote: no checkpoints while %s\n", watch_.diagnosis().c_str());
    held_back_noted_ = true;
    return;
  }
  try {
    check_finite(job.trainer());
  } catch (const Error& e) {
    state_finite_ = false;
    finite_problem_ = e.what();
    return;
  }
  Metadata meta = run_config(flags_);
  for (const auto& [key, value] : job.metadata()) meta[key] = value;
  meta["elapsed_s"] = exact(training_seconds());
  watch_.store(meta);
  if (dist::is_root())
    folder_.save([&](const std::string& path) { job.trainer().save(path, meta); },
                 newest_good_ ? Rotation::KeepAsPrevious : Rotation::Replace);
  saved_step_ = step;
  newest_good_ = false;  // until the loss of the next step says so
  vouching_step_ = step + 1;
}

// The message of a run that stops before its end, and its end.
RunEnd TrainingRun::stop(RunEnd end, int64_t step) {
  if (!dist::is_root()) return end;  // the files and messages are rank 0's
  const char* program = flags_.program().c_str();
  if (end == RunEnd::Interrupted) {
    std::fprintf(stderr, "%s: stopped by %s at step %lld: %s; continue with: %s --resume --out %s\n", program,
                 strsignal(stopped_by_), static_cast<long long>(step), newest_checkpoint().c_str(), program,
                 folder_.dir().c_str());
    return end;
  }
  const std::string why = state_finite_ ? watch_.diagnosis() : finite_problem_ + " at step " + std::to_string(step);
  std::fprintf(stderr, "\n%s: diverged at step %lld: %s.\n", program, static_cast<long long>(step), why.c_str());
  if (saved_step_ >= 0 && !newest_good_ && file_exists(folder_.checkpoint())) {
    const bool left = folder_.set_aside_newest();
    std::fprintf(stderr, "%s: the checkpoint of step %lld holds the weights that blew up: set aside as %s%s\n", program,
                 static_cast<long long>(saved_step_), folder_.diverged_checkpoint().c_str(),
                 left ? "; the previous checkpoint is the newest again" : "");
  }
  std::fprintf(stderr, "%s: %s\n", program, newest_checkpoint().c_str());
  if (file_exists(folder_.checkpoint()))
    std::fprintf(stderr, "%s: to continue from it at a lower learning rate: %s --resume --out %s --lr %s\n", program,
                 program, folder_.dir().c_str(), fmt(flags_.number("lr") / 10).c_str());
  return end;
}

// What --resume would continue from, in words.
std::string TrainingRun::newest_checkpoint() const {
  if (!file_exists(folder_.checkpoint())) return "no checkpoint of this run is left to resume from";
  Metadata meta;
  try {
    meta = read_safetensors_metadata(folder_.checkpoint());
  } catch (const Error&) {
  }
  return cat("the newest checkpoint, ", folder_.checkpoint(), ", is of step ", meta.count("step") ? meta["step"] : "?");
}

void TrainingRun::log_final(TrainingJob& job, const std::vector<std::string>& eval_values) {
  if (!log_) return;  // rank 0's
  const std::vector<std::string> blanks(job.train_columns().size());
  log_->row(concat(concat(concat({std::to_string(job.trainer().steps_done()), "", ""}, blanks), eval_values),
                   {"", fmt(training_seconds()), fmt(session_seconds_)}));
}

std::string TrainingRun::time_report() const {
  const int64_t steps = resumed_step_ + session_steps_;
  const std::string all = format_duration(training_seconds()), session = format_duration(session_seconds_);
  if (session_steps_ == 0)
    return cat("after ", steps, " steps and ", all, " of training, all in earlier invocations (this one trained no steps)");
  if (!resuming()) return cat("after ", steps, " steps in ", all, " of training");
  return cat("after ", steps, " steps (", session_steps_, " in this invocation) and ", all, " of training (", session,
             " in this invocation)");
}

void add_training_time(JsonSummary& summary, const TrainingRun& run) {
  summary.set("wall_s", run.training_seconds());
  summary.set("session_s", run.session_seconds());
  summary.set("session_steps", static_cast<double>(run.session_steps()));
}

double TrainingRun::tokens_per_second() const {
  return session_seconds_ > 0 ? static_cast<double>(session_tokens_) / session_seconds_ : 0.0;
}

int TrainingRun::exit_status(RunEnd end) const {
  switch (end) {
    case RunEnd::Finished: return kExitDone;
    case RunEnd::Interrupted: return 128 + stopped_by_;
    case RunEnd::Diverged: return kExitDiverged;
  }
  return kExitError;
}

int run_main(const std::string& program, const std::function<int()>& body) {
  std::signal(SIGXFSZ, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines in order with the progress and errors on stderr
  std::optional<Processes> processes;  // started by mpirun or srun: one of several; alive in the catch
  try {
    processes.emplace();
    return body();
  } catch (const std::exception& e) {
    return end_with_error(program, e.what());
  }
}

}  // namespace ta::examples
