// autograd/grad_ready.h — a callback for the moment a leaf's gradient is complete
// within one backward pass.
//
// Data-parallel training (distributed/) reduces each parameter's gradient across
// processes; to hide that communication it starts as soon as backward() has
// delivered the whole gradient of a parameter, while backward goes on with the
// earlier layers. The engine knows that moment: a leaf's gradient is complete when
// every edge into its AccumulateGrad found by this pass's walk has delivered (a
// parameter used twice, like tied embeddings, has two such edges).
//
// Leaves take no part in the engine's ordering (autograd/engine.h), so the count is
// kept here, per pass, and only while a hook is installed: without one, backward()
// does no extra work. A backward that runs inside another one's node (gradient
// checkpointing) counts its own edges, so parameters inside a checkpointed block are
// reported when that inner pass has delivered them. A leaf that no edge of the pass
// reaches is never reported.
#pragma once

#include <functional>
#include <unordered_map>

#include "core/tensor.h"

namespace ta {

struct Node;

using GradReadyHook = std::function<void(const Tensor& leaf)>;

// Installs `hook` for the life of the object: from then on, backward() calls it once
// per leaf per pass, when that leaf's .grad holds every contribution of the pass.
// One at a time (a second one is an error); the hook may throw, which ends the
// backward pass with that error.
class GradReadyScope {
 public:
  explicit GradReadyScope(GradReadyHook hook);
  ~GradReadyScope();
  GradReadyScope(const GradReadyScope&) = delete;
  GradReadyScope& operator=(const GradReadyScope&) = delete;
};

// The engine's bookkeeping for one pass: expect() for each edge into a leaf sink
// found by the walk, delivered() after each such edge has run (with or without a
// gradient), true for the last one; the engine then adds the leaf's gradient sum to
// its .grad and calls report(), which calls the hook. Without a hook installed
// nothing is counted and delivered() is always false.
class LeafCompletion {
 public:
  LeafCompletion();
  void expect(Node& sink);
  bool delivered(Node& sink);
  void report(Node& sink) const;

 private:
  const GradReadyHook* hook_;
  std::unordered_map<Node*, int> pending_;
};

}  // namespace ta
