// Workload "data-parallel": the train-step model (train_step.cpp, spec_model.h)
// trained data-parallel over MPI (distributed/reducer.h), against one process.
//
//   build/bench data-parallel [--attention NAME] [--bucket-mb MB[,MB...]] [--steps N] [--configs LIST]
//
// Configurations, each a fresh `mpirun -np P` of this program (hidden option
// --dp-child), one rank per process:
//   1x1       1 rank, 1 thread
//   1x2       1 rank, 2 threads (OpenMP and OpenBLAS)
//   2x1 ...   2 ranks of 1 thread each, gradients reduced in buckets of each
//             --bucket-mb (default 25 and 1), with overlap (reductions started during
//             backward) and without (all after backward)
// Every rank trains on its own fixed batch of 4 x 1024 random tokens (seed 42 +
// rank), so a step of P ranks processes P x 4096 tokens: tokens/s counts them all.
// Timed per step on rank 0 (ranks meet at the reduction, so their steps take about
// as long): forward + loss, backward (with the packing of gradients and the sums
// started during it), finish (from backward's return to the mean gradients in
// place: the communication NOT overlapped with backward, plus unpacking), the AdamW
// step, and rank 0's CPU seconds per step. After the steps, one all-reduce of the
// whole gradient right after a barrier: the communication alone, without waiting
// for another rank's compute. 2 warm-up steps, then --steps timed ones (default
// 5); medians, and tokens/s also from the fastest step ("best").
//
// mpirun's flags: --oversubscribe (2 ranks may exceed the free cores), --bind-to
// none (the OS places the processes, as for the threads of 1x2), and
// --allow-run-as-root when run as root.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "attention/registry.h"
#include "distributed/communicator.h"
#include "distributed/reducer.h"
#include "distributed/replicas.h"
#include "distributed/world.h"
#include "examples/bench/bench.h"
#include "examples/bench/spec_model.h"
#include "examples/bench/timing.h"
#include "tinyattn.h"

