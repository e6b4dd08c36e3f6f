// Workload "attention": the attention op alone, forward + backward, for every
// registered variant with a causal mode (../shared/bench/README.md, "Spec:
// attention op alone"; attention.py is the PyTorch side).
//
//   build/bench attention [--variant NAME[,NAME...]] [--n N[,N...]] [--threads T]
//                         [--csv FILE] [--plot PREFIX] [--time-limit S] [--mem-limit GIB]
//
// What is timed. Batch 1, causal, float32.
//   Multi-head variants (an AttentionCore inside MultiHeadAttention): the mixer is
//   built exactly as the registry builds it, make_attention({name, d_model 256,
//   heads 4, causal}), and its core is called on q, k, v [1, 4, n, 64] directly,
//   core->forward(q, k, v, causal = true, no padding mask). The sparse variants get
//   the spec's stride l = sqrt(n) rounded to a power of two (option sparse-stride).
//   GAU variants (flash, flash-quad: no AttentionCore): the spec's variant (d),
//   Z [1, n, 128], V [1, n, 512], gamma = 0.02 N(0, 1) and beta = 0 [planes, 128],
//   through the fused op the GAU layer itself calls, flash_attention_from_base with
//   the GAU's own FlashOptions for n (built with flash-scaling length and no
//   relative bias: the benchmark's function, chunk 256, scales 1/256).
//   One iteration = the inputs' gradients cleared; O = op(inputs); backward(O, dO).
//   The forward time is read inside the same iteration.
//
// Protocol (attention.py). Each (variant, n) runs in a fresh process: the bench
// re-executes itself (/proc/self/exe with the hidden option --one-case VARIANT:N),
// the child builds the inputs (untimed), records its RSS (VmRSS: "base"), runs 1
// warm-up iteration taking t_w, then r timed ones: r = min(30, max(10, 2 s / t_w))
// if t_w < 0.1 s, 10 if < 0.5 s, min(10, max(3, 10 s / t_w)) if < 10 s, else 1;
// median and min over the r. Peak memory = the child's VmHWM (read in the child
// from /proc/self/status; getrusage's ru_maxrss would carry the parent's peak over
// execve). The child writes its numbers to the parent through a pipe (its stdout).
// The parent watches the child's RSS and the time of each iteration: a case whose
// RSS passes 16 GiB or whose iteration passes 60 s is killed and marked skipped,
// and so are the larger n of that variant.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "attention/flash_attention.h"
#include "attention/gau.h"
#include "attention/multi_head.h"
#include "attention/registry.h"
#include "examples/bench/bench.h"
#include "examples/bench/spec_model.h"
#include "examples/bench/timing.h"
#include "tinyattn.h"
#include "viz/plot.h"

