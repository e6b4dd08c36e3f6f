#include "distributed/replicas.h"

#include <cstring>

#include "core/error.h"
#include "distributed/communicator.h"
#include "distributed/world.h"

namespace ta::dist {

void broadcast_from_root(const std::vector<Tensor>& tensors) {
  if (tensors.empty()) return;
  for (const Tensor& t : tensors) check_defined(t, "broadcast_from_root", "tensors[i]");
  Communicator& comm = communicator(tensors[0].device());
  for (const Tensor& t : tensors) {
    TA_CHECK(t.device() == tensors[0].device(), "broadcast_from_root: tensors on ", t.device(), " and ",
             tensors[0].device(), "; all must be on one device");
    comm.broadcast(t);
  }
}

namespace {

// FNV-1a over the bytes of every value, in order.
uint64_t hash_of(const std::vector<Tensor>& tensors) {
  uint64_t h = 1469598103934665603ull;
  for (const Tensor& t : tensors) {
    for (float v : t.to_vector()) {
      uint32_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      for (int k = 0; k < 4; ++k) h = (h ^ ((bits >> (8 * k)) & 0xff)) * 1099511628211ull;
    }
  }
  return h;
}

}  // namespace

// The hash travels as four 16-bit pieces, whose sums over up to 2^36 ranks are exact
// in doubles. A rank's hash equals the others' iff each piece equals the ranks'
// mean; the second sum makes every rank give the same answer.
bool identical_on_all_ranks(const std::vector<Tensor>& tensors) {
  const uint64_t h = hash_of(tensors);
  std::vector<double> pieces(4);
  for (int k = 0; k < 4; ++k) pieces[k] = static_cast<double>((h >> (16 * k)) & 0xffff);
  const std::vector<double> sums = sum_over_ranks(pieces);
  double differs = 0;
  for (int k = 0; k < 4; ++k) differs += sums[k] != pieces[k] * world_size() ? 1 : 0;
  return sum_over_ranks(differs) == 0;
}

}  // namespace ta::dist
