// tests/distributed/test_buckets_shard.cpp — the parts of distributed/ that are
// plain functions: the bucket plan (sizes below, at, just above and several times
// the cap, non-multiples, a parameter larger than the cap) and the data sharding
// helpers (deterministic, disjoint, covering, balanced, uniform).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "distributed/buckets.h"
#include "distributed/shard.h"
#include "tests/testing.h"

namespace {

using ta::dist::plan_buckets;

std::vector<int64_t> sizes_of(const std::vector<std::vector<size_t>>& buckets, const std::vector<int64_t>& numels) {
  std::vector<int64_t> out;
  for (const auto& b : buckets) {
    int64_t s = 0;
    for (size_t i : b) s += numels[i];
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST_CASE("buckets: last parameter first, consecutive, each parameter once, none over the cap unless alone") {
  const std::vector<int64_t> numels = {7, 3, 10, 1, 4, 9, 2, 25, 6, 5};  // 72 elements
  for (int64_t cap : {1, 5, 9, 10, 11, 24, 25, 26, 40, 72, 73, 1000}) {
    INFO("cap ", cap);
    const auto buckets = plan_buckets(numels, cap);
    std::vector<size_t> flat;
    for (const auto& b : buckets) {
      CHECK(!b.empty());
      flat.insert(flat.end(), b.begin(), b.end());
    }
    std::vector<size_t> reversed(numels.size());
    std::iota(reversed.rbegin(), reversed.rend(), size_t{0});
    CHECK(flat == reversed);  // every parameter once, from the last to the first
    const std::vector<int64_t> sizes = sizes_of(buckets, numels);
    for (size_t k = 0; k < buckets.size(); ++k) {
      CHECK((sizes[k] <= cap || buckets[k].size() == 1));  // over the cap only a parameter alone
      // Greedy: the next parameter did not fit, so no two neighbours could be one bucket.
      if (k + 1 < buckets.size()) CHECK(sizes[k] + numels[buckets[k + 1][0]] > cap);
    }
  }
}

TEST_CASE("buckets: the exact cuts of a hand-worked case; one bucket when all fit; errors") {
  const std::vector<int64_t> numels = {4, 4, 4, 4, 4};
  CHECK(plan_buckets(numels, 8) == std::vector<std::vector<size_t>>{{4, 3}, {2, 1}, {0}});
  CHECK(plan_buckets(numels, 9) == std::vector<std::vector<size_t>>{{4, 3}, {2, 1}, {0}});
  CHECK(plan_buckets(numels, 12) == std::vector<std::vector<size_t>>{{4, 3, 2}, {1, 0}});
  CHECK(plan_buckets(numels, 20) == std::vector<std::vector<size_t>>{{4, 3, 2, 1, 0}});
  CHECK(plan_buckets({}, 8).empty());
  CHECK(ta::testing::error_message([] { plan_buckets({1}, 0); }).find("must be > 0") != std::string::npos);
}

TEST_CASE("batch share: consecutive blocks that cover the batch, sizes differing by at most one") {
  for (int world : {1, 2, 3, 7}) {
    for (int64_t global : {0, 1, 2, 6, 7, 8, 20, 23}) {
      int64_t next = 0;
      for (int r = 0; r < world; ++r) {
        const ta::dist::RowRange s = ta::dist::batch_share(global, r, world);
        CHECK(s.begin == next);
        CHECK((s.count == global / world || s.count == global / world + 1));
        next += s.count;
      }
      CHECK(next == global);
    }
  }
  CHECK(ta::testing::error_message([] { ta::dist::batch_share(4, 2, 2); }).find("rank 2 of world size 2") !=
        std::string::npos);
}

TEST_CASE("shard indices: the same for the same seed; disjoint equal shares of a permutation; new order per seed") {
  const int64_t n = 103;
  for (int world : {1, 2, 4, 5}) {
    std::set<int64_t> seen;
    for (int r = 0; r < world; ++r) {
      const std::vector<int64_t> mine = ta::dist::shard_indices(n, 42, r, world);
      CHECK(mine == ta::dist::shard_indices(n, 42, r, world));  // deterministic
      CHECK(static_cast<int64_t>(mine.size()) == n / world);
      for (int64_t i : mine) {
        CHECK((i >= 0 && i < n));
        CHECK(seen.insert(i).second);  // no item on two ranks, nor twice on one
      }
    }
    CHECK(static_cast<int64_t>(seen.size()) == n - n % world);
  }
  CHECK(ta::dist::shard_indices(n, 42, 0, 1) != ta::dist::shard_indices(n, 43, 0, 1));
  CHECK(ta::dist::shard_indices(0, 1, 0, 2).empty());
}

TEST_CASE("shard indices: the permutation is uniform (each item equally likely at each place)") {
  // 6000 permutations of 5 items: each of the 25 (item, place) counts is Binomial(6000,
  // 1/5), mean 1200, sd 31; all within 5 sd, and the first place's counts within 5 sd too.
  const int64_t n = 5;
  const int trials = 6000;
  std::vector<std::vector<int>> counts(n, std::vector<int>(n, 0));
  for (int t = 0; t < trials; ++t) {
    const std::vector<int64_t> p = ta::dist::shard_indices(n, 1000 + t, 0, 1);
    for (int64_t place = 0; place < n; ++place) ++counts[p[place]][place];
  }
  for (int64_t item = 0; item < n; ++item)
    for (int64_t place = 0; place < n; ++place) {
      INFO("item ", item, " at place ", place);
      CHECK(std::abs(counts[item][place] - 1200) < 5 * 31);
    }
}
