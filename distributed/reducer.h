// distributed/reducer.h — data-parallel gradients: after backward, every rank's
// parameters hold the mean over all ranks of their gradients, reduced in buckets
// while backward is still running.
//
// Each rank computes the loss of its own share of the global batch; the gradient of
// the mean loss over the global batch is the mean of the ranks' gradients (for
// equal shares; otherwise weight each rank's loss by dist::mean_weight). So with
// the same initial parameters (broadcast_from_root) and the same optimizer steps on
// the same mean gradients, the ranks stay identical, and P ranks with batch B train
// as one process with batch P * B.
//
// How (PyTorch DDP's design, Li et al. 2020, "PyTorch Distributed: Experiences on
// Accelerating Data Parallel Training"):
//   - the parameters are cut into buckets of about bucket_mb (distributed/buckets.h),
//     each with a flat buffer on the parameters' device;
//   - during backward, as soon as a parameter's gradient is complete (the engine
//     says so: autograd/grad_ready.h) it is copied into its place in its bucket;
//     a bucket whose gradients are all in starts its sum over ranks at once
//     (non-blocking), so it travels while backward computes earlier layers;
//   - buckets start in a fixed order (bucket k only after buckets 0..k-1), because
//     every rank must issue its collectives in the same order;
//   - when backward returns, the buckets not yet started (parameters that got no
//     gradient this pass count as zero) are started, all are waited for, and each
//     parameter's .grad is replaced by a new tensor, its bucket slice / world size.
//     Gradients are never modified in place in this framework: the reduced
//     gradient is a tensor of its own, so clipping (optim/clip.h) and optimizers
//     see an ordinary gradient, and the bucket can be refilled next step.
// A parameter that got no gradient on any rank keeps none (the optimizer skips it,
// as in one process); one that got a gradient on some ranks gets the mean with
// zeros from the others.
//
// With Overlap::Off the whole reduction happens after backward returns: the same
// numbers, for measuring what overlap saves.
//
// Gradient accumulation over micro-batches: backward(loss_i, Sync::Off) for all
// but the last (gradients add up locally, nothing is sent), then
// backward(loss_k, Sync::On) reduces the accumulated gradients once.
//
// Limit: a parameter used both inside a gradient-checkpointed block and outside it
// (or in two such blocks) is reported complete by the inner backward before the
// rest of its gradient arrives; the reducer detects this and throws, naming the
// parameter: use Overlap::Off for such a model (PyTorch DDP has the same limit).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"
#include "distributed/communicator.h"

namespace ta::dist {

enum class Overlap { On, Off };
// Off: accumulate locally (all micro-batches but the last); On: reduce.
enum class Sync { On, Off };

struct ReducerOptions {
  double bucket_mb = 25.0;  // bucket size in megabytes (10^6 bytes) of float32 gradients
  Overlap overlap = Overlap::On;
};

// What the last reduced backward did, for benchmarks.
struct ReducerStats {
  int buckets = 0;
  int started_during_backward = 0;  // buckets on the wire before backward returned
  // Host seconds from backward's return to the mean gradients in place: the
  // communication that was not overlapped, plus packing what was left and
  // unpacking. On a GPU the host does not wait for NCCL, so this is launch time only.
  double finish_s = 0;
  // Its parts: the host sum of which parameters got a gradient, a blocking
  // collective, so it also waits for the slowest rank to finish its backward; then
  // waiting for the sums still in flight.
  double flags_s = 0, wait_s = 0;
};

class GradientReducer {
 public:
  // The parameters (leaves that require grad, all on one device) whose gradients
  // are reduced; every rank must pass the same parameters in the same order.
  explicit GradientReducer(std::vector<Tensor> params, ReducerOptions options = {});
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // backward(loss), then (Sync::On) every parameter's .grad is the mean over ranks.
  // In a run of one process it is backward(loss) and nothing else.
  void backward(const Tensor& loss, Sync sync = Sync::On);
  // Reduces the gradients the parameters hold now (e.g. after plain backward()
  // calls): the same result as backward(loss) without the overlap.
  void reduce();

  const ReducerStats& last_stats() const { return stats_; }
  size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Slot {
    Tensor param;
    Tensor view;  // the parameter's place in its bucket's buffer, in its shape
    size_t bucket;
    bool packed = false;
    bool had_grad = false;
  };
  struct Bucket {
    Tensor flat;
    size_t slots = 0, packed = 0;
    int ticket = -1;
  };

  void on_gradient_ready(const Tensor& leaf);
  void pack(size_t slot);
  void start_ready_buckets();
  void wait_started_buckets();

  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  std::unordered_map<const TensorImpl*, size_t> slot_of_;
  size_t next_bucket_ = 0;  // buckets [0, next_bucket_) are on the wire
  Communicator& comm_;
  ReducerOptions options_;
  bool in_backward_ = false;
  ReducerStats stats_;
};

}  // namespace ta::dist