namespace {

constexpr int64_t kHeads = 4, kHeadDim = 64;  // multi-head variants (d_model 256: bench::kSpecModel)
constexpr int64_t kFlashS = 128;                              // GAU variants: Z [1, n, s], V [1, n, e]
const std::vector<int64_t> kDefaultNs = {256, 1024, 4096, 16384};

// l = sqrt(n) rounded to the nearest power of two (attention.py's stride_for).
int64_t stride_for(int64_t n) {
  return int64_t{1} << static_cast<int>(std::lround(std::log2(std::sqrt(static_cast<double>(n)))));
}

// ---------------------------------------------------------------- one case

struct Case {
  std::shared_ptr<ta::TokenMixer> mixer;  // keeps the core alive
  std::function<ta::Tensor()> forward;
  std::vector<ta::Tensor> leaves;  // the inputs that get gradients
  ta::Tensor d_out;
};

// Builds the variant as the registry does and the inputs of the spec; throws when
// the variant has neither an AttentionCore nor a GAU.
Case build_case(const std::string& variant, int64_t n, ta::Device device) {
  ta::AttentionConfig a = bench::spec_attention_config(variant);  // FLASH: the benchmark's function (variant (d))
  bench::set_if_declared(a, "sparse-stride", std::to_string(stride_for(n)));  // the spec's l for the sparse patterns
  ta::Generator model_gen(0), gen(1234);
  Case c;
  c.mixer = ta::make_attention(a, model_gen);
  c.mixer->to(device);
  if (auto mha = std::dynamic_pointer_cast<ta::MultiHeadAttention>(c.mixer)) {
    const ta::Shape shape{1, kHeads, n, kHeadDim};
    ta::Tensor q = ta::Tensor::normal(shape, 0.0f, 1.0f, gen, device), k = ta::Tensor::normal(shape, 0.0f, 1.0f, gen, device),
               v = ta::Tensor::normal(shape, 0.0f, 1.0f, gen, device);
    for (ta::Tensor* t : {&q, &k, &v}) t->set_requires_grad();
    c.d_out = ta::Tensor::normal(shape, 0.0f, 1.0f, gen, device);
    c.leaves = {q, k, v};
    std::shared_ptr<ta::AttentionCore> core = mha->core;
    c.forward = [core, q, k, v] { return core->forward(q, k, v, ta::Causality::Causal, ta::Tensor()); };
    return c;
  }
  if (auto gau = std::dynamic_pointer_cast<ta::GatedAttentionUnit>(c.mixer)) {
    const int64_t planes = gau->planes(), e = gau->e;
    ta::Tensor z = ta::Tensor::normal({1, n, kFlashS}, 0.0f, 1.0f, gen, device);
    ta::Tensor v = ta::Tensor::normal({1, n, e}, 0.0f, 1.0f, gen, device);
    ta::Tensor gamma = ta::Tensor::normal({planes, kFlashS}, 0.0f, 0.02f, gen, device);
    ta::Tensor beta = ta::Tensor::zeros({planes, kFlashS}, device);
    for (ta::Tensor* t : {&z, &v, &gamma, &beta}) t->set_requires_grad();
    c.d_out = ta::Tensor::normal({1, n, e}, 0.0f, 1.0f, gen, device);
    c.leaves = {z, v, gamma, beta};
    const ta::FlashOptions fo = gau->flash_options(n);
    const ta::FlashImplementation how =
        gau->options.fused ? ta::FlashImplementation::Fused : ta::FlashImplementation::Reference;
    c.forward = [z, v, gamma, beta, fo, how] { return ta::flash_attention_from_base(z, v, gamma, beta, fo, how); };
    return c;
  }
  throw std::runtime_error("variant '" + variant + "' is neither multi-head attention with a core nor a GAU");
}

bool all_finite(const ta::Tensor& t) {
  if (!t.defined()) return false;
  for (float x : t.to_vector())
    if (!std::isfinite(x)) return false;
  return true;
}

// The child: one (variant, n). Writes to stdout (the parent's pipe) "START" before the
// warm-up iteration, "ITER <seconds>" after each iteration, then one line
// "RESULT key value key value ..." or, on an exception, "ERROR <message>".
int attention_child(const bench::Options& opt) {
  const std::string spec = opt.value("one-case");
  const size_t colon = spec.rfind(':');
  if (colon == std::string::npos) {
    std::printf("ERROR --one-case needs VARIANT:N, got '%s'\n", spec.c_str());
    return 2;
  }
  const std::string variant = spec.substr(0, colon);
  const int64_t n = std::atoll(spec.c_str() + colon + 1);
  auto say = [](const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
  };
  try {
    const double rss_start = bench::status_bytes("/proc/self/status", "VmRSS:");
    Case c = build_case(variant, n, opt.device);
    const double base = bench::status_bytes("/proc/self/status", "VmRSS:");
    const double hwm_inputs = bench::status_bytes("/proc/self/status", "VmHWM:");

    bool check = true;
    auto one = [&](bool verify) {
      for (ta::Tensor& t : c.leaves) t.zero_grad();
      const double t0 = bench::now_s();
      ta::Tensor o = c.forward();
      bench::synchronize(opt.device);
      const double t1 = bench::now_s();
      ta::backward(o, c.d_out);
      bench::synchronize(opt.device);
      const double t2 = bench::now_s();
      if (verify) {
        check = check && all_finite(o);
        for (const ta::Tensor& t : c.leaves) check = check && all_finite(t.grad());
      }
      return std::pair<double, double>{t1 - t0, t2 - t0};
    };

    const bench::CpuSeconds cpu0 = bench::cpu_seconds();
    const double steal0 = bench::steal_seconds(), w0 = bench::now_s();
    say("START");
    const double t_w = one(true).second;
    say("ITER " + std::to_string(t_w));
    const int reps = bench::timed_repetitions(t_w);
    std::vector<double> fwd, total;
    for (int r = 0; r < reps; ++r) {
      auto [f, t] = one(false);
      fwd.push_back(f);
      total.push_back(t);
      say("ITER " + std::to_string(t));
    }
    const bench::CpuSeconds cpu1 = bench::cpu_seconds();
    const double wall = bench::now_s() - w0;
    const double steal = (bench::steal_seconds() - steal0) / (wall * sysconf(_SC_NPROCESSORS_ONLN));
    const bench::Summary sf = bench::summarize(fwd), st = bench::summarize(total);
    char line[1024];
    std::snprintf(line, sizeof line,
                  "RESULT reps %d warmup_s %.9g fwd_bwd_median_s %.9g fwd_bwd_min_s %.9g fwd_median_s %.9g "
                  "fwd_min_s %.9g rss_start %.0f rss_base %.0f hwm_inputs %.0f peak_rss %.0f cpu_user_s %.6g "
                  "cpu_sys_s %.6g steal %.6g check %d",
                  reps, t_w, st.median, st.min, sf.median, sf.min, rss_start, base, hwm_inputs,
                  bench::status_bytes("/proc/self/status", "VmHWM:"), (cpu1.user - cpu0.user) / (reps + 1),
                  (cpu1.sys - cpu0.sys) / (reps + 1), steal, check ? 1 : 0);
    say(line);
    return 0;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    say("ERROR " + msg);
    return 1;
  }
}

// ---------------------------------------------------------------- the parent

struct Outcome {
  std::map<std::string, double> v;  // the child's RESULT line
  std::string skipped;              // why there are no numbers (empty: measured)
  bool limit = false;               // killed for time or memory: larger n are skipped too
  double seen_rss = 0;              // the largest RSS the parent saw
};

Outcome run_child(const std::string& variant, int64_t n, int threads, ta::Device device, double time_limit,
                  double mem_limit) {
  Outcome out;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const std::string th = std::to_string(threads), one = variant + ":" + std::to_string(n);
  std::vector<const char*> argv = {"bench", "attention", "--threads", th.c_str(), "--device", ta::device_name(device),
                                   "--one-case", one.c_str(), nullptr};
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);  // the duplicate does not inherit O_CLOEXEC
    execv("/proc/self/exe", const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  close(fds[1]);
  const std::string status_path = "/proc/" + std::to_string(pid) + "/status";
  std::string buffer, error;
  double iter_start = -1;
  bool eof = false, got_result = false;
  while (!eof) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 20) > 0) {
      char chunk[4096];
      const ssize_t k = read(fds[0], chunk, sizeof chunk);
      if (k <= 0) eof = true;
      else buffer.append(chunk, static_cast<size_t>(k));
      size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        const std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        if (line == "START" || line.rfind("ITER", 0) == 0) {
          iter_start = bench::now_s();
        } else if (line.rfind("RESULT ", 0) == 0) {
          std::istringstream is(line.substr(7));
          std::string key;
          double value;
          while (is >> key >> value) out.v[key] = value;
          got_result = true;
        } else if (line.rfind("ERROR ", 0) == 0) {
          error = line.substr(6);
        }
      }
    }
    out.seen_rss = std::max({out.seen_rss, bench::status_bytes(status_path, "VmRSS:"), bench::status_bytes(status_path, "VmHWM:")});
    char why[96] = "";
    if (out.seen_rss > mem_limit)
      std::snprintf(why, sizeof why, "skipped: RSS passed %g GiB", mem_limit / 1073741824.0);
    else if (iter_start >= 0 && bench::now_s() - iter_start > time_limit)
      std::snprintf(why, sizeof why, "skipped: one iteration passed %g s", time_limit);
    if (why[0]) {
      kill(pid, SIGKILL);
      out.skipped = why;
      out.limit = true;
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (out.skipped.empty() && !got_result) {
    if (!error.empty()) out.skipped = "failed: " + error;
    else if (WIFSIGNALED(status)) out.skipped = "failed: killed by signal " + std::to_string(WTERMSIG(status));
    else out.skipped = "failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")";
  }
  if (!out.skipped.empty()) out.v.clear();
  return out;
}

