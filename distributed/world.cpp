// distributed/world.cpp — the parts of world.h built on its primitives, the same
// with MPI or without.
#include "distributed/world.h"

#include <exception>
#include <iostream>

#include "core/error.h"

namespace ta::dist {

double sum_over_ranks(double value) { return sum_over_ranks(std::vector<double>{value})[0]; }

double mean_over_ranks(double value) { return sum_over_ranks(value) / world_size(); }

bool any_rank(bool flag) { return sum_over_ranks(flag ? 1.0 : 0.0) > 0; }

double mean_weight(int64_t count) {
  TA_CHECK(count >= 0, "mean_weight: count must be >= 0, got ", count);
  const double total = sum_over_ranks(static_cast<double>(count));
  TA_CHECK(total > 0, "mean_weight: no rank has any item (the counts sum to 0)");
  return world_size() * static_cast<double>(count) / total;
}

int run_or_abort_all(const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    if (world_size() > 1) abort_all(cat("error: ", e.what()));
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace ta::dist
