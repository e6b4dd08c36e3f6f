#include "examples/common/data_parallel.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "autograd/engine.h"
#include "core/error.h"
#include "core/random.h"
#include "distributed/replicas.h"
#include "examples/common/flags.h"
#include "examples/common/stop_signals.h"

namespace ta::examples {

namespace {

// How many processes the launcher started, from its environment: Open MPI's
// mpirun, Slurm's srun, PMI launchers (MPICH's hydra, srun --mpi=pmi2), PMIx
// (srun --mpi=pmix: -1, the number unknown); 0 when no launcher started this one.
int64_t launched_processes() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "SLURM_STEP_NUM_TASKS", "PMI_SIZE"}) {
    int64_t n = 0;
    if (const char* value = std::getenv(name); value && parse_whole_number(value, n) && n > 0) return n;
  }
  return std::getenv("PMIX_RANK") ? -1 : 0;
}

const std::string kProcessesKey = "processes";

// The standard error a rank > 0 had before Processes discarded it, or -1.
int own_stderr = -1;

}  // namespace

Processes::Processes() {
  const int64_t launched = launched_processes();
  if (launched == 0) return;
  int argc = 0;
  char** argv = nullptr;  // MPI needs neither
  session_ = std::make_unique<dist::Session>(argc, argv);
  TA_CHECK(launched < 0 || launched == dist::world_size(), "started as one of ", launched,
           " processes, but MPI (", dist::mpi_library(), ") sees ", dist::world_size(),
           ": a build without MPI (make finds it with mpicxx: install libopenmpi-dev and rebuild), or srun without "
           "MPI support (srun --mpi=pmix)");
  if (dist::is_root()) return;
  own_stderr = ::dup(STDERR_FILENO);
  const int null = ::open("/dev/null", O_WRONLY);
  TA_CHECK(own_stderr >= 0 && null >= 0, "rank ", dist::rank(), ": cannot open /dev/null for its output");
  std::fflush(stdout);
  std::fflush(stderr);
  ::dup2(null, STDOUT_FILENO);
  ::dup2(null, STDERR_FILENO);
  ::close(null);
}

Processes::~Processes() {
  if (own_stderr >= 0) ::close(own_stderr);
  own_stderr = -1;
}

int end_with_error(const std::string& program, const std::string& what) {
  if (dist::world_size() == 1) {
    std::fprintf(stderr, "\n%s: error: %s\n", program.c_str(), what.c_str());
    return 1;
  }
  if (own_stderr >= 0) {
    std::fflush(stderr);
    ::dup2(own_stderr, STDERR_FILENO);
  }
  dist::abort_all(cat(program, ": error: ", what));
}

dist::RowRange rows_of_this_process(int64_t rows) {
  return dist::batch_share(rows, dist::rank(), dist::world_size());
}

DataParallel::DataParallel(TransformerLM& model, double bucket_mb) : model_(model) {
  if (dist::world_size() == 1) return;
  std::vector<Tensor> state;
  for (const auto& [name, t] : model.state_dict()) state.push_back(t);
  dist::broadcast_from_root(state);
  dist::ReducerOptions options;
  options.bucket_mb = bucket_mb;
  reducer_ = std::make_unique<dist::GradientReducer>(model.parameters(), options);
  bucket_mb_ = bucket_mb;
  key_dropout_by_rank();
}

std::string DataParallel::description(int64_t batch) const {
  if (!reducer_) return "";
  return cat("data parallel: ", dist::world_size(), " processes (", dist::mpi_library(), "), global batch ",
             batch * dist::world_size(), " = ", dist::world_size(), " x --batch ", batch, "; gradients averaged in ",
             reducer_->bucket_count(), " bucket", reducer_->bucket_count() > 1 ? "s" : "", " of up to ", bucket_mb_,
             " MB");
}

void DataParallel::backward(const Tensor& loss) {
  if (reducer_) reducer_->backward(loss);
  else ta::backward(loss);
}

// Rank r's key: the first two Philox words of (seed, 2^63 + r), a counter that no
// fill of the seed's own stream reaches; rank 0 keeps the seed, so the checkpoint
// (rank 0's generator) resumes every rank's stream.
void DataParallel::key_dropout_by_rank() {
  if (dist::rank() == 0) return;
  const std::array<uint32_t, 4> w = philox4x32(model_.gen.seed, (uint64_t{1} << 63) + static_cast<uint64_t>(dist::rank()));
  model_.gen.seed = (static_cast<uint64_t>(w[0]) << 32) | w[1];
}

double rank0_value(double value) {
  dist::broadcast_bytes(&value, sizeof value);
  return value;
}

// Each process marks the signal it saw; the sum over processes has a mark at every
// signal seen anywhere, and all take the lowest.
int stop_signal_of_any_process() {
  if (dist::world_size() == 1) return stop_signal();
  std::vector<double> seen(NSIG, 0.0);
  if (const int s = stop_signal(); s > 0 && s < NSIG) seen[s] = 1;
  seen = dist::sum_over_ranks(std::move(seen));
  for (int s = 1; s < NSIG; ++s)
    if (seen[s] > 0) return s;
  return 0;
}

void store_processes(Metadata& meta) { meta[kProcessesKey] = std::to_string(dist::world_size()); }

Metadata for_these_processes(Metadata stored, const std::string& source) {
  int64_t before = 1, batch = 0;  // checkpoints of one process before this was stored: 1
  if (const auto it = stored.find(kProcessesKey); it != stored.end())
    TA_CHECK(parse_whole_number(it->second, before) && before > 0, source, ": metadata '", kProcessesKey,
             "' is not a positive whole number: '", it->second, "'");
  const int64_t now = dist::world_size();
  const auto stored_batch = stored.find("flag.batch");
  if (before == now || stored_batch == stored.end() || !parse_whole_number(stored_batch->second, batch)) return stored;
  const int64_t global = batch * before;
  TA_CHECK(global % now == 0, "--resume: the run in ", source, " was trained by ", before, " process",
           before > 1 ? "es" : "", " of --batch ", batch, " (a global batch of ", global, " rows), and ", now,
           " processes cannot share ", global, " rows equally: resume it with a number of processes that divides ",
           global, ", or start a new run");
  stored_batch->second = std::to_string(global / now);
  std::fprintf(stderr, "note: the run was trained by %lld process%s of --batch %lld; %lld process%s continue%s it "
                       "with --batch %lld each: the global batch stays %lld, and so do the batches\n",
               static_cast<long long>(before), before > 1 ? "es" : "", static_cast<long long>(batch),
               static_cast<long long>(now), now > 1 ? "es" : "", now > 1 ? "" : "s",
               static_cast<long long>(global / now), static_cast<long long>(global));
  return stored;
}

}  // namespace ta::examples
