#include "autograd/engine.h"

#include <atomic>
#include <vector>

#include "autograd/grad_ready.h"
#include "autograd/node.h"
#include "core/error.h"
#include "core/kernels.h"

namespace ta {

static void accumulate(Node& node, const Tensor& g) {
  node.grad_sum = node.grad_sum.defined() ? kernels::binary(BinaryOp::Add, node.grad_sum, g, "backward") : g;
}

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
  LeafCompletion leaves;  // reports complete leaf gradients to a GradReadyScope's hook, if any
  start->visit_mark = mark;
  start->pending = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    TA_CHECK(!n->used, "backward: the graph through op '", n->name, "' was already used by an earlier backward() ",
             "and its saved tensors freed; run the forward pass again");
    for (auto& child : n->next) {
      if (!child) continue;
      if (child->reusable) {  // leaf sinks run on arrival, outside the ordering
        leaves.expect(*child);
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
  start->grad_sum = seed;
  while (!ready.empty()) {
    std::shared_ptr<Node> n = std::move(ready.back());
    ready.pop_back();
    Tensor g = std::move(n->grad_sum);
    n->grad_sum = Tensor();
    Grads grads;
    if (g.defined()) grads = n->backward(g);  // undefined: no path delivered a gradient here
    n->backward_fn = nullptr;
    n->used = !n->reusable;
    for (size_t i = 0; i < n->next.size(); ++i) {
      std::shared_ptr<Node>& child = n->next[i];
      if (!child) continue;
      const bool has_grad = i < grads.size() && grads[i].defined();
      if (child->reusable) {  // a leaf: add into its .grad right away
        if (has_grad) child->backward(grads[i]);
        leaves.delivered(*child);
        continue;
      }
      if (has_grad) accumulate(*child, grads[i]);
      if (--child->pending == 0) ready.push_back(child);
    }
  }
}

}  // namespace ta
