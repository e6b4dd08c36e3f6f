#include "distributed/shard.h"

#include <numeric>
#include <utility>

#include "core/error.h"
#include "core/random.h"

namespace ta::dist {

namespace {

void check_rank(int rank, int world, const char* op) {
  TA_CHECK(world >= 1 && rank >= 0 && rank < world, op, ": rank ", rank, " of world size ", world,
           " (needs 0 <= rank < world)");
}

}  // namespace

RowRange batch_share(int64_t global, int rank, int world) {
  check_rank(rank, world, "batch_share");
  TA_CHECK(global >= 0, "batch_share: the global batch must be >= 0 rows, got ", global);
  const int64_t base = global / world, extra = global % world;
  return RowRange{rank * base + std::min<int64_t>(rank, extra), base + (rank < extra ? 1 : 0)};
}

// Fisher-Yates: position i swaps with a uniform j in [0, i], drawn from 64 random
// bits as floor(u * (i + 1) / 2^64) (Lemire's multiply, no modulo bias to speak of).
std::vector<int64_t> shard_indices(int64_t n, uint64_t seed, int rank, int world) {
  check_rank(rank, world, "shard_indices");
  TA_CHECK(n >= 0, "shard_indices: the data set size must be >= 0, got ", n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i) {
    const std::array<uint32_t, 4> w = philox4x32(seed, static_cast<uint64_t>(i));
    const uint64_t u = (static_cast<uint64_t>(w[0]) << 32) | w[1];
    const auto j = static_cast<int64_t>((static_cast<unsigned __int128>(u) * static_cast<uint64_t>(i + 1)) >> 64);
    std::swap(order[i], order[j]);
  }
  std::vector<int64_t> mine;
  const int64_t per_rank = n / world;
  for (int64_t k = 0; k < per_rank; ++k) mine.push_back(order[k * world + rank]);
  return mine;
}

}  // namespace ta::dist
