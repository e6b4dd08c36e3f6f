// examples/common/data_parallel.h — the example programs trained by several
// processes at once (data parallelism, distributed/README.md), started by
// `mpirun -np P program ...` or Slurm's `srun`. Nothing changes on the command line:
// the processes find each other through MPI, --batch is each process's share, and
// P processes of --batch B train like one process of --batch P x B.
//
// What holds, and where it is done:
//   - starting: a program starts MPI only when a launcher started it (Processes,
//     made by run_main); started by hand it is one process, with or without MPI;
//   - batches: every process draws the same global batch of --batch x P rows from
//     the run's data generator and trains on its own block of those rows
//     (rows_of_this_process). The data order depends only on --seed, not on P;
//   - gradients: the model starts as rank 0's, and backward averages every
//     gradient over the processes in buckets of --bucket-mb, overlapped with
//     backward (DataParallel, distributed/reducer.h); all take the same step;
//   - dropout: each process draws its own masks (a generator keyed by its rank);
//   - metrics: a step's loss is the mean over all processes' rows, its tokens the
//     sum; evaluations split their items over the processes and add up the sums;
//   - decisions: the learning rate under a time limit, the end of training, a stop
//     asked by a signal (to any one process) and divergence are decided on values
//     all processes share, so every process stops after the same step;
//   - output: only rank 0 prints and writes files (log, checkpoints, pictures,
//     samples). The other processes' standard output and error are discarded,
//     except the message of an error that ends the run, "rank R: program: error:
//     ...", after which every process is ended (MPI_Abort) instead of waiting
//     forever for a partner that is gone;
//   - resuming: every process reads the checkpoint (rank 0's), so --out must be
//     where all of them can read it (one machine, or a shared file system). The
//     checkpoint records the number of processes. Resumed by another number P',
//     the run keeps its global batch G: each process takes G / P' rows (a note
//     says so) and the batches continue exactly; when P' does not divide G the
//     run is refused with a message naming both numbers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "distributed/reducer.h"
#include "distributed/shard.h"
#include "distributed/world.h"
#include "layers/safetensors.h"
#include "layers/transformer.h"

namespace ta::examples {

// The processes of this run. Started by a launcher (the environment of Open MPI's
// mpirun, Slurm's srun or a PMI launcher says so), it starts MPI for its lifetime
// and checks that MPI sees as many processes as the launcher started (an Error
// otherwise: a build without MPI, or srun without its MPI plugin, would run P
// copies of a one-process job into the same folder). On every rank but 0 it then
// discards standard output and error.
class Processes {
 public:
  Processes();
  ~Processes();
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;

 private:
  std::unique_ptr<dist::Session> session_;
};

// An error that ends the program. One process: prints "\nprogram: error: what"
// and returns the exit status (1). Several (while Processes lives): prints "rank
// R: program: error: what" on the process's own standard error and ends every
// process (MPI_Abort).
int end_with_error(const std::string& program, const std::string& what);

// This process's rows [begin, begin + count) of a global batch of `rows` rows
// (all of them in one process).
dist::RowRange rows_of_this_process(int64_t rows);

// The training side of a data-parallel run, for one model: made rank 0's, its
// gradients averaged over processes by backward(), its dropout masks its own.
// In one process, backward() is plain backward and nothing else happens.
class DataParallel {
 public:
  DataParallel(TransformerLM& model, double bucket_mb);
  // backward(loss) with every gradient then the mean over the processes.
  void backward(const Tensor& loss);
  // After the model's generator was set (built, or loaded from a checkpoint,
  // which holds rank 0's): rank r > 0 draws dropout masks from its own key.
  void key_dropout_by_rank();
  // Several processes: their number, the global batch of `batch` rows per process
  // and the buckets, in a line for the user; one process: "".
  std::string description(int64_t batch) const;

 private:
  TransformerLM& model_;
  std::unique_ptr<dist::GradientReducer> reducer_;  // none in one process
  double bucket_mb_ = 0;
};

// The same number on every process: rank 0's.
double rank0_value(double value);
// 0, or the signal that asked the run to stop on any process (the same on all):
// examples/common/stop_signals.h over all processes.
int stop_signal_of_any_process();

// Checkpoints: the number of processes that trained the run ("processes").
void store_processes(Metadata& meta);
// The run's stored flags as this number of processes continues them: with the
// same number, `stored` itself; with another that divides the global batch, the
// per-process --batch changed to keep it (a note says so); otherwise an Error
// naming both numbers. `source` names the checkpoint.
Metadata for_these_processes(Metadata stored, const std::string& source);

}  // namespace ta::examples