namespace {

constexpr int64_t kBatch = bench::kSpecBatch, kSeq = bench::kSpecSeq;
constexpr int kWarmup = 2;

// ---------------------------------------------------------------- one configuration

// The timed steps' parts by name ("step_s", "fwd_s", ...) and rank 0's CPU seconds
// per timed step.
struct StepTimes {
  std::map<std::string, std::vector<double>> times;
  double cpu_user_s = 0, cpu_sys_s = 0;
};

// kWarmup + `timed` training steps with the gradients reduced over the ranks; rank 0
// prints a "STEP ..." line for each.
StepTimes time_steps(ta::TransformerLM& model, ta::AdamW& optimizer, ta::dist::GradientReducer& reducer,
                     const ta::Tensor& x, const ta::Tensor& y, int timed, ta::Device device) {
  StepTimes st;
  auto& times = st.times;
  bench::CpuSeconds cpu0;
  for (int step = 0; step < kWarmup + timed; ++step) {
    if (step == kWarmup) cpu0 = bench::cpu_seconds();
    const double t0 = bench::now_s();
    optimizer.zero_grad();
    ta::Tensor loss = ta::cross_entropy(model.forward(x), y);
    bench::synchronize(device);
    const double t1 = bench::now_s();
    reducer.backward(loss);
    bench::synchronize(device);
    const double t2 = bench::now_s();
    optimizer.step(3e-4f);
    bench::synchronize(device);
    const double t3 = bench::now_s();
    const bool several = ta::dist::world_size() > 1;
    const double finish = several ? reducer.last_stats().finish_s : 0.0;
    const double loss_mean = ta::dist::mean_over_ranks(loss.item());
    if (ta::dist::is_root()) {
      std::printf("STEP %d %.3f s (fwd %.3f, bwd %.3f, finish %.4f, opt %.4f), loss %.4f\n", step + 1, t3 - t0,
                  t1 - t0, t2 - t1 - finish, finish, t3 - t2, loss_mean);
      std::fflush(stdout);
    }
    if (step < kWarmup) continue;
    times["step_s"].push_back(t3 - t0);
    times["fwd_s"].push_back(t1 - t0);
    times["bwd_s"].push_back(t2 - t1 - finish);
    times["finish_s"].push_back(finish);
    times["flags_s"].push_back(several ? reducer.last_stats().flags_s : 0.0);
    times["wait_s"].push_back(several ? reducer.last_stats().wait_s : 0.0);
    times["opt_s"].push_back(t3 - t2);
  }
  const bench::CpuSeconds cpu1 = bench::cpu_seconds();
  st.cpu_user_s = (cpu1.user - cpu0.user) / timed;
  st.cpu_sys_s = (cpu1.sys - cpu0.sys) / timed;
  return st;
}

// The communication alone: 5 sums of `floats` floats over all ranks, each started
// right after a barrier (so no rank waits for another's compute).
std::vector<double> time_all_reduce(int64_t floats, ta::Device device) {
  ta::dist::Communicator& comm = ta::dist::communicator(device);
  const ta::Tensor flat = ta::Tensor::zeros(ta::Shape{floats}, device);
  std::vector<double> times;
  for (int rep = 0; rep < 5; ++rep) {
    ta::dist::barrier();
    const double t0 = bench::now_s();
    comm.wait(comm.start_sum(flat));
    bench::synchronize(device);
    times.push_back(bench::now_s() - t0);
  }
  return times;
}

// Rank 0's "RESULT key value ..." line for the parent.
void print_result(StepTimes& st, const ta::dist::GradientReducer& reducer, int64_t grad_floats) {
  std::ostringstream line;
  line << "RESULT ranks " << ta::dist::world_size() << " tokens_per_step " << kBatch * kSeq * ta::dist::world_size()
       << " grad_mb " << grad_floats * 4e-6 << " buckets " << reducer.bucket_count() << " started_in_bwd "
       << reducer.last_stats().started_during_backward;
  for (const auto& [name, v] : st.times) line << " " << name << " " << bench::summarize(v).median;
  line << " step_best_s " << bench::summarize(st.times["step_s"]).min << " cpu_user_s " << st.cpu_user_s
       << " cpu_sys_s " << st.cpu_sys_s;
  std::printf("%s\n", line.str().c_str());
  std::fflush(stdout);
}

// Runs on every rank of the mpirun; rank 0 prints "STEP ..." lines and one
// "RESULT key value ..." line for the parent.
int data_parallel_child(const bench::Options& opt) {
  int argc = 0;
  char** argv = nullptr;
  ta::dist::Session session(argc, argv);
  return ta::dist::run_or_abort_all([&] {
    if (opt.device == ta::Device::CUDA) ta::dist::bind_local_gpu();
    ta::dist::ReducerOptions ro;
    ro.bucket_mb = std::atof(opt.value("bucket-mb", "25").c_str());
    ro.overlap = opt.value("overlap", "on") == "on" ? ta::dist::Overlap::On : ta::dist::Overlap::Off;
    const int timed = std::atoi(opt.value("steps", "5").c_str());

    auto model = bench::spec_lm(opt.value("attention", "softmax"));
    model->to(opt.device);
    ta::dist::broadcast_from_root(model->parameters());
    ta::AdamOptions ao;
    ta::AdamW optimizer(ta::all_parameters(model->named_parameters(), 0.01f), ao);
    ta::dist::GradientReducer reducer(model->parameters(), ro);
    const auto [x, y] = bench::spec_batch(42 + ta::dist::rank(), opt.device);
    int64_t grad_floats = 0;
    for (const ta::Tensor& p : model->parameters()) grad_floats += p.numel();

    StepTimes st = time_steps(*model, optimizer, reducer, x, y, timed, opt.device);
    st.times["allreduce_s"] = time_all_reduce(grad_floats, opt.device);
    if (ta::dist::is_root()) print_result(st, reducer, grad_floats);
    return 0;
  });
}

// ---------------------------------------------------------------- the parent

struct Config {
  std::string label;
  int ranks, threads;
  double bucket_mb;
  bool overlap;
};

// Runs one configuration under mpirun and returns rank 0's RESULT numbers.
std::map<std::string, double> run_config(const Config& c, const bench::Options& opt) {
  char exe[4096];
  const ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (k <= 0) throw std::runtime_error("data-parallel: cannot find this program (/proc/self/exe)");
  exe[k] = '\0';
  std::ostringstream cmd;
  cmd << "mpirun -np " << c.ranks << " --oversubscribe --bind-to none" << (geteuid() == 0 ? " --allow-run-as-root" : "")
      << " -x OMP_NUM_THREADS=" << c.threads << " '" << exe << "' data-parallel --threads " << c.threads
      << " --device " << ta::device_name(opt.device) << " --dp-child 1 --bucket-mb " << c.bucket_mb << " --overlap "
      << (c.overlap ? "on" : "off") << " --steps " << opt.value("steps", "5") << " --attention "
      << opt.value("attention", "softmax");
  std::printf("  %s: %s\n", c.label.c_str(), cmd.str().c_str());
  std::fflush(stdout);
  FILE* pipe = popen(cmd.str().c_str(), "r");
  if (!pipe) throw std::runtime_error("data-parallel: cannot start mpirun");
  std::map<std::string, double> result;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe)) {
    const std::string line(buf);
    if (line.rfind("RESULT ", 0) == 0) {
      std::istringstream is(line.substr(7));
      std::string key;
      double value;
      while (is >> key >> value) result[key] = value;
    } else {
      std::printf("    %s", line.c_str());
    }
  }
  const int status = pclose(pipe);
  if (status != 0 || result.empty())
    throw std::runtime_error("data-parallel: configuration " + c.label + " failed (mpirun exit status " +
                             std::to_string(WEXITSTATUS(status)) + "; is mpirun on the PATH?)");
  return result;
}

