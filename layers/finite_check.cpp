#include "layers/finite_check.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

namespace {

// "[i, j, k]", the index of flat position `flat` in a row-major tensor of shape s.
std::string index_of(const Shape& s, int64_t flat) {
  std::string text;
  for (int d = s.ndim() - 1; d >= 0; --d) {
    text = cat(flat % s[d], text.empty() ? "" : ", ", text);
    flat /= s[d];
  }
  return "[" + text + "]";
}

}  // namespace

void check_finite(const Tensor& x, const std::string& what) {
  check_defined(x, "check_finite", what.c_str());
  {
    NoGradGuard no_grad;
    if (std::isfinite(sum(x.detach()).item())) return;
  }
  const std::vector<float> values = x.to_vector();
  const auto bad = [](float v) { return !std::isfinite(v); };
  const auto first = std::find_if(values.begin(), values.end(), bad);
  if (first == values.end()) return;  // the sum overflowed; every value is finite
  const auto count = std::count_if(first, values.end(), bad);
  throw NonFiniteError(cat(what, ": ", count, " of the ", values.size(), " values of ", x.shape(),
                           " are NaN or infinite; the first is ", *first, " at ",
                           index_of(x.shape(), first - values.begin())));
}

}  // namespace ta