double parse_positive(const std::string& s, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0))
    throw bench::UsageError(std::string(what) + " needs a positive number, got '" + s + "'");
  return v;
}

// Log-log plots of the median fwd+bwd time and of peak - base RSS against n, one
// line per variant, from the report's rows (measured, or read back by --replot).
void draw_plots(bench::Report& report, const std::string& prefix, int threads) {
  std::vector<std::string> order;
  std::map<std::string, ta::viz::Series> time_series, mem_series;
  for (const bench::Row& row : report.rows()) {
    ta::viz::Series* s = row.metric == "ms_fwd_bwd"      ? &time_series[row.variant]
                         : row.metric == "delta_rss_mib" ? &mem_series[row.variant]
                                                         : nullptr;
    if (!s) continue;
    if (std::find(order.begin(), order.end(), row.variant) == order.end()) order.push_back(row.variant);
    s->name = row.variant;
    s->x.push_back(std::atof(row.n.c_str()));
    s->y.push_back(row.value);
  }
  if (order.empty()) return;
  std::vector<ta::viz::Series> ts, ms;
  for (const auto& v : order) {
    if (time_series.count(v)) ts.push_back(time_series[v]);
    if (mem_series.count(v)) ms.push_back(mem_series[v]);
  }
  char title[160];
  std::snprintf(title, sizeof title, "attention op fwd+bwd, batch 1, causal, %d thread%s: median time", threads,
                threads == 1 ? "" : "s");
  ta::viz::PlotOptions po;
  po.title = title;
  po.x_label = "sequence length n";
  po.y_label = "ms per fwd+bwd";
  po.log_x = po.log_y = true;
  po.width = 900;
  po.height = 600;
  ta::viz::write_plot(prefix + "_time.png", ts, po);
  po.title = "attention op fwd+bwd: peak RSS - base RSS of a fresh process";
  po.y_label = "MiB";
  ta::viz::write_plot(prefix + "_memory.png", ms, po);
  report.note("Plots: " + prefix + "_time.png, " + prefix + "_memory.png (log-log; memory = peak - base RSS).");
}

