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
// Gradients reaching one node are summed before it runs: the first is kept as it
// is, the rest go into a buffer the engine owns, in place; an op that reads a slice
// of its input (narrow) sends only that slice's gradient (Grad::slice), which is
// added into the rows it covers. So a tensor cut into n chunks costs one full-size
// buffer in the backward pass, not n.
//
// Leaves (AccumulateGrad nodes) take no part in the ordering: the gradients that
// reach a leaf are summed the same way, apart, and added to its .grad once, when
// the pass ends. So the only nodes two passes can share are leaves, and a backward
// may run inside another one's node (gradient checkpointing recomputes and
// differentiates a block there).
void backward(const Tensor& root, const Tensor& grad_out = Tensor());

}  // namespace ta
