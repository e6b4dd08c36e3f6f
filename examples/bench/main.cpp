// build/bench — the benchmark program: runs one workload of ../shared/bench's
// specification on the framework (and on the baseline it is measured against),
// prints a table and optionally writes the numbers as CSV.
//
//   build/bench WORKLOAD [--threads N] [--csv FILE] [--only LABEL,...] [workload options]
//
// This file holds what all workloads share: argument parsing, thread setup,
// dispatch, the table and the CSV writer. Each workload is its own file (gemm.cpp,
// overhead.cpp, attention.cpp, train_step.cpp, layer.cpp, ...) and registers itself
// (bench.h).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/backend.h"
#include "core/tensor.h"
#include "examples/bench/bench.h"
#include "examples/bench/timing.h"

namespace bench {

bool Options::selected(const std::string& n) const {
  if (only.empty()) return true;
  for (const std::string& o : only)
    if (o == n) return true;
  return false;
}

std::string Options::value(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

void Report::add(const std::string& variant, const std::string& n, const std::string& metric, double value,
                 const std::string& unit) {
  rows_.push_back(Row{workload_, variant, n, threads_, metric, value, unit});
  add_key(variant, n);
}

void Report::add_key(const std::string& variant, const std::string& n) {
  const std::pair<std::string, std::string> k{variant, n};
  if (std::find(keys_.begin(), keys_.end(), k) == keys_.end()) keys_.push_back(k);
}

void Report::describe(const std::string& n, const std::string& text) { descriptions_.emplace_back(n, text); }
void Report::note(const std::string& line) { notes_.push_back(line); }
void Report::remark(const std::string& variant, const std::string& n, const std::string& text) {
  remarks_.push_back({{variant, n}, text});
  add_key(variant, n);
}

std::string Report::description(const std::string& n) const {
  for (const auto& [k, v] : descriptions_)
    if (k == n) return v;
  return "";
}

std::vector<Workload>& workloads() {
  static std::vector<Workload> list;
  return list;
}

void synchronize(ta::Device device) { ta::backend(device).synchronize(); }

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<int64_t> split_sizes(const std::string& s, const std::string& option) {
  std::vector<int64_t> sizes;
  for (const std::string& item : split_commas(s)) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || v < 1) throw UsageError(option + ": expected positive whole numbers, got '" + item + "'");
    sizes.push_back(v);
  }
  return sizes;
}

}  // namespace bench

namespace {

using bench::Report;
using bench::Row;

const char* kCsvHeader = "workload,variant,n,threads,metric,value,unit";

std::string usage() {
  std::ostringstream os;
  os << "usage: bench WORKLOAD [--threads N] [--device cpu|cuda] [--csv FILE] [--only LABEL[,LABEL...]] [workload options]\n"
        "\n"
        "Runs one benchmark workload (specified in ../shared/bench/README.md) and prints a table.\n"
        "\n"
        "workloads:\n";
  for (const auto& w : bench::workloads()) os << "  " << std::left << std::setw(10) << w.name << " " << w.summary << "\n";
  for (const auto& w : bench::workloads()) {
    bool any = false;
    for (const auto& o : w.options) any = any || !o.help.empty();
    if (!any) continue;
    os << "\n" << w.name << " options:\n";
    for (const auto& o : w.options) {
      if (o.help.empty()) continue;
      std::string head = "  --" + o.name + " " + o.value;
      os << std::left << std::setw(32) << head << " " << o.help << "\n";
    }
  }
  os << "\n"
        "options:\n"
        "  --threads N   threads for OpenMP and OpenBLAS (default: all cores, here " << omp_get_num_procs() << ")\n"
        "  --device D    cpu (default) or cuda: where attention, train-step and layer put their tensors\n"
        "  --csv FILE    also write the results to FILE, long format, header\n"
        "                " << kCsvHeader << "\n"
        "  --only LIST   run only these n labels (comma-separated gemm case names, overhead shapes,\n"
        "                attention sequence lengths)\n"
        "  -h, --help    this text\n";
  return os.str();
}

[[noreturn]] void fail_usage(const std::string& msg) {
  std::cerr << "bench: " << msg << "\n(run 'bench --help' for the usage)\n";
  std::exit(2);
}

int parse_threads(const std::string& s) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < 1 || v > 1024)
    fail_usage("--threads needs a whole number >= 1, got '" + s + "'");
  return static_cast<int>(v);
}