// --replot: the rows of earlier runs' CSV files (workload "attention"; --variant
// filters them, names need not be registered: e.g. PyTorch rows converted by
// torch_csv.py), printed as a table and drawn, without measuring.
void replot(const bench::Options& opt, bench::Report& report, const std::string& plot) {
  std::vector<std::string> keep = bench::split_commas(opt.value("variant"));
  for (const std::string& path : bench::split_commas(opt.value("replot"))) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) throw bench::UsageError("--replot: cannot read '" + path + "'");
    char buf[512];
    while (std::fgets(buf, sizeof buf, f)) {
      std::string line(buf);
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      std::vector<std::string> cols;
      std::stringstream ss(line);
      std::string col;
      while (std::getline(ss, col, ',')) cols.push_back(col);
      if (cols.size() != 7 || cols[0] != "attention") continue;  // the header, other workloads
      if (!keep.empty() && std::find(keep.begin(), keep.end(), cols[1]) == keep.end()) continue;
      if (!opt.selected(cols[2])) continue;
      report.add(cols[1], cols[2], cols[4], std::atof(cols[5].c_str()), cols[6]);
    }
    std::fclose(f);
  }
  report.note("Read back from " + opt.value("replot") + " (--replot; nothing measured, skipped cases not recorded).");
  if (plot != "none") draw_plots(report, plot, opt.threads);
}

// --plot PREFIX names a file in a folder that must exist and be writable: checked
// before measuring, not after.
void check_plot_folder(const std::string& plot) {
  if (plot == "none") return;
  const size_t slash = plot.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : plot.substr(0, slash);
  struct stat st{};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || access(dir.c_str(), W_OK) != 0)
    throw bench::UsageError("--plot: '" + dir + "' is not a writable folder");
}

