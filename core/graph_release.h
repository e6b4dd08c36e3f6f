// core/graph_release.h — frees chains of autograd nodes without recursion.
//
// A tensor owns the node that made it, which owns its inputs' nodes, and so on:
// dropping the last tensor of a 100,000-op chain would run 100,000 nested
// destructors and overflow the stack. Every owner of a node hands it to
// release_node() instead of letting it die in place; the first call on a thread
// then destroys queued nodes one at a time, and nodes freed while doing so are
// queued rather than destroyed recursively.
#pragma once

#include <memory>

namespace ta {

struct Node;
void release_node(std::shared_ptr<Node>&& node);

}  // namespace ta
