// Gradient checkpointing: run a block without storing its activations, and
// recompute them during the backward pass (Chen et al. 2016; the Sparse
// Transformer's trick for deep stacks). Memory for the block drops to its input;
// the price is one more forward pass of the block.
#include "autograd/checkpoint.h"

#include "autograd/engine.h"
#include "autograd/node.h"

namespace ta {

namespace {
const OpInfo kCheckpoint("checkpoint");
}

// Forward: y = f(x) with recording off, so nothing inside f is kept.
// Backward: recompute y' = f(x') on a fresh leaf x' with recording on, run
// backward(y', g) — parameters inside f receive their gradients there, as leaves —
// and hand x'.grad on to x. Random draws inside f replay exactly: the generator is
// rewound to where the forward pass found it, then put back.
Tensor checkpoint(const std::function<Tensor(const Tensor&)>& f, const Tensor& x, Generator* gen) {
  const Generator before = gen ? *gen : Generator();
  Tensor y;
  {
    NoGradGuard no_grad;
    y = f(x);
  }
  record_always(kCheckpoint, y, {&x}, [f, x_saved = x.detach(), gen, before](const Tensor& g) -> Grads {
    Tensor x_leaf = x_saved.detach().set_requires_grad(true);
    Generator after = gen ? *gen : Generator();
    if (gen) *gen = before;
    Tensor y_again;
    {
      EnableGradGuard enable;
      y_again = f(x_leaf);
    }
    if (gen) *gen = after;
    if (y_again.requires_grad()) backward(y_again, g);
    return {x_leaf.grad()};
  });
  return y;
}

}  // namespace ta
