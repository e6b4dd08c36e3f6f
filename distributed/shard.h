// distributed/shard.h — each rank's share of the data, the same on every run for
// the same seed, rank and world size.
//
// Two ways to split, for two kinds of data loop:
//   - batch_share: every rank draws the same global batch (same generator, same
//     seed) and takes its own rows of it. P ranks with B rows each then see exactly
//     the rows one process with batch P * B would (the equivalence the tests check),
//     at the price of every rank drawing the whole batch;
//   - shard_indices: an epoch's permutation of the data set, drawn from the seed,
//     dealt out to the ranks like cards, so that each rank reads only its own items
//     (for data sets too large to draw from everywhere).
#pragma once

#include <cstdint>
#include <vector>

namespace ta::dist {

struct RowRange {
  int64_t begin = 0, count = 0;
};

// The rows [begin, begin + count) of a global batch of `global` rows that rank
// `rank` of `world` takes: consecutive blocks whose sizes differ by at most one (the
// first global % world ranks take one more).
RowRange batch_share(int64_t global, int rank, int world);

// This rank's items of a data set of n for the epoch that `seed` names (pass
// seed + epoch for a new order each epoch): a uniform permutation of 0..n-1 drawn
// with Philox from the seed (the same on any machine), of which rank r takes
// positions r, r + world, r + 2 world, ... Every rank gets n / world items; the
// n % world at the end of the permutation are left out of this epoch (different
// ones each epoch), so that all ranks take the same number of steps.
std::vector<int64_t> shard_indices(int64_t n, uint64_t seed, int rank, int world);

}  // namespace ta::dist
