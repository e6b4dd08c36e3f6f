#include "distributed/reducer.h"

#include <chrono>
#include <cmath>

#include "autograd/engine.h"
#include "autograd/grad_ready.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/kernels.h"
#include "distributed/buckets.h"

namespace ta::dist {

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

Device device_of(const std::vector<Tensor>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    check_defined(params[i], "GradientReducer", "params[i]");
    TA_CHECK(params[i].device() == params[0].device(), "GradientReducer: parameter ", i, " is on ",
             params[i].device(), ", parameter 0 on ", params[0].device(), "; all must be on one device");
  }
  return params.empty() ? Device::CPU : params[0].device();
}

}  // namespace

GradientReducer::GradientReducer(std::vector<Tensor> params, ReducerOptions options)
    : comm_(communicator(device_of(params))), options_(options) {
  TA_CHECK(std::isfinite(options.bucket_mb) && options.bucket_mb > 0, "GradientReducer: bucket_mb must be > 0, got ",
           options.bucket_mb);
  std::vector<int64_t> numels;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    TA_CHECK(p.is_leaf() && p.requires_grad(), "GradientReducer: parameter ", i, " (shape ", p.shape(),
             ") must be a leaf that requires grad");
    TA_CHECK(slot_of_.emplace(p.impl(), i).second, "GradientReducer: parameter ", i, " appears twice");
    numels.push_back(p.numel());
    slots_.push_back(Slot{p, Tensor(), 0});
  }
  const int64_t cap = std::max<int64_t>(1, static_cast<int64_t>(options.bucket_mb * 1e6 / sizeof(float)));
  for (const std::vector<size_t>& members : plan_buckets(numels, cap)) {
    int64_t total = 0;
    for (size_t i : members) total += numels[i];
    Bucket b;
    b.flat = Tensor::zeros(Shape{total}, device_of(params));
    b.slots = members.size();
    int64_t offset = 0;
    for (size_t i : members) {
      slots_[i].bucket = buckets_.size();
      slots_[i].view = kernels::reshape(kernels::narrow(b.flat, 0, offset, numels[i]), slots_[i].param.shape());
      offset += numels[i];
    }
    buckets_.push_back(std::move(b));
  }
  stats_.buckets = static_cast<int>(buckets_.size());
}

void GradientReducer::backward(const Tensor& loss, Sync sync) {
  if (comm_.size() == 1 || sync == Sync::Off) {
    ta::backward(loss);
    return;
  }
  stats_.started_during_backward = 0;
  if (options_.overlap == Overlap::On) {
    GradReadyScope hook([this](const Tensor& leaf) { on_gradient_ready(leaf); });
    in_backward_ = true;
    try {
      ta::backward(loss);
    } catch (...) {
      // Sums in flight still write into the buckets: let them land before the
      // error leaves (every rank has started the same ones, in the same order).
      in_backward_ = false;
      wait_started_buckets();
      for (Slot& s : slots_) s.packed = false;
      for (Bucket& b : buckets_) b.packed = 0;
      throw;
    }
    in_backward_ = false;
  } else {
    ta::backward(loss);
  }
  reduce();
}

// Called by the engine (autograd/grad_ready.h) when a leaf's gradient is complete.
void GradientReducer::on_gradient_ready(const Tensor& leaf) {
  auto it = slot_of_.find(leaf.impl());
  if (it == slot_of_.end()) return;  // a leaf that is not one of ours
  const size_t i = it->second;
  TA_CHECK(!slots_[i].packed, "GradientReducer: parameter ", i, " (shape ", slots_[i].param.shape(),
           ") was reported complete twice in one backward pass: it is used inside a gradient-checkpointed block "
           "and also outside it (or in two such blocks), so its gradient was not final the first time; use "
           "Overlap::Off for this model");
  pack(i);
  start_ready_buckets();
  comm_.progress();
}

// Copies the parameter's gradient (zeros if it has none) into its bucket slice.
void GradientReducer::pack(size_t i) {
  Slot& s = slots_[i];
  const Tensor g = s.param.grad();
  s.had_grad = g.defined();
  kernels::assign(s.view, s.had_grad ? g : Tensor::zeros(s.param.shape(), s.param.device()));
  s.packed = true;
  ++buckets_[s.bucket].packed;
}

// Starts, in bucket order, every bucket whose gradients are all packed, up to the
// first one that is not complete yet.
void GradientReducer::start_ready_buckets() {
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].packed == buckets_[next_bucket_].slots) {
    Bucket& b = buckets_[next_bucket_++];
    b.ticket = comm_.start_sum(b.flat);
    if (in_backward_) ++stats_.started_during_backward;
  }
}

void GradientReducer::wait_started_buckets() {
  for (size_t k = 0; k < next_bucket_; ++k) {
    Bucket& b = buckets_[k];
    comm_.wait(b.ticket);
    b.ticket = -1;
    b.packed = 0;
  }
  next_bucket_ = 0;
}

void GradientReducer::reduce() {
  if (comm_.size() == 1) return;
  const double t0 = now_s();
  for (size_t i = 0; i < slots_.size(); ++i)
    if (!slots_[i].packed) pack(i);
  start_ready_buckets();
  const double t_flags = now_s();
  std::vector<double> had_grad;
  for (const Slot& s : slots_) had_grad.push_back(s.had_grad ? 1.0 : 0.0);
  const std::vector<double> ranks_with_grad = comm_.sum_on_host(std::move(had_grad));
  const double t1 = now_s();
  wait_started_buckets();
  const double t2 = now_s();
  NoGradGuard no_grad;
  const float inv_size = 1.0f / static_cast<float>(comm_.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    s.param.set_grad(ranks_with_grad[i] > 0 ? s.view * inv_size : Tensor());
    s.packed = false;
  }
  stats_.flags_s = t1 - t_flags;
  stats_.wait_s = t2 - t1;
  stats_.finish_s = now_s() - t0;
}

}  // namespace ta::dist
