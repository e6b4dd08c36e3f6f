// tests/examples/program_testing.h — running the example programs themselves in
// tests: the binaries next to the test binary (`make test` builds them first), in
// a child process, with tiny settings; their exit status, output and files.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "layers/safetensors.h"

namespace ta::testing {

// The folder of the running test binary: build/ or build-asan/.
inline std::filesystem::path build_folder() { return std::filesystem::read_symlink("/proc/self/exe").parent_path(); }

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline nlohmann::json read_json(const std::filesystem::path& path) { return nlohmann::json::parse(read_text(path)); }

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline size_t line_count(const std::filesystem::path& path) {
  const std::string text = read_text(path);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// `base` with the flags of `more` set: a flag that `base` has takes the new value,
// others are added. "--name value" pairs and bare switches ("--resume").
inline std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& more) {
  for (size_t i = 0; i < more.size(); ++i) {
    const bool has_value = i + 1 < more.size() && more[i + 1].rfind("--", 0) != 0;
    const auto at = std::find(base.begin(), base.end(), more[i]);
    if (at != base.end() && has_value && at + 1 != base.end()) {
      *(at + 1) = more[i + 1];
    } else if (at == base.end()) {
      base.push_back(more[i]);
      if (has_value) base.push_back(more[i + 1]);
    }
    if (has_value) ++i;
  }
  return base;
}

// Tiny runs of each program: a one-layer model of width 8 that takes milliseconds a
// step, evaluations and samples cut to a minimum.
inline std::vector<std::string> tiny_protein(const std::vector<std::string>& more = {}) {
  return with({"--layers", "1", "--d-model", "8", "--heads", "1", "--max-len", "32", "--batch", "2", "--attention",
               "softmax", "--eval-seqs", "4", "--final-eval-seqs", "4", "--generate", "1", "--gen-length", "10",
               "--threads", "1"},
              more);
}

inline std::vector<std::string> tiny_cifar(const std::vector<std::string>& more = {}) {
  return with({"--layers", "1", "--d-model", "8", "--heads", "1", "--batch", "1", "--eval-images", "1",
               "--final-eval-images", "1", "--sample", "1", "--complete", "1", "--threads", "1"},
              more);
}

// The values of one column of a log, in order.
inline std::vector<std::string> log_column(const std::filesystem::path& log, const std::string& column) {
  std::istringstream in(read_text(log));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> names, values;
  std::istringstream header(line);
  for (std::string c; std::getline(header, c, ',');) names.push_back(c);
  const size_t at = std::find(names.begin(), names.end(), column) - names.begin();
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream row(line + ",");
    for (std::string c; std::getline(row, c, ',');) cells.push_back(c);
    values.push_back(at < cells.size() ? cells[at] : "");
  }
  return values;
}

// The tensors of a checkpoint as vectors, and its step.
inline std::map<std::string, std::vector<float>> tensors_of(const std::filesystem::path& checkpoint) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, t] : read_safetensors(checkpoint.string()).tensors) out[name] = t.to_vector();
  return out;
}

inline std::string step_of(const std::filesystem::path& checkpoint) {
  return read_safetensors_metadata(checkpoint.string()).at("step");
}

// Limits of a program's process.
struct Limits {
  long file_size = -1;  // RLIMIT_FSIZE in bytes (-1: none)
};

// One run of a program in a child process; stdout and stderr go to files.
class ProgramRun {
 public:

