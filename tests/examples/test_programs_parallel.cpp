// tests/examples/test_programs_parallel.cpp — the example programs started by
// mpirun as several processes (examples/common/data_parallel.h), the real binaries
// with tiny models: 2 processes of --batch B train and log like 1 process of
// --batch 2B; only rank 0 prints and writes files; a stop asked on one process
// stops all after the same step; a run resumes with the same number of processes,
// with another that divides its global batch, and is refused with one that does
// not; an error on one process ends both with its message instead of hanging.
//
// Skipped, saying so, in a build without MPI or where mpirun is missing.
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "distributed/world.h"
#include "tests/examples/program_testing.h"
#include "tests/testing.h"

using namespace ta;
using namespace ta::testing;

namespace {

namespace fs = std::filesystem;

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0) return true;
  return false;
}

// True when this build has MPI and mpirun is there; otherwise says the test is skipped.
bool mpi_runs() {
  if (dist::mpi_library() == "none (single process)") {
    MESSAGE("skipped: this build has no MPI (the Makefile found no mpicxx)");
    return false;
  }
  if (!on_path("mpirun")) {
    MESSAGE("skipped: mpirun is not on the PATH");
    return false;
  }
  return true;
}

// How `make test` runs processes under mpirun: more processes than free cores
// allowed, as root too.
std::vector<std::string> mpirun() {
  std::vector<std::string> c = {"mpirun", "--oversubscribe", "--bind-to", "none"};
  if (::geteuid() == 0) c.push_back("--allow-run-as-root");
  return c;
}

// The environment of each process, given to every app context of the mpirun
// command (Open MPI's -x before the first one reaches that one only): one thread,
// and, in a sanitizer build, LeakSanitizer ignoring what Open MPI keeps until exit
// (tests/distributed/lsan_open_mpi.supp); other builds ignore those settings.
std::vector<std::string> environment() {
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string suppressions = (fs::current_path() / "tests/distributed/lsan_open_mpi.supp").string();
  const std::vector<std::string> settings = {
      "OMP_NUM_THREADS=1", "OMP_WAIT_POLICY=passive", "OMPI_MCA_mca_base_component_disable_dlclose=1",
      "ASAN_OPTIONS=fast_unwind_on_malloc=0" + std::string(asan ? ":" : "") + (asan ? asan : ""),
      "LSAN_OPTIONS=suppressions=" + suppressions + ":print_suppressions=0"};
  std::vector<std::string> flags;
  for (const std::string& e : settings) flags.insert(flags.end(), {"-x", e});
  return flags;
}

// `command` followed by `processes` copies of a program with `args`, in `dir`.
std::vector<std::string> then_ranks(std::vector<std::string> command, int processes, const fs::path& dir,
                                    const std::string& program, const std::vector<std::string>& args) {
  command.insert(command.end(), {"-np", std::to_string(processes), "--wdir", dir.string()});
  const std::vector<std::string> env = environment();
  command.insert(command.end(), env.begin(), env.end());
  command.push_back(ProgramRun::program_path(program));
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

// `processes` copies of a program with `args`, started by mpirun in the current folder.
std::vector<std::string> parallel(int processes, const std::string& program, const std::vector<std::string>& args) {
  return then_ranks(mpirun(), processes, fs::current_path(), program, args);
}

// Rank 0 in `dir0` and rank 1 in `dir1`, the same program and arguments.
std::vector<std::string> two_folders(const fs::path& dir0, const fs::path& dir1, const std::string& program,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> command = then_ranks(mpirun(), 1, dir0, program, args);
  command.push_back(":");
  return then_ranks(command, 1, dir1, program, args);
}

int run_command(const std::vector<std::string>& command, const fs::path& logs, std::string* out = nullptr,
                std::string* err = nullptr) {
  ProgramRun run(command, "mpirun", logs);
  const int status = run.wait();
  if (out) *out = run.out();
  if (err) *err = run.err();
  return status;
}

size_t occurrences(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// Two columns of numbers (empty cells where both are empty) agree to `relative`.
void check_close(const std::vector<std::string>& a, const std::vector<std::string>& b, double relative) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CAPTURE(a[i]);
    CAPTURE(b[i]);
    REQUIRE(a[i].empty() == b[i].empty());
    if (!a[i].empty()) CHECK(std::fabs(std::stod(a[i]) - std::stod(b[i])) <= relative * std::fabs(std::stod(a[i])));
  }
}

