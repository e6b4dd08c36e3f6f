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
//
// A workload may declare options of its own (Workload::options, each taking one
// value: "--n 256,1024"); main.cpp accepts them for that workload only and hands
// them over in Options::values. A workload that measures in fresh processes
// (attention: peak memory per case) declares a hidden option and a `child` entry
// point; when that option is given, main.cpp calls child() instead of run(), prints
// nothing itself, and exits with child()'s status.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/device.h"

namespace bench {

// Thrown by a workload for a bad value of one of its options: main.cpp prints it
// like a usage error and exits with status 2 (any other exception: status 1).
struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct Options {
  int threads = 1;                // already applied (OpenMP and OpenBLAS) before run() is called
  ta::Device device = ta::Device::CPU;  // --device: where the workload puts its tensors (checked usable)
  std::vector<std::string> only;  // --only: if not empty, run just these n labels (cases, shapes)
  std::map<std::string, std::string> values;  // the workload's own options, by name ("n" for --n)
  // True when `n` was not filtered out by --only.
  bool selected(const std::string& n) const;
  bool has(const std::string& name) const { return values.count(name) != 0; }
  // The value of the workload option `name`, or `fallback` when it was not given.
  std::string value(const std::string& name, const std::string& fallback = "") const;
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
  // ByN: one table line per n label, one column per (variant, metric) (gemm, overhead).
  // ByVariantAndN: one line per (variant, n), one column per metric, plus a remark
  // column (attention: many variants, each with several metrics).
  enum class Layout { ByN, ByVariantAndN };

  Report(std::string workload, int threads) : workload_(std::move(workload)), threads_(threads) {}

  void add(const std::string& variant, const std::string& n, const std::string& metric, double value,
           const std::string& unit);
  // A short description of an n label (e.g. "4096x256x1024 NT"), shown in the table.
  void describe(const std::string& n, const std::string& text);
  // A line printed under the table (how it was measured, checks, caveats).
  void note(const std::string& line);
  // A short text for one (variant, n) line of a ByVariantAndN table, e.g. why a case
  // was skipped; creates the line if no number was added for it. Not in the CSV.
  void remark(const std::string& variant, const std::string& n, const std::string& text);
  void set_layout(Layout layout) { layout_ = layout; }

  const std::string& workload() const { return workload_; }
  int threads() const { return threads_; }
  const std::vector<Row>& rows() const { return rows_; }
  const std::vector<std::string>& notes() const { return notes_; }
  std::string description(const std::string& n) const;
  Layout layout() const { return layout_; }
  const std::vector<std::pair<std::pair<std::string, std::string>, std::string>>& remarks() const { return remarks_; }
  // Every (variant, n) that has a number or a remark, in the order first reported.
  const std::vector<std::pair<std::string, std::string>>& keys() const { return keys_; }

 private:
  std::string workload_;
  int threads_;
  std::vector<Row> rows_;
  std::vector<std::pair<std::string, std::string>> descriptions_;
  std::vector<std::string> notes_;
  std::vector<std::pair<std::pair<std::string, std::string>, std::string>> remarks_;  // ((variant, n), text)
  std::vector<std::pair<std::string, std::string>> keys_;
  Layout layout_ = Layout::ByN;
  void add_key(const std::string& variant, const std::string& n);
};

// An option of one workload: "--NAME VALUE" (or "--NAME=VALUE").
struct WorkloadOption {
  std::string name;   // without the dashes
  std::string value;  // placeholder in the usage, e.g. "N[,N...]"
  std::string help;   // one line; empty for a hidden option (not listed by --help)
};

struct Workload {
  const char* name;
  const char* summary;  // one line for --help
  void (*run)(const Options&, Report&);
  std::vector<WorkloadOption> options = {};
  // Hidden entry point: when the option `child_option` is given, main.cpp calls
  // child(options) instead of run() and exits with its status (no table, no CSV).
  const char* child_option = nullptr;
  int (*child)(const Options&) = nullptr;
};

std::vector<Workload>& workloads();

// Waits for the device's queued kernels (GPU launches are asynchronous), so that a
// clock read after it measures the work; nothing to wait for on the CPU.
void synchronize(ta::Device device);

// "a,b,,c" -> {"a", "b", "c"}: the values of a list option.
std::vector<std::string> split_commas(const std::string& s);
// "256,1024" -> {256, 1024}: a list option of sizes; throws UsageError naming
// `option` for anything but whole numbers >= 1.
std::vector<int64_t> split_sizes(const std::string& s, const std::string& option);

struct RegisterWorkload {
  explicit RegisterWorkload(const Workload& w) { workloads().push_back(w); }
};

}  // namespace bench
