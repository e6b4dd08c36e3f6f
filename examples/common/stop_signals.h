// examples/common/stop_signals.h — stopping a run from outside without losing it.
//
// SIGINT (Ctrl-C) and SIGTERM (what `kill`, job schedulers and containers send)
// both ask the run to stop: the training loop sees stop_signal() at the end of the
// step it is in, saves a checkpoint and exits with status 128 + the signal (130,
// 143). A second signal exits at once with the same status: a checkpoint being
// written then is left as its temporary file, and the last complete one stays
// (checkpoints are renamed into place, layers/safetensors.h).
#pragma once

namespace ta::examples {

// While one lives, SIGINT and SIGTERM ask the run to stop (training); before and
// after, they end the program at once as usual (nothing then is lost: the final
// checkpoint is written before it goes).
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};

// 0, or the signal that asked the run to stop.
int stop_signal();

}  // namespace ta::examples
