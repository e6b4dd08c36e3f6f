#include "autograd/engine.h"

#include <atomic>
#include <utility>
#include <vector>

#include "autograd/grad_ready.h"
#include "autograd/node.h"
#include "core/error.h"
#include "core/kernels/elementwise.h"
#include "core/kernels/movement.h"

namespace ta {

namespace {

// sum += g. The first whole gradient is kept as it is, without a copy. Anything
// more makes, once per node and pass, a buffer the engine owns (the sum of two
// gradients, or zeros of the whole shape for a slice), and every later gradient
// is added into that buffer in place; a slice touches only its own rows.
void accumulate(GradSum& sum, const Grad& g) {
  if (!g.is_slice()) {
    if (!sum.value.defined())
      sum.value = g.value;
    else if (sum.owned)
      kernels::add_into(sum.value, g.value, "backward");
    else
      sum = {kernels::binary(BinaryOp::Add, sum.value, g.value, "backward"), true};
    return;
  }
  if (!sum.owned)
    sum = {sum.value.defined() ? sum.value.clone() : Tensor::zeros(g.input_shape, g.value.device()), true};
  kernels::add_into_slice(sum.value, g.value, g.axis, g.start, "backward");
}

// The gradients a pass sends to leaves, summed per leaf and added to each leaf's
// .grad once, when the pass ends: a leaf cut into n slices gets one full-size
// addition, not n. Each leaf notes which pass last summed it and where
// (AccumulateGrad::sum_pass, sum_slot). A backward run inside another (gradient
// checkpointing) may reach the same leaf and re-mark it; the outer pass then opens
// a second entry for that leaf, and both entries are added to .grad: the total is
// the same. With a gradient-ready hook installed (autograd/grad_ready.h), a leaf whose
// every edge of the pass has delivered is added to .grad at once (deliver(leaf)), so
// the hook sees its whole gradient while the pass goes on.
class LeafSums {
 public:
  explicit LeafSums(uint64_t pass) : pass_(pass) {}
  void add(const std::shared_ptr<Node>& leaf, const Grad& g) {
    auto& sink = static_cast<AccumulateGrad&>(*leaf);  // the only reusable nodes
    if (sink.sum_pass != pass_) {
      sink.sum_pass = pass_;
      sink.sum_slot = sums_.size();
      sums_.emplace_back(leaf, GradSum{});
    }
    accumulate(sums_[sink.sum_slot].second, g);
  }
  // Adds the sums of `leaf` to its .grad now (a linear search: only used with a hook).
  void deliver(const Node& leaf) {
    for (auto& [sink, sum] : sums_)
      if (sink.get() == &leaf && sum.value.defined()) deliver(*sink, sum);
  }
  // Adds every sum not yet delivered.
  void deliver_rest() {
    for (auto& [sink, sum] : sums_)
      if (sum.value.defined()) deliver(*sink, sum);
  }

 private:
  static void deliver(Node& sink, GradSum& sum) {
    sink.backward(std::exchange(sum.value, Tensor()));
  }

  uint64_t pass_;
  std::vector<std::pair<std::shared_ptr<Node>, GradSum>> sums_;
};

}  // namespace

void backward(const Tensor& root, const Tensor& grad_out) {
  check_defined(root, "backward", "root");
  TA_CHECK(root.requires_grad(), "backward: the tensor does not require grad (no input of the ops that made it was ",
           "marked with set_requires_grad, or it was computed under NoGradGuard)");
  Tensor seed = grad_out;
  if (!seed.defined()) {
    TA_CHECK(root.numel() == 1, "backward: a tensor of shape ", root.shape(),
             " needs an explicit gradient; only one-element tensors (losses) default to 1");
    seed = Tensor::ones(root.shape(), root.device());
  }
  TA_CHECK(seed.shape() == root.shape(), "backward: gradient shape ", seed.shape(), " does not match tensor shape ",
           root.shape());

  NoGradGuard no_grad;  // the backward pass itself records nothing
  std::shared_ptr<Node> start = root.grad_fn();
  if (!start) {  // a leaf: its gradient is the seed itself
    AccumulateGrad(root.impl_ptr()).backward(seed);
    return;
  }

  // 1. Find every node reachable from the root and count, for each, how many edges
  //    lead into it. An explicit stack keeps deep graphs off the call stack.
  static std::atomic<uint64_t> pass_counter{0};
  const uint64_t mark = ++pass_counter;
  std::vector<Node*> stack{start.get()};
  LeafCompletion completion;  // counts the edges into each leaf, only while a hook is installed
  start->visit_mark = mark;
  start->pending = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    TA_CHECK(!n->used, "backward: the graph through op '", n->name, "' was already used by an earlier backward() ",
             "and its saved tensors freed; run the forward pass again");
    for (auto& child : n->next) {
      if (!child) continue;
      if (child->reusable) {  // leaves are summed apart (LeafSums), outside the ordering
        completion.expect(*child);
        continue;
      }
      if (child->visit_mark != mark) {
        child->visit_mark = mark;
        child->pending = 0;
        stack.push_back(child.get());
      }
      ++child->pending;
    }
  }

  // 2. Run nodes whose every consumer has delivered its gradient (Kahn's algorithm).
  //    Each node's backward frees what it saved; its edges are let go afterwards.
  std::vector<std::shared_ptr<Node>> ready{start};
  start->grad_sum = {seed, false};
  LeafSums leaf_sums(mark);
  while (!ready.empty()) {
    std::shared_ptr<Node> n = std::move(ready.back());
    ready.pop_back();
    Tensor g = std::move(n->grad_sum.value);
    n->grad_sum = GradSum{};
    Grads grads;
    if (g.defined()) grads = n->backward(g);  // undefined: no path delivered a gradient here
    n->backward_fn = nullptr;
    n->used = !n->reusable;
    for (size_t i = 0; i < n->next.size(); ++i) {
      std::shared_ptr<Node>& child = n->next[i];
      if (!child) continue;
      const bool has_grad = i < grads.size() && grads[i].defined();
      if (child->reusable) {  // a leaf: summed with its other gradients of this pass
        if (has_grad) leaf_sums.add(child, grads[i]);
        if (completion.delivered(*child)) {  // its last edge of the pass: hand it to the hook
          leaf_sums.deliver(*child);
          completion.report(*child);
        }
        continue;
      }
      if (has_grad) accumulate(child->grad_sum, grads[i]);
      if (--child->pending == 0) ready.push_back(child);
    }
  }
  leaf_sums.deliver_rest();
}

}  // namespace ta