// Two checkpoints' tensors agree to `tolerance` (absolute); says the largest difference.
void check_close(const std::map<std::string, std::vector<float>>& a, const std::map<std::string, std::vector<float>>& b,
                 double tolerance) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (const auto& entry : a) {
    const std::string& name = entry.first;  // not a structured binding: clang 14 cannot capture one
    const std::vector<float>& x = entry.second;
    CAPTURE(name);
    REQUIRE(b.count(name) == 1);
    const std::vector<float>& y = b.at(name);
    REQUIRE(x.size() == y.size());
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(x[i]) - y[i]));
  }
  MESSAGE("largest difference of the checkpoints' tensors: ", worst);
  CHECK(worst <= tolerance);
}

// The processes mpirun started (its children, as it starts the ranks of this machine).
std::vector<pid_t> children_of(pid_t pid) {
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children"));
  std::vector<pid_t> out;
  for (pid_t child; in >> child;) out.push_back(child);
  return out;
}

// The float rounding of sums taken in another order (each process's rows, then
// the two processes), grown through a few Adam steps: tests/distributed/
// test_equivalence.cpp measures below 3e-6 on these models; the logs print 6 digits.
constexpr double kRelative = 2e-5, kParameters = 1e-5;

}  // namespace

TEST_CASE("programs under mpirun: 2 processes x --batch B log what 1 process x 2B logs; rank 0 alone prints and "
          "writes") {
  if (!mpi_runs()) return;
  TempDir dir("parallel_equivalence");
  const fs::path rank0 = dir.path / "rank0", rank1 = dir.path / "rank1";
  fs::create_directories(rank0);
  fs::create_directories(rank1);
  const std::string protein_data = (fs::current_path() / "examples/data/protein").string();
  const std::string cifar_data = (fs::current_path() / "examples/data/cifar10").string();
  struct Case {
    std::string program;
    std::vector<std::string> args;
    int64_t batch;
    std::vector<std::string> columns;
  };
  const std::vector<Case> cases = {
      {"protein_lm", tiny_protein({"--steps", "6", "--eval-every", "3", "--data", protein_data}), 2,
       {"train_loss", "valid_loss", "valid_acc"}},
      {"cifar_gen", tiny_cifar({"--steps", "3", "--eval-every", "2", "--eval-images", "3", "--final-eval-images", "3",
                                "--data", cifar_data}),
       1, {"train_loss", "test_bpd"}}};
  for (const Case& c : cases) {
    CAPTURE(c.program);
    const fs::path alone = dir.path / (c.program + "_alone");
    REQUIRE(run_program(c.program, with(c.args, {"--batch", std::to_string(2 * c.batch), "--out", alone.string()}),
                        dir.path) == 0);
    // Rank 0 in one folder, rank 1 in another, --out relative: whatever rank 1
    // wrote would land in its own folder.
    const std::vector<std::string> args = with(c.args, {"--batch", std::to_string(c.batch), "--out", c.program});
    std::string out, err;
    const int status = run_command(two_folders(rank0, rank1, c.program, args), dir.path, &out, &err);
    REQUIRE_MESSAGE(status == 0, out, err);
    const fs::path together = rank0 / c.program;
    for (const std::string& column : c.columns) {
      CAPTURE(column);
      check_close(log_column(alone / "log.csv", column), log_column(together / "log.csv", column), kRelative);
    }
    check_close(tensors_of(alone / "checkpoint.safetensors"), tensors_of(together / "checkpoint.safetensors"),
                kParameters);
    CHECK(read_safetensors_metadata((together / "checkpoint.safetensors").string()).at("processes") == "2");
    CHECK(fs::exists(together / "summary.json"));
    CHECK(fs::is_empty(rank1));  // rank 1 wrote nothing
    CHECK(occurrences(out, "data parallel: 2 processes") == 1);
    CHECK(occurrences(out, "done: ") == 1);  // rank 1 printed nothing
  }
}