std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

std::string format_value(double v, const std::string& unit = "") {
  char buf[32];
  if (unit == "count" && v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  double a = v < 0 ? -v : v;
  if (a >= 100)
    std::snprintf(buf, sizeof buf, "%.1f", v);
  else if (a >= 10)
    std::snprintf(buf, sizeof buf, "%.2f", v);
  else
    std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// A markdown table: one line per n label, one column per (variant, metric) pair,
// both in the order the workload reported them. A metric "X_best" next to "X" of the
// same variant shares its column: "median (best)".
void print_table(const Report& r, std::ostream& os) {
  auto is_best = [](const std::string& m) { return m.size() > 5 && m.compare(m.size() - 5, 5, "_best") == 0; };
  std::vector<std::string> labels;
  std::vector<std::pair<std::string, std::string>> columns;  // (variant, base metric)
  std::map<std::pair<std::string, std::string>, std::string> units;
  std::map<std::pair<std::string, std::string>, bool> has_best;
  std::map<std::tuple<std::string, std::string, std::string>, std::string> base, best;  // (n, variant, metric)
  for (const Row& row : r.rows()) {
    if (std::find(labels.begin(), labels.end(), row.n) == labels.end()) labels.push_back(row.n);
    std::string metric = row.metric;
    bool b = false;
    if (is_best(metric)) {
      std::string stem = metric.substr(0, metric.size() - 5);
      for (const Row& other : r.rows())
        if (other.variant == row.variant && other.metric == stem) b = true;
      if (b) metric = stem;
    }
    std::pair<std::string, std::string> col{row.variant, metric};
    if (std::find(columns.begin(), columns.end(), col) == columns.end()) columns.push_back(col);
    units[col] = row.unit;
    if (b) has_best[col] = true;
    (b ? best : base)[{row.n, row.variant, metric}] = format_value(row.value, row.unit);
  }
  bool any_description = false;
  for (const auto& n : labels) any_description = any_description || !r.description(n).empty();
  const size_t n_left = any_description ? 2 : 1;  // left-aligned text columns

  std::vector<std::string> head{"n"};
  if (any_description) head.push_back("what");
  for (const auto& col : columns)
    head.push_back(col.first + " " + col.second + " (" + units[col] + (has_best[col] ? "), median (best)" : ")"));
  std::vector<std::vector<std::string>> lines;
  for (const auto& n : labels) {
    std::vector<std::string> line{n};
    if (any_description) line.push_back(r.description(n));
    for (const auto& [v, m] : columns) {
      auto it = base.find({n, v, m});
      std::string text = it == base.end() ? "" : it->second;
      auto jt = best.find({n, v, m});
      if (jt != best.end()) text += " (" + jt->second + ")";
      line.push_back(text);
    }
    lines.push_back(line);
  }
  std::vector<size_t> width(head.size());
  for (size_t c = 0; c < head.size(); ++c) {
    width[c] = head[c].size();
    for (const auto& l : lines) width[c] = std::max(width[c], l[c].size());
  }
  auto emit = [&](const std::vector<std::string>& l) {
    os << "|";
    for (size_t c = 0; c < l.size(); ++c)
      os << " " << (c < n_left ? std::left : std::right) << std::setw(static_cast<int>(width[c])) << l[c] << " |";
    os << "\n";
  };
  emit(head);
  os << "|";
  for (size_t c = 0; c < head.size(); ++c) os << std::string(width[c] + 1, '-') << (c < n_left ? "-|" : ":|");
  os << "\n";
  for (const auto& l : lines) emit(l);
  for (const auto& note : r.notes()) os << "\n" << note;
  os << "\n";
}

// A markdown table with one line per (variant, n) in the order reported, one column
// per metric ("median (best)" as above), then the remarks (e.g. why a case was skipped).
void print_table_by_variant(const Report& r, std::ostream& os) {
  auto is_best = [](const std::string& m) { return m.size() > 5 && m.compare(m.size() - 5, 5, "_best") == 0; };
  using Key = std::pair<std::string, std::string>;  // (variant, n)
  const std::vector<Key>& keys = r.keys();
  std::vector<std::string> metrics;
  std::map<std::string, std::string> units;
  std::map<std::string, bool> has_best;
  std::map<std::tuple<std::string, std::string, std::string>, std::string> base, best;
  for (const Row& row : r.rows()) {
    std::string metric = row.metric;
    bool b = false;
    if (is_best(metric)) {
      std::string stem = metric.substr(0, metric.size() - 5);
      for (const Row& other : r.rows())
        if (other.metric == stem) b = true;
      if (b) metric = stem;
    }
    if (std::find(metrics.begin(), metrics.end(), metric) == metrics.end()) metrics.push_back(metric);
    if (!b) units[metric] = row.unit;
    if (b) has_best[metric] = true;
    (b ? best : base)[{row.variant, row.n, metric}] = format_value(row.value, row.unit);
  }
  std::map<Key, std::string> remark;
  for (const auto& [k, text] : r.remarks()) {
    remark[k] += (remark[k].empty() ? "" : "; ") + text;
  }
  // Keep every variant's lines together, in the order the variants first appear.
  std::vector<std::string> variants;
  for (const auto& k : keys)
    if (std::find(variants.begin(), variants.end(), k.first) == variants.end()) variants.push_back(k.first);
  std::vector<Key> ordered;
  for (const auto& v : variants)
    for (const auto& k : keys)
      if (k.first == v) ordered.push_back(k);
  const bool any_remark = !remark.empty();

  std::vector<std::string> head{"variant", "n"};
  for (const auto& m : metrics) head.push_back(m + " (" + units[m] + (has_best[m] ? "), median (best)" : ")"));
  if (any_remark) head.push_back("remark");
  std::vector<std::vector<std::string>> lines;
  for (const auto& k : ordered) {
    std::vector<std::string> line{k.first, k.second};
    for (const auto& m : metrics) {
      auto it = base.find({k.first, k.second, m});
      std::string text = it == base.end() ? "" : it->second;
      auto jt = best.find({k.first, k.second, m});
      if (jt != best.end()) text += " (" + jt->second + ")";
      line.push_back(text);
    }
    if (any_remark) line.push_back(remark.count(k) ? remark[k] : "");
    lines.push_back(line);
  }
  std::vector<size_t> width(head.size());
  for (size_t c = 0; c < head.size(); ++c) {
    width[c] = head[c].size();
    for (const auto& l : lines) width[c] = std::max(width[c], l[c].size());
  }
  auto left = [&](size_t c) { return c == 0 || (any_remark && c + 1 == head.size()); };
  auto emit = [&](const std::vector<std::string>& l) {
    os << "|";
    for (size_t c = 0; c < l.size(); ++c)
      os << " " << (left(c) ? std::left : std::right) << std::setw(static_cast<int>(width[c])) << l[c] << " |";
    os << "\n";
  };
  emit(head);
  os << "|";
  for (size_t c = 0; c < head.size(); ++c) os << std::string(width[c] + 1, '-') << (left(c) ? "-|" : ":|");
  os << "\n";
  for (const auto& l : lines) emit(l);
  for (const auto& note : r.notes()) os << "\n" << note;
  os << "\n";
}

void write_csv(const Report& r, std::ostream& os) {
  os << kCsvHeader << "\n";
  for (const Row& row : r.rows()) {
    char value[40];
    std::snprintf(value, sizeof value, "%.6g", row.value);
    os << row.workload << "," << row.variant << "," << row.n << "," << row.threads << "," << row.metric << "," << value
       << "," << row.unit << "\n";
  }
}

// ---- main's steps ------------------------------------------------------------------

// What the command line asks for: a workload, its options, and where the CSV goes.
struct CommandLine {
  std::string workload_name, csv_path;
  bench::Options opt;
  std::vector<std::pair<std::string, std::string>> workload_values;  // "--n 256" by name, checked later
  bool help = false;
};

bool declared_by_any_workload(const std::string& name) {
  for (const auto& w : bench::workloads())
    for (const auto& o : w.options)
      if (o.name == name) return true;
  return false;
}

// Reads the arguments; a usage error ends the program with status 2.
CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  cl.opt.threads = omp_get_num_procs();
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], value;
    bool has_inline = false;
    if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
      value = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
      has_inline = true;
    }
    auto next_value = [&]() -> std::string {
      if (has_inline) return value;
      if (i + 1 >= args.size()) fail_usage(a + " needs a value");
      return args[++i];
    };
    if (a == "-h" || a == "--help") {
      cl.help = true;
      return cl;
    } else if (a == "--threads") {
      cl.opt.threads = parse_threads(next_value());
    } else if (a == "--device") {
      const std::string d = next_value();
      if (d != "cpu" && d != "cuda") fail_usage("--device must be cpu or cuda, got '" + d + "'");
      cl.opt.device = d == "cpu" ? ta::Device::CPU : ta::Device::CUDA;
    } else if (a == "--csv") {
      cl.csv_path = next_value();
      if (cl.csv_path.empty()) fail_usage("--csv needs a file name");
    } else if (a == "--only") {
      cl.opt.only = bench::split_commas(next_value());
    } else if (a.rfind("--", 0) == 0 && declared_by_any_workload(a.substr(2))) {
      cl.workload_values.emplace_back(a.substr(2), next_value());
    } else if (!a.empty() && a[0] == '-') {
      fail_usage("unknown option '" + args[i] + "'");
    } else if (cl.workload_name.empty()) {
      cl.workload_name = a;
    } else {
      fail_usage("one workload at a time; got '" + cl.workload_name + "' and '" + a + "'");
    }
  }
  if (cl.workload_name.empty()) fail_usage("no workload given");
  return cl;
}

