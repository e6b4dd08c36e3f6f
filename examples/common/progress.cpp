#include "examples/common/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace ta::examples {

std::string format_duration(double s) {
  char buf[32];
  const long t = static_cast<long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

Progress::Progress(int64_t total, int64_t first, int64_t every)
    : total_(total), first_(first), every_(every), tty_(isatty(fileno(stderr))) {
  start_ = last_ = std::chrono::steady_clock::now();
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(int64_t step, const std::string& metrics, int64_t tokens) {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  if (dt > 0) {  // smoothed tokens per second
    const double rate = tokens / dt;
    tokens_per_second_ = updates_ == 0 ? rate : 0.9 * tokens_per_second_ + 0.1 * rate;
  }
  ++updates_;
  const double elapsed = elapsed_seconds();
  const int64_t done = step - first_;
  double left = done > 0 ? elapsed / done * (total_ - step) : 0.0;
  if (time_limit_ > 0) left = std::max(0.0, std::min(left, time_limit_ - elapsed));
  const int width = 24, filled = total_ > 0 ? static_cast<int>(width * step / total_) : width;
  std::string bar(filled, '#');
  bar.resize(width, '.');
  const std::string time = time_before_ > 0 ? format_duration(elapsed) + " this session, " +
                                                  format_duration(time_before_ + elapsed) + " in all"
                                            : format_duration(elapsed) + " elapsed";
  char line[512];
  std::snprintf(line, sizeof line, "step %lld/%lld [%s] %s | %.0f tok/s | %s, %s left", static_cast<long long>(step),
                static_cast<long long>(total_), bar.c_str(), metrics.c_str(), tokens_per_second_, time.c_str(),
                format_duration(left).c_str());
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K", line);
    line_open_ = true;
  } else if (updates_ % every_ == 0 || step == total_) {
    std::fprintf(stderr, "%s\n", line);
  }
  std::fflush(stderr);
}

void Progress::finish_line() {
  if (line_open_) std::fprintf(stderr, "\n");
  line_open_ = false;
}

}  // namespace ta::examples
