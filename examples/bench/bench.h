// examples/bench/bench.h — what every workload of the benchmark program shares:
// the options, the result rows (long format, one number per row) and the list of
// workloads.
//
// A workload is one file (gemm.cpp, overhead.cpp, ...) that defines a run function
// and registers it at namespace scope:
//
//   static const bench::RegisterWorkload reg{{"gemm", "matrix-product GFLOP/s ...", run_gemm}};
//
// main.cpp then finds it by name; nothing else needs to change to add a workload.
// The object files of examples/bench/ are linked directly (not from an archive), so
// every registration runs.
#pragma once

#include <string>
#include <vector>

namespace bench {

struct Options {
  int threads = 1;                // already applied (OpenMP and OpenBLAS) before run() is called
  std::vector<std::string> only;  // --only: if not empty, run just these n labels (cases, shapes)
  // True when `n` was not filtered out by --only.
  bool selected(const std::string& n) const;
};

// One measured number: CSV columns workload,variant,n,threads,metric,value,unit.
struct Row {
  std::string workload, variant, n;
  int threads = 0;
  std::string metric;
  double value = 0;
  std::string unit;
};

class Report {
 public:
  Report(std::string workload, int threads) : workload_(std::move(workload)), threads_(threads) {}

  void add(const std::string& variant, const std::string& n, const std::string& metric, double value,
           const std::string& unit);
  // A short description of an n label (e.g. "4096x256x1024 NT"), shown in the table.
  void describe(const std::string& n, const std::string& text);
  // A line printed under the table (how it was measured, checks, caveats).
  void note(const std::string& line);

  const std::string& workload() const { return workload_; }
  int threads() const { return threads_; }
  const std::vector<Row>& rows() const { return rows_; }
  const std::vector<std::string>& notes() const { return notes_; }
  std::string description(const std::string& n) const;

 private:
  std::string workload_;
  int threads_;
  std::vector<Row> rows_;
  std::vector<std::pair<std::string, std::string>> descriptions_;
  std::vector<std::string> notes_;
};

struct Workload {
  const char* name;
  const char* summary;  // one line for --help
  void (*run)(const Options&, Report&);
};

std::vector<Workload>& workloads();

struct RegisterWorkload {
  explicit RegisterWorkload(const Workload& w) { workloads().push_back(w); }
};

}  // namespace bench
