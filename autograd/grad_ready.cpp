#include "autograd/grad_ready.h"

#include "autograd/node.h"
#include "core/error.h"

namespace ta {

namespace {
GradReadyHook* installed = nullptr;
}

GradReadyScope::GradReadyScope(GradReadyHook hook) {
  TA_CHECK(installed == nullptr, "GradReadyScope: a gradient-ready hook is already installed (one at a time)");
  installed = new GradReadyHook(std::move(hook));
}

GradReadyScope::~GradReadyScope() {
  delete installed;
  installed = nullptr;
}

LeafCompletion::LeafCompletion() : hook_(installed) {}

void LeafCompletion::expect(Node& sink) {
  if (hook_) ++pending_[&sink];
}

bool LeafCompletion::delivered(Node& sink) {
  if (!hook_) return false;
  auto it = pending_.find(&sink);
  if (it == pending_.end() || --it->second > 0) return false;
  pending_.erase(it);
  return true;
}

void LeafCompletion::report(Node& sink) const { (*hook_)(Tensor(static_cast<AccumulateGrad&>(sink).leaf)); }

}  // namespace ta
