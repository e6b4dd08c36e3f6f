// autograd/engine.h — running the tape backwards.
#pragma once

#include "core/tensor.h"

namespace ta {

// Computes d(root)/d(leaf) for every leaf that requires a gradient and adds it to
// leaf.grad(). Without `grad_out`, root must have one element (a loss) and the
// upstream gradient is 1; otherwise grad_out has root's shape.
//
// Order: every node runs after all the nodes that feed gradient into it (Kahn's
// algorithm on the dependency counts), found by an explicit-stack walk, so a chain
// of any depth never recurses. Each node's saved tensors are freed once it has run;
// a second backward through the same graph is an error.
//
// Leaves (AccumulateGrad nodes) take no part in the ordering: each gradient that
// reaches a leaf is added to its .grad at once. So the only nodes two passes can
// share are leaves, and a backward may run inside another one's node (gradient
// checkpointing recomputes and differentiates a block there).
void backward(const Tensor& root, const Tensor& grad_out = Tensor());

}  // namespace ta
