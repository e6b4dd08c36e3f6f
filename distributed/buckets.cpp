#include "distributed/buckets.h"

#include "core/error.h"

namespace ta::dist {

std::vector<std::vector<size_t>> plan_buckets(const std::vector<int64_t>& numels, int64_t cap) {
  TA_CHECK(cap > 0, "plan_buckets: the bucket size must be > 0 elements, got ", cap);
  std::vector<std::vector<size_t>> buckets;
  int64_t filled = 0;
  for (size_t k = numels.size(); k-- > 0;) {
    TA_CHECK(numels[k] >= 0, "plan_buckets: parameter ", k, " has ", numels[k], " elements");
    if (buckets.empty() || (filled > 0 && filled + numels[k] > cap)) {
      buckets.emplace_back();
      filled = 0;
    }
    buckets.back().push_back(k);
    filled += numels[k];
  }
  return buckets;
}

}  // namespace ta::dist