// The variants of --variant (each must be registered), or every registered one.
std::vector<std::string> chosen_variants(const bench::Options& opt) {
  const std::vector<ta::AttentionVariant>& registered = ta::attention_variants();
  std::vector<std::string> variants;
  if (!opt.has("variant")) {
    for (const auto& r : registered) variants.push_back(r.name);
    return variants;
  }
  for (const std::string& v : bench::split_commas(opt.value("variant"))) {
    bool known = false;
    for (const auto& r : registered) known = known || r.name == v;
    if (!known) {
      std::string names;
      for (const auto& r : registered) names += (names.empty() ? "" : ", ") + r.name;
      throw bench::UsageError("--variant: unknown attention variant '" + v + "' (registered: " + names + ")");
    }
    variants.push_back(v);
  }
  return variants;
}

// The lengths of --n (or the default ones), ascending and without repeats: a case
// over the limits skips the larger n.
std::vector<int64_t> chosen_lengths(const bench::Options& opt) {
  std::vector<int64_t> ns = opt.has("n") ? bench::split_sizes(opt.value("n"), "--n") : kDefaultNs;
  std::sort(ns.begin(), ns.end());
  ns.erase(std::unique(ns.begin(), ns.end()), ns.end());
  return ns;
}

// The limits past which a case is killed and skipped.
struct Limits {
  double time_s, mem_bytes;
};

// Adds a measured case's numbers to the report. Returns whether its check passed.
bool report_case(const Outcome& o, const std::string& variant, const std::string& label, bench::Report& report) {
  auto v = [&](const char* k) { return o.v.count(k) ? o.v.at(k) : std::nan(""); };
  const double mib = 1.0 / 1048576.0;
  const double peak = v("peak_rss") * mib, base = v("rss_base") * mib;
  std::printf("fwd+bwd %10.2f ms (min %10.2f, r %2.0f)  fwd %9.2f ms  peak RSS %7.0f MiB (base %4.0f)\n",
              1e3 * v("fwd_bwd_median_s"), 1e3 * v("fwd_bwd_min_s"), v("reps"), 1e3 * v("fwd_median_s"), peak, base);
  std::fflush(stdout);
  report.add(variant, label, "ms_fwd_bwd", 1e3 * v("fwd_bwd_median_s"), "ms");
  report.add(variant, label, "ms_fwd_bwd_best", 1e3 * v("fwd_bwd_min_s"), "ms");
  report.add(variant, label, "ms_fwd", 1e3 * v("fwd_median_s"), "ms");
  report.add(variant, label, "ms_fwd_best", 1e3 * v("fwd_min_s"), "ms");
  report.add(variant, label, "reps", v("reps"), "count");
  report.add(variant, label, "peak_rss_mib", peak, "MiB");
  report.add(variant, label, "base_rss_mib", base, "MiB");
  report.add(variant, label, "delta_rss_mib", peak - base, "MiB");
  report.add(variant, label, "cpu_user_s", v("cpu_user_s"), "s/iter");
  report.add(variant, label, "cpu_sys_s", v("cpu_sys_s"), "s/iter");
  report.add(variant, label, "steal_pct", 100 * v("steal"), "%");
  if (v("check") == 1) return true;
  report.remark(variant, label, "CHECK FAILED: non-finite output or gradient");
  return false;
}

// How many cases were measured, and how many of those failed their check.
struct Tally {
  int measured = 0, checks_failed = 0;
};

