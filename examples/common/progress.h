// examples/common/progress.h — a one-line progress bar for training runs.
//
// On a terminal the line is redrawn in place (carriage return); when the output is
// a file or a pipe, a plain line is printed every `every` updates instead, so logs
// stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ta::examples {

class Progress {
 public:
  Progress(int64_t total_steps, int64_t first_step = 0, int64_t every = 10);
  // Shows step/total, a bar, the caller's metrics text, the rate in tokens per
  // second, the elapsed time (of this session, and of the run when resumed) and an
  // estimate of the time left.
  void update(int64_t step, const std::string& metrics, int64_t tokens_this_step);
  // A run that also stops after `seconds` (from this object's start): the time
  // left shown is then at most what remains of it.
  void set_time_limit(double seconds) { time_limit_ = seconds; }
  // A resumed run: the training time of its earlier sessions. The line then gives
  // this session's time and the whole run's.
  void set_time_before(double seconds) { time_before_ = seconds; }
  // Ends the in-place line so that other output can follow.
  void finish_line();
  double elapsed_seconds() const;

 private:
  int64_t total_, first_, every_, updates_ = 0;
  bool tty_;
  bool line_open_ = false;
  double tokens_per_second_ = 0.0;
  double time_limit_ = 0.0;  // 0: none
  double time_before_ = 0.0;
  std::chrono::steady_clock::time_point start_, last_;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace ta::examples
