// distributed/replicas.h — keeping the ranks' copies of the model the same:
// broadcast at the start, and a check that they still agree.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace ta::dist {

// Overwrites every tensor, in place, with rank 0's values (all on one device; on
// CUDA through NCCL). At the start of training, on the parameters and buffers, so
// that every rank starts from the same model whatever its seed; also after rank 0
// alone has loaded something. A collective: every rank passes the same tensors, in
// the same order, with the same shapes.
void broadcast_from_root(const std::vector<Tensor>& tensors);

// True, on every rank, when every tensor holds the same bits on all ranks: a 64-bit
// hash of the tensors' bytes, compared over ranks (copies to the host; for tests and
// occasional checks in long runs, where replicas that drift apart would silently
// train different models).
bool identical_on_all_ranks(const std::vector<Tensor>& tensors);

}  // namespace ta::dist
