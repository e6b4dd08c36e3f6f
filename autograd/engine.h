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
void backward(const Tensor& root, const Tensor& grad_out = Tensor());

}  // namespace ta