  ProgramRun(const std::string& program, const std::vector<std::string>& args, const std::filesystem::path& logs,
             Limits limits = {})
      : ProgramRun(command_line(program_path(program), args), program, logs, limits) {}
  // Any command: command[0] is looked up on the PATH (mpirun, say); `name` names
  // the output files.
  ProgramRun(const std::vector<std::string>& command, const std::string& name, const std::filesystem::path& logs,
             Limits limits = {}) {
    static int runs = 0;  // each run its own output files
    const std::string file = name + "." + std::to_string(runs++);
    out_ = logs / (file + ".out");
    err_ = logs / (file + ".err");
    std::vector<char*> argv;  // made before fork: the child only makes async-signal-safe calls
    for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const std::string out = out_.string(), err = err_.string();
    pid_ = ::fork();
    TA_CHECK(pid_ >= 0, "fork failed");
    if (pid_ == 0) exec(argv.data(), out.c_str(), err.c_str(), limits);
  }
  ~ProgramRun() {
    if (!done_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  ProgramRun(const ProgramRun&) = delete;
  ProgramRun& operator=(const ProgramRun&) = delete;

  // The full path of a program next to the test binary.
  static std::string program_path(const std::string& program) {
    const std::filesystem::path binary = build_folder() / program;
    TA_CHECK(std::filesystem::exists(binary), binary.string(), " is missing: `make test` builds it before the tests");
    return binary.string();
  }
  static std::vector<std::string> command_line(const std::string& binary, const std::vector<std::string>& args) {
    std::vector<std::string> all = {binary};
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }

  pid_t pid() const { return pid_; }
  // Waits for the end; returns the exit status (128 + the signal when a signal ended it).
  int wait() {
    if (!done_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      killed_by_signal_ = WIFSIGNALED(status);
      done_ = true;
    }
    return status_;
  }
  bool killed_by_signal() { return wait(), killed_by_signal_; }
  void signal(int sig) const { ::kill(pid_, sig); }
  // Waits until `condition()` holds (true) or the program ends (false).
  bool wait_until(const std::function<bool()>& condition) {
    while (!condition()) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        killed_by_signal_ = WIFSIGNALED(status);
        done_ = true;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  // Waits until `path` has at least `lines` lines, or the program ends (false).
  bool wait_for_lines(const std::filesystem::path& path, size_t lines) {
    return wait_until([&] { return line_count(path) >= lines; });
  }
  std::string out() const { return read_text(out_); }
  std::string err() const { return read_text(err_); }

 private:
  [[noreturn]] static void exec(char* const* argv, const char* out, const char* err, Limits limits) {
    const int out_fd = ::open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), err_fd = ::open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out_fd < 0 || err_fd < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ::_exit(126);
    if (limits.file_size >= 0) {
      const rlimit r{static_cast<rlim_t>(limits.file_size), static_cast<rlim_t>(limits.file_size)};
      ::setrlimit(RLIMIT_FSIZE, &r);
    }
    ::execvp(argv[0], argv);
    ::_exit(127);
  }
  pid_t pid_ = -1;
  int status_ = -1;
  bool done_ = false, killed_by_signal_ = false;
  std::filesystem::path out_, err_;
};

// A small tmpfs mounted for a test, to fill up: a disk that is really full. Only
// root may mount; mounted() says whether it worked.
class SmallDisk {
 public:
  explicit SmallDisk(const std::filesystem::path& at, const std::string& size = "1m") : at_(at) {
    std::filesystem::create_directories(at_);
    mounted_ = ::mount("tmpfs", at_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return mounted_; }
  // Writes a filler file until the disk refuses another byte.
  void fill() const {
    const int fd = ::open((at_ / "filler").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    TA_CHECK(fd >= 0, "cannot create the filler file");
    const std::vector<char> page(4096, 'x');
    while (::write(fd, page.data(), page.size()) > 0) {
    }
    while (::write(fd, page.data(), 1) > 0) {
    }
    ::close(fd);
  }

 private:
  std::filesystem::path at_;
  bool mounted_ = false;
};

// While one lives, this process may not write a file beyond `bytes` (RLIMIT_FSIZE,
// soft limit); the write that would is refused with EFBIG (SIGXFSZ ignored).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    const rlimit r{bytes, old_.rlim_max};
    ::setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

// Runs a program to its end; returns the exit status.
inline int run_program(const std::string& program, const std::vector<std::string>& args,
                       const std::filesystem::path& logs, std::string* err = nullptr, Limits limits = {}) {
  ProgramRun run(program, args, logs, limits);
  const int status = run.wait();
  if (err) *err = run.err();
  return status;
}

}  // namespace ta::testing
