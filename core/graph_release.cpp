// core/graph_release.cpp — freeing chains of autograd nodes without recursion (see
// graph_release.h). A shared_ptr destroys its node with the deleter it was made with,
// so this file needs no more than the declaration of Node.
#include "core/graph_release.h"

#include <vector>

namespace ta {

void release_node(std::shared_ptr<Node>&& node) {
  thread_local std::vector<std::shared_ptr<Node>> queue;
  thread_local bool draining = false;
  if (!node) return;
  if (node.use_count() > 1) {  // someone else still owns it: no destructor runs
    node.reset();
    return;
  }
  queue.push_back(std::move(node));
  if (draining) return;
  draining = true;
  while (!queue.empty()) {
    std::shared_ptr<Node> last = std::move(queue.back());
    queue.pop_back();
    last.reset();  // may queue more nodes, never recurses
  }
  draining = false;
}

}  // namespace ta