void run_data_parallel(const bench::Options& opt, bench::Report& report) {
  if (ta::dist::mpi_library() == "none (single process)")
    throw bench::UsageError("data-parallel needs a build with MPI (the Makefile found no mpicxx)");
  report.set_layout(bench::Report::Layout::ByVariantAndN);
  const std::vector<std::string> wanted = bench::split_commas(opt.value("configs", "1x1,1x2,2x1"));
  auto want = [&](const std::string& c) { return std::find(wanted.begin(), wanted.end(), c) != wanted.end(); };
  for (const std::string& c : wanted)
    if (c != "1x1" && c != "1x2" && c != "2x1") throw bench::UsageError("--configs: unknown configuration '" + c + "'");
  std::vector<Config> configs;
  if (want("1x1")) configs.push_back({"1x1", 1, 1, 25, true});
  if (want("1x2")) configs.push_back({"1x2", 1, 2, 25, true});
  for (const std::string& mb : bench::split_commas(opt.value("bucket-mb", "25,1"))) {
    const double v = std::atof(mb.c_str());
    if (!(v > 0)) throw bench::UsageError("--bucket-mb needs positive sizes in MB, got '" + mb + "'");
    for (const bool overlap : {true, false})
      if (want("2x1"))
        configs.push_back({"2x1 " + std::string(overlap ? "overlap " : "no-overlap ") + mb + "MB", 2, 1, v, overlap});
  }
  const std::string label = "4x1024/rank";
  if (!opt.selected(label)) return;
  report.describe(label, "batch 4 x seq 1024 per rank");
  for (const Config& c : configs) {
    const std::map<std::string, double> r = run_config(c, opt);
    const double tokens = r.at("tokens_per_step");
    report.add(c.label, label, "tokens_per_s", tokens / r.at("step_s"), "tokens/s");
    report.add(c.label, label, "tokens_per_s_best", tokens / r.at("step_best_s"), "tokens/s");
    for (const char* m : {"step_s", "fwd_s", "bwd_s", "finish_s", "flags_s", "wait_s", "opt_s", "allreduce_s"})
      report.add(c.label, label, m, r.at(m), "s");
    report.add(c.label, label, "cpu_user_s", r.at("cpu_user_s"), "s/step");
    report.add(c.label, label, "cpu_sys_s", r.at("cpu_sys_s"), "s/step");
    report.add(c.label, label, "buckets", r.at("buckets"), "count");
    report.add(c.label, label, "started_in_bwd", r.at("started_in_bwd"), "count");
    report.add(c.label, label, "grad_mb", r.at("grad_mb"), "MB");
  }
  report.note("Configurations RxT: R ranks (mpirun -np R --bind-to none) of T threads each; every rank trains on its "
              "own 4 x 1024 tokens, so tokens/s = R x 4096 / median step. bwd = backward with the gradients packed "
              "and their sums started during it; finish = after backward returns until the mean gradients are in "
              "place: the communication not overlapped (plus packing what was left and unpacking); its parts flags "
              "= the blocking host sum of which parameters got gradients (it also waits for the slower rank to end "
              "its backward: load imbalance, not communication) and wait = waiting for sums still in flight. "
              "allreduce = one sum of the whole gradient over the ranks right after a barrier: the communication "
              "itself (median of 5). cpu_* = rank 0's CPU seconds per timed step (all its threads): on a busy "
              "machine the wall times grow, the CPU per step shows the work. "
              "Medians of the timed steps on rank 0, after 2 warm-ups.");
}

const bench::RegisterWorkload reg{{
    "data-parallel",
    "train-step model data-parallel over MPI: tokens/s and unoverlapped communication, 1 and 2 ranks vs 2 threads",
    run_data_parallel,
    {{"attention", "NAME", "the attention variant (default softmax; multi-head variants)"},
     {"bucket-mb", "MB[,MB...]", "bucket sizes of the 2-rank runs (default 25,1)"},
     {"configs", "LIST", "which of 1x1, 1x2, 2x1 to run (default all three)"},
     {"steps", "N", "timed steps per configuration (default 5)"},
     {"overlap", "on|off", ""},  // hidden: the child's setting
     {"dp-child", "1", ""}},     // hidden: run one configuration as a rank of mpirun
    "dp-child",
    data_parallel_child,
}};

}  // namespace