// The workload the command line names, with its own options checked and put into
// cl.opt.values.
const bench::Workload& chosen_workload(CommandLine& cl) {
  const bench::Workload* w = nullptr;
  for (const auto& cand : bench::workloads())
    if (cl.workload_name == cand.name) w = &cand;
  if (!w) {
    std::string names;
    for (const auto& cand : bench::workloads()) names += (names.empty() ? "" : ", ") + std::string(cand.name);
    fail_usage("unknown workload '" + cl.workload_name + "' (known: " + names + ")");
  }
  for (const auto& [name, value] : cl.workload_values) {
    bool ok = false;
    for (const auto& o : w->options) ok = ok || o.name == name;
    if (!ok) fail_usage("option '--" + name + "' is not an option of workload '" + cl.workload_name + "'");
    cl.opt.values[name] = value;
  }
  return *w;
}

// With --device cuda: a workload that can run there, and a device that answers; a
// clear error now rather than after the first case. Returns false after printing
// the reason when there is no CUDA build or no GPU.
bool device_ready(const bench::Workload& w, ta::Device device) {
  if (device != ta::Device::CUDA) return true;
  const std::string name = w.name;
  if (name != "attention" && name != "train-step" && name != "layer" && name != "data-parallel")
    fail_usage("--device cuda: workload '" + name + "' runs on the CPU only");
  try {
    ta::Tensor::zeros(ta::Shape{1}, ta::Device::CUDA);
  } catch (const std::exception& e) {
    std::cerr << "bench: --device cuda: " << e.what() << "\n";
    return false;
  }
  return true;
}