TEST_CASE("programs under mpirun: a stop asked on one process stops both after the same step; the run resumes with "
          "2 processes, with 1, and refuses 3") {
  if (!mpi_runs()) return;
  TempDir dir("parallel_resume");
  const std::vector<std::string> flags =
      tiny_protein({"--steps", "40", "--checkpoint-every", "100", "--eval-every", "100"});
  const fs::path stopped = dir.path / "stopped", straight = dir.path / "straight", by_one = dir.path / "by_one";
  REQUIRE(run_command(parallel(2, "protein_lm", with(flags, {"--out", straight.string()})), dir.path) == 0);

  // Both processes are held (SIGSTOP) once the log has 8 rows; one of them is asked
  // to stop; both go on.
  ProgramRun run(parallel(2, "protein_lm", with(flags, {"--out", stopped.string()})), "mpirun", dir.path);
  REQUIRE_MESSAGE(run.wait_for_lines(stopped / "log.csv", 9), "the run ended before it could be stopped");
  const std::vector<pid_t> ranks = children_of(run.pid());
  REQUIRE(ranks.size() == 2);
  for (pid_t p : ranks) ::kill(p, SIGSTOP);
  ::kill(ranks.back(), SIGTERM);
  for (pid_t p : ranks) ::kill(p, SIGCONT);
  CHECK(run.wait() == 143);
  const std::string step = log_column(stopped / "log.csv", "step").back();
  CHECK_MESSAGE(run.err().find("protein_lm: stopped by Terminated at step " + step) != std::string::npos, run.err());
  CHECK(step_of(stopped / "checkpoint.safetensors") == step);
  fs::copy(stopped, by_one, fs::copy_options::recursive);

  // Refused: 3 processes cannot share the global batch of 2 x 2 rows.
  std::string out, err;
  CHECK(run_command(parallel(3, "protein_lm", {"--resume", "--out", stopped.string()}), dir.path, &out, &err) == 1);
  CHECK(err.find("was trained by 2 processes of --batch 2 (a global batch of 4 rows), and 3 processes cannot share 4 "
                 "rows equally") != std::string::npos);

  // The same number of processes: the run continues as if never stopped, bit for bit.
  REQUIRE(run_command(parallel(2, "protein_lm", {"--resume", "--out", stopped.string()}), dir.path) == 0);
  CHECK(tensors_of(stopped / "checkpoint.safetensors") == tensors_of(straight / "checkpoint.safetensors"));
  CHECK(log_column(stopped / "log.csv", "train_loss") == log_column(straight / "log.csv", "train_loss"));

  // One process takes the whole global batch (--batch 4) and trains on the same
  // batches: the same losses and weights to float rounding.
  CHECK(run_program("protein_lm", {"--resume", "--out", by_one.string()}, dir.path, &err) == 0);
  CHECK(err.find("note: the run was trained by 2 processes of --batch 2; 1 process continues it with --batch 4 "
                 "each: the global batch stays 4") != std::string::npos);
  CHECK(read_safetensors_metadata((by_one / "checkpoint.safetensors").string()).at("flag.batch") == "4");
  check_close(log_column(by_one / "log.csv", "train_loss"), log_column(straight / "log.csv", "train_loss"), kRelative);
  check_close(tensors_of(by_one / "checkpoint.safetensors"), tensors_of(straight / "checkpoint.safetensors"),
              kParameters);
}

TEST_CASE("programs under mpirun: an error on one process ends both with its message instead of hanging") {
  if (!mpi_runs()) return;
  TempDir dir("parallel_failure");
  // Rank 1 starts in a folder without the data (as on a machine that lacks it);
  // rank 0 reads its data and waits for rank 1 in the first collective.
  const fs::path empty = dir.path / "empty";
  fs::create_directories(empty);
  const std::vector<std::string> args = tiny_protein({"--steps", "5", "--out", (dir.path / "run").string()});
  ProgramRun run(two_folders(fs::current_path(), empty, "protein_lm", args), "mpirun", dir.path);
  const auto start = std::chrono::steady_clock::now();
  const bool hung = run.wait_until([&] { return std::chrono::steady_clock::now() - start > std::chrono::seconds(120); });
  CHECK_FALSE(hung);
  CHECK(run.wait() == 1);
  CHECK(run.err().find("rank 1: protein_lm: error: protein data: 'examples/data/protein' does not exist") !=
        std::string::npos);
}
