// distributed/world.h — the processes of a data-parallel run: starting and ending
// MPI, this process's rank among world_size(), and the small host-side collectives a
// training program needs (sums of metrics, one rank's failure ending all of them).
//
// The processes are started by `mpirun -np P program ...` (or Slurm's `srun`); each
// runs the same program on its own share of the data. This file is built on MPI
// when the Makefile finds it (distributed/mpi.cpp); otherwise
// distributed/single_process.cpp stands in: one process, rank 0 of 1, every
// collective the identity. A program written for several processes therefore runs
// unchanged as one, with or without MPI, and a program that never makes a Session
// is one process even in a build with MPI.
//
// All of MPI stays behind these functions: no header of the library includes mpi.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ta::dist {

// Starts MPI for the life of the object (MPI_Init_thread, "funneled": only the
// thread that made the Session calls MPI; OpenMP's threads never do) and ends it
// afterwards, releasing the communicators first. One per program, first thing in
// main, before any other function here. Without MPI in the build it does nothing.
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

// What the Makefile found: "Open MPI 4.1.4"-like text from the MPI library, or
// "none (single process)".
std::string mpi_library();

int rank();        // 0 .. world_size() - 1 (0 without a Session)
int world_size();  // processes in the run (1 without a Session)
bool is_root();    // rank() == 0: the process that prints, logs and writes files
// Rank among the processes on this machine (0 .. processes here - 1): which GPU a
// process takes when each has its own (bind_local_gpu).
int local_rank();
void barrier();

// Element-wise sums over all ranks; every rank gets the result.
std::vector<double> sum_over_ranks(std::vector<double> values);
double sum_over_ranks(double value);
double mean_over_ranks(double value);
// True on every rank when `flag` is true on at least one: for decisions all ranks
// must take at the same step (stop on Ctrl-C or a time limit, whose clocks differ
// slightly from rank to rank).
bool any_rank(bool flag);
// world_size() * count / (count summed over ranks): the factor that turns this rank's
// mean over its `count` items (tokens, images) into its share of the mean over all
// ranks' items. Data parallelism averages gradients over ranks, so with ranks of
// unequal counts (padding, ignored targets) each rank multiplies its loss by this
// before backward; with equal counts it is 1.
double mean_weight(int64_t count);

// Overwrites `bytes` bytes at `data` on every rank with rank 0's (the NCCL bootstrap
// sends its unique id this way).
void broadcast_bytes(void* data, size_t bytes);

// Runs body() and returns its status. An exception is printed to stderr, prefixed
// by the rank; in a run of several processes it then ends all of them
// (MPI_Abort) instead of leaving the others waiting forever in their next
// collective. In one process it returns 1.
int run_or_abort_all(const std::function<int()>& body);
// Prints "rank R: message" to stderr and ends every process of the run with
// `status` (exit(status) in one process).
[[noreturn]] void abort_all(const std::string& message, int status = 1);

// Makes this process use GPU local_rank() % (GPUs on this machine), so that the
// processes of one machine take one GPU each. Call it right after the Session,
// before any CUDA tensor exists. An error in a build without CUDA or NCCL.
void bind_local_gpu();

}  // namespace ta::dist