// OpenBLAS here is the OpenMP build, so it follows omp_set_num_threads; setting
// its own count too keeps it right should another build be linked.
void set_threads(int threads) {
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

// A fresh child process of a workload that measures each case alone: set the
// threads and run the case, printing only what the parent reads.
int run_child(const bench::Workload& w, const bench::Options& opt) {
  set_threads(opt.threads);
  try {
    return w.child(opt);
  } catch (const std::exception& e) {
    std::cerr << "bench: " << w.name << " child failed: " << e.what() << "\n";
    return 1;
  }
}

// The first line of the output: when, on how many threads of which BLAS, under what load.
void print_run_header(const bench::Workload& w, int threads, double load) {
  std::cout << "# bench " << w.name << ": " << utc_now() << ", threads " << threads << " (OpenMP max "
            << omp_get_max_threads() << ", OpenBLAS " << openblas_get_num_threads() << ", " << omp_get_num_procs()
            << " cores), OpenBLAS " << openblas_get_config() << " core " << openblas_get_corename()
            << ", load average " << std::fixed << std::setprecision(2) << load << std::defaultfloat << "\n"
            << std::flush;
}

double load_average() {
  double loadavg[3] = {0, 0, 0};
  getloadavg(loadavg, 3);
  return loadavg[0];
}

// Runs the workload into `report` and adds the note on the run's time, steal and
// load. Returns the exit status of a failure, or 0.
int run_workload(const bench::Workload& w, const bench::Options& opt, Report& report, double load_at_start) {
  const double steal0 = bench::steal_seconds(), t0 = bench::now_s();
  try {
    w.run(opt, report);
  } catch (const bench::UsageError& e) {
    fail_usage(e.what());
  } catch (const std::exception& e) {
    std::cerr << "bench: " << w.name << " failed: " << e.what() << "\n";
    return 1;
  }
  const double wall = bench::now_s() - t0;
  const double steal = (bench::steal_seconds() - steal0) / (wall * omp_get_num_procs());
  char tail[200];
  std::snprintf(tail, sizeof tail,
                "Run took %.1f s; hypervisor steal %.1f%% of CPU time during it; load average %.2f at the start, "
                "%.2f at the end.",
                wall, 100 * steal, load_at_start, load_average());
  report.note(tail);
  return 0;
}

// Writes the CSV to the stream opened before the run; false after printing why when it fails.
bool write_csv_file(const Report& report, std::ofstream& csv, const std::string& path) {
  write_csv(report, csv);
  csv.close();
  if (!csv) {
    std::cerr << "bench: writing '" << path << "' failed\n";
    return false;
  }
  std::cout << "\nwrote " << path << "\n";
  return true;
}

// Opens --csv's file, if given, before minutes of measuring, so that a bad path fails
// first; false (with a message) when it cannot be opened.
bool open_csv(const std::string& path, std::ofstream& csv) {
  if (path.empty()) return true;
  csv.open(path);
  if (!csv) std::cerr << "bench: cannot open '" << path << "' for writing\n";
  return static_cast<bool>(csv);
}

// The table of the report, in its layout.
void print_report(const Report& report) {
  std::cout << "\n";
  if (report.layout() == Report::Layout::ByVariantAndN)
    print_table_by_variant(report, std::cout);
  else
    print_table(report, std::cout);
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine cl = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (cl.help) {
    std::cout << usage();
    return 0;
  }
  const bench::Workload& w = chosen_workload(cl);
  const bench::Options& opt = cl.opt;
  if (!device_ready(w, opt.device)) return 2;
  if (w.child && w.child_option && opt.has(w.child_option)) return run_child(w, opt);

  std::ofstream csv;
  if (!open_csv(cl.csv_path, csv)) return 1;
  set_threads(opt.threads);
  const double load = load_average();
  print_run_header(w, opt.threads, load);

  Report report(w.name, opt.threads);
  if (int status = run_workload(w, opt, report, load)) return status;
  // Nothing measured: an error, but a table of remarks (why each case was skipped) is
  // still printed first.
  const bool nothing = report.rows().empty();
  if (nothing && report.remarks().empty()) {
    std::cerr << "bench: nothing was measured (does --only name existing labels?)\n";
    return 1;
  }
  print_report(report);
  if (csv.is_open() && !write_csv_file(report, csv, cl.csv_path)) return 1;
  if (nothing) {
    std::cerr << "bench: nothing was measured (every case was skipped)\n";
    return 1;
  }
  return 0;
}
