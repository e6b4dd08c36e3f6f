#include "examples/common/stop_signals.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace ta::examples {

namespace {

// Lock-free, so safe in a handler; one exchange, so two signals handled at once on
// two threads still count as two.
std::atomic<int> first_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

// Only async-signal-safe calls here: write and _exit.
void on_stop_signal(int signal) {
  int none = 0;
  if (!first_signal.compare_exchange_strong(none, signal)) _exit(128 + signal);
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

int stop_signal() { return first_signal.load(); }

}  // namespace ta::examples
