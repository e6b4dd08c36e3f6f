// autograd/node.h — the tape: one Node per recorded op, linked to the nodes that
// made its inputs.
//
// When an op runs on inputs that require gradients (and grad mode is on), it
// records a Node holding:
//   - `next`: for each input, the node that made it (or, for a leaf, an
//     AccumulateGrad node that adds into leaf.grad), or null if that input needs
//     no gradient;
//   - `backward_fn`: given dL/d(output), returns dL/d(input_i) for each input. It
//     captures, by name, exactly what the backward needs (an input, the output,
//     a shape) and nothing else. It is dropped after backward runs, which frees
//     the saved tensors.
// Outputs are captured detached (out.detach()), never as themselves: a node that
// owned its own output would form a reference cycle and never be freed.
//
// Gradients are never modified in place: accumulating makes a new tensor (a + b),
// so a gradient tensor may safely be shared by several inputs.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace ta {

using Grads = std::vector<Tensor>;
using BackwardFn = std::function<Grads(const Tensor& grad_out)>;

struct Node {
  Node(const char* name, BackwardFn fn) : name(name), backward_fn(std::move(fn)) {}
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  virtual Grads backward(const Tensor& grad_out) { return backward_fn(grad_out); }

  const char* name;
  BackwardFn backward_fn;
  std::vector<std::shared_ptr<Node>> next;

  // Bookkeeping of the engine during one backward pass (autograd/engine.cpp).
  Tensor grad_sum;
  int pending = 0;
  uint64_t visit_mark = 0;
  bool used = false;      // backward already ran through this node, which freed its saved tensors
  bool reusable = false;  // true for AccumulateGrad, which saves nothing
};

// The sink at a leaf: adds the incoming gradient into leaf.grad.
struct AccumulateGrad final : Node {
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf);
  Grads backward(const Tensor& grad_out) override;
  std::shared_ptr<TensorImpl> leaf;
};

// Each differentiable op declares one OpInfo at namespace scope in its source file;
// the list of them is what the gradient-coverage test walks (tests/autograd).
struct OpInfo {
  explicit OpInfo(const char* name);
  const char* name;
};
const std::vector<const OpInfo*>& registered_ops();

// --- grad mode ------------------------------------------------------------------
bool grad_enabled();
// While one of these lives, ops record nothing (evaluation, optimizer updates, and
// the backward pass itself).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Turns recording back on inside a NoGradGuard (gradient checkpointing recomputes
// its block with recording on while the backward pass runs).
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// --- recording, for op implementations ---------------------------------------------
// True when an op on these inputs must record a node.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
// Records `fn` as the way to differentiate `out` with respect to `inputs`, if any of
// them requires a gradient. `fn` must return one gradient per input (an undefined
// Tensor where no gradient is needed, which the engine then skips).
void record(const OpInfo& op, Tensor& out, std::initializer_list<const Tensor*> inputs, BackwardFn fn);
void record(const OpInfo& op, Tensor& out, const std::vector<Tensor>& inputs, BackwardFn fn);
// Records even when no input requires a gradient (grad mode still has to be on):
// for ops whose backward reaches parameters captured inside them (checkpoint).
void record_always(const OpInfo& op, Tensor& out, std::initializer_list<const Tensor*> inputs, BackwardFn fn);

}  // namespace ta