// Every length of one variant, each in a fresh process; after a case over the
// limits, the larger lengths are skipped.
void measure_variant(const ta::AttentionVariant& info, const std::vector<int64_t>& ns, const bench::Options& opt,
                     const Limits& limits, bench::Report& report, Tally& tally) {
  const std::string& variant = info.name;
  std::string dead;  // why the larger n are skipped
  for (int64_t n : ns) {
    const std::string label = std::to_string(n);
    if (!opt.selected(label)) continue;
    if (!info.supports_causal) {
      report.remark(variant, label, "skipped: no causal mode");
      continue;
    }
    if (!dead.empty()) {
      report.remark(variant, label, "skipped: smaller n already " + dead);
      continue;
    }
    std::printf("  %-20s n=%-6lld ", variant.c_str(), static_cast<long long>(n));
    std::fflush(stdout);
    const Outcome o = run_child(variant, n, opt.threads, opt.device, limits.time_s, limits.mem_bytes);
    if (!o.skipped.empty()) {
      char seen[64];
      std::snprintf(seen, sizeof seen, " (RSS seen %.0f MiB)", o.seen_rss / 1048576.0);
      std::printf("%s%s\n", o.skipped.c_str(), seen);
      report.remark(variant, label, o.skipped + (o.limit ? seen : ""));
      dead = o.skipped.rfind("skipped: ", 0) == 0 ? o.skipped.substr(9) : o.skipped;
      continue;
    }
    if (!report_case(o, variant, label, report)) ++tally.checks_failed;
    ++tally.measured;
  }
}

void add_notes(bench::Report& report, const Limits& limits, const Tally& tally) {
  report.note("Attention op alone, fwd+bwd, float32, batch 1, causal. Multi-head variants: the registry's core on "
              "q, k, v [1, 4, n, 64] (sparse-*: stride l = sqrt(n) rounded to a power of two); GAU variants: the fused "
              "FLASH op on Z [1, n, 128], V [1, n, 512], gamma, beta [planes, 128] (chunk 256, scales 1/256; "
              "flash-quad: one chunk, 1/n).");
  report.note("Each case in a fresh process: 1 warm-up iteration, then r timed (attention.py's rule); median (min). "
              "peak_rss = the process's VmHWM; base_rss = its VmRSS after building the inputs, before the first "
              "iteration; delta = peak - base. cpu_* = CPU seconds per iteration; steal = hypervisor steal share.");
  char text[160];
  std::snprintf(text, sizeof text,
                "A case is killed and skipped when its RSS passes %g GiB or one iteration passes %g s; larger n of "
                "that variant are then skipped too.",
                limits.mem_bytes / 1073741824.0, limits.time_s);
  report.note(text);
  report.note(tally.checks_failed
                  ? "Check: " + std::to_string(tally.checks_failed) + " case(s) had a non-finite output or gradient."
                  : "Check: output and input gradients finite after the warm-up iteration in all " +
                        std::to_string(tally.measured) + " measured cases.");
}

void run_attention(const bench::Options& opt, bench::Report& report) {
  report.set_layout(bench::Report::Layout::ByVariantAndN);
  const std::string plot = opt.value("plot", "build/bench_attention");
  check_plot_folder(plot);
  if (opt.has("replot")) return replot(opt, report, plot);

  const std::vector<std::string> variants = chosen_variants(opt);
  const std::vector<int64_t> ns = chosen_lengths(opt);
  const Limits limits{parse_positive(opt.value("time-limit", "60"), "--time-limit"),
                      parse_positive(opt.value("mem-limit", "16"), "--mem-limit") * 1073741824.0};
  Tally tally;
  for (const std::string& variant : variants)
    measure_variant(ta::find_attention_variant(variant), ns, opt, limits, report, tally);
  add_notes(report, limits, tally);
  if (plot != "none") draw_plots(report, plot, opt.threads);
}

const bench::RegisterWorkload reg{{
    "attention",
    "attention op alone, fwd+bwd ms and peak RSS per variant and n, each case in a fresh process",
    run_attention,
    {
        {"variant", "NAME[,NAME...]", "attention variants (default: every registered one with a causal mode)"},
        {"n", "N[,N...]", "sequence lengths (default 256,1024,4096,16384; 65536 allowed)"},
        {"plot", "PREFIX", "log-log plots PREFIX_time.png, PREFIX_memory.png (default build/bench_attention; none: no plots)"},
        {"time-limit", "S", "skip a case whose one iteration passes S seconds, and larger n (default 60)"},
        {"mem-limit", "GIB", "skip a case whose RSS passes GIB GiB, and larger n (default 16)"},
        {"replot", "CSV[,CSV...]", "no measuring: table and plots from earlier --csv files (--variant filters)"},
        {"one-case", "VARIANT:N", ""},  // hidden: the child process of one case
    },
    "one-case",
    attention_child,
}};

}  // namespace
