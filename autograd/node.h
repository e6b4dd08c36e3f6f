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
// Gradients that backward functions return are never modified in place, so a
// gradient tensor may safely be shared by several inputs (add hands the same g to
// both). Only buffers the engine made itself are summed into in place.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace ta {

// One input's gradient, as a backward function returns it: either the whole
// gradient (a plain Tensor converts to one), or, from an op that reads only a slice
// of its input (narrow), just the slice: the input's gradient is `value` at
// [start, start + value.shape()[axis]) along `axis` and zero everywhere else. The
// engine adds a slice into the input's gradient sum without building the zeros
// around it, so n slices of one tensor cost O(n), not n full-size tensors.
struct Grad {
  Grad() = default;
  Grad(Tensor whole) : value(std::move(whole)) {}  // implicit: backward functions return tensors
  static Grad slice(Tensor part, const Shape& input_shape, int axis, int64_t start);

  bool defined() const { return value.defined(); }
  bool is_slice() const { return axis >= 0; }

  Tensor value;
  Shape input_shape;  // slices only: the shape of the whole gradient
  int axis = -1;      // -1: value is the whole gradient
  int64_t start = 0;
};

using Grads = std::vector<Grad>;
using BackwardFn = std::function<Grads(const Tensor& grad_out)>;
// A fused kernel's backward (one whole gradient per input) as Grads.
Grads whole_grads(const std::vector<Tensor>& grads);

// The gradients delivered to one node so far in a backward pass, summed. `owned`:
// the engine allocated `value` itself and has shown it to no one, so it may add
// the next gradients into it in place; a tensor a backward function returned may
// be shared and is only ever read.
struct GradSum {
  Tensor value;
  bool owned = false;
};

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
  GradSum grad_sum;
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
  // Where the backward pass numbered `sum_pass` sums this leaf's gradients: entry
  // `sum_slot` of its list (autograd/engine.cpp, LeafSums).
  uint64_t sum_pass = 0;
  size_t sum_slot = 0;
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
enum class GradMode { Record, NoRecord };
// While one lives, grad mode is `mode` (on this thread); the mode before it comes
// back when it goes. Used through the two guards below.
class GradModeGuard {
 public:
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 protected:
  explicit GradModeGuard(GradMode mode);

 private:
  bool previous_;
};

// While one of these lives, ops record nothing (evaluation, optimizer updates, and
// the backward pass itself).
class NoGradGuard : public GradModeGuard {
 public:
  NoGradGuard() : GradModeGuard(GradMode::NoRecord) {}
};

// Turns recording back on inside a NoGradGuard (gradient checkpointing recomputes
// its block with recording on while the backward pass runs).
class EnableGradGuard : public GradModeGuard {
 public:
  EnableGradGuard() : GradModeGuard(GradMode::Record) {}
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
