#include "autograd/node.h"

#include "core/error.h"
#include "core/graph_release.h"
#include "core/kernels/elementwise.h"

namespace ta {

Node::~Node() {
  for (auto& n : next) release_node(std::move(n));
}

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> leaf_)
    : Node("accumulate_grad", nullptr), leaf(std::move(leaf_)) {
  reusable = true;
}

Grads AccumulateGrad::backward(const Tensor& grad_out) {
  Tensor& g = leaf->grad;
  g = g.defined() ? kernels::binary(BinaryOp::Add, g, grad_out, "accumulate_grad") : grad_out;
  return {};
}

Grad Grad::slice(Tensor part, const Shape& input_shape, int axis, int64_t start) {
  Grad g(std::move(part));
  g.input_shape = input_shape;
  g.axis = normalize_axis(axis, input_shape.ndim(), "Grad::slice");
  g.start = start;
  return g;
}

Grads whole_grads(const std::vector<Tensor>& grads) { return Grads(grads.begin(), grads.end()); }

OpInfo::OpInfo(const char* name_) : name(name_) {
  const_cast<std::vector<const OpInfo*>&>(registered_ops()).push_back(this);
}

const std::vector<const OpInfo*>& registered_ops() {
  static std::vector<const OpInfo*> ops;
  return ops;
}

// ---- grad mode -------------------------------------------------------------------

static thread_local bool grad_mode = true;
bool grad_enabled() { return grad_mode; }
GradModeGuard::GradModeGuard(GradMode mode) : previous_(grad_mode) { grad_mode = mode == GradMode::Record; }
GradModeGuard::~GradModeGuard() { grad_mode = previous_; }

// ---- recording ---------------------------------------------------------------------

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!grad_mode) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

// The node that receives the gradient of `t`: the op that made it, or for a leaf
// that requires grad its (shared, created once) AccumulateGrad.
static std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return nullptr;
  if (t.grad_fn()) return t.grad_fn();
  TensorImpl* impl = t.impl();
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl->grad_accumulator = acc;
  }
  return acc;
}

static const Tensor& deref(const Tensor* t) { return *t; }
static const Tensor& deref(const Tensor& t) { return t; }

template <class Range>
static void record_impl(const OpInfo& op, Tensor& out, const Range& inputs, BackwardFn fn) {
  auto node = std::make_shared<Node>(op.name, std::move(fn));
  node->next.reserve(inputs.size());
  for (const auto& in : inputs) node->next.push_back(gradient_edge(deref(in)));
  out.impl()->grad_fn = std::move(node);
}


void record(const OpInfo& op, Tensor& out, std::initializer_list<const Tensor*> inputs, BackwardFn fn) {
  if (!needs_grad(inputs)) return;
  record_impl(op, out, inputs, std::move(fn));
}

void record_always(const OpInfo& op, Tensor& out, std::initializer_list<const Tensor*> inputs, BackwardFn fn) {
  if (!grad_mode) return;
  record_impl(op, out, inputs, std::move(fn));
}

void record(const OpInfo& op, Tensor& out, const std::vector<Tensor>& inputs, BackwardFn fn) {
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!grad_mode || !any) return;
  record_impl(op, out, inputs, std::move(fn));
}

}  // namespace ta
