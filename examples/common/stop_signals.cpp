#include "examples/common/stop_signals.h"

#include <unistd.h>

#include <csignal>

namespace ta::examples {

namespace {

volatile std::sig_atomic_t first_signal = 0;

// Only async-signal-safe calls here: write and _exit.
void on_stop_signal(int signal) {
  if (first_signal != 0) _exit(128 + signal);
  first_signal = signal;
  constexpr char kNote[] = "\nstopping at the end of this step, after saving a checkpoint (a second signal exits at once)\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, kNote, sizeof kNote - 1);
}

void handle(void (*handler)(int)) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // reads and writes in progress go on
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace

StopSignals::StopSignals() { handle(on_stop_signal); }

StopSignals::~StopSignals() { handle(SIG_DFL); }

int stop_signal() { return first_signal; }

}  // namespace ta::examples
