#include "core/shape.h"

#include <limits>
#include <sstream>

#include "core/error.h"

namespace ta {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::vector<int64_t>(dims)) {}

Shape::Shape(const std::vector<int64_t>& dims) {
  TA_CHECK(dims.size() <= kMaxDims, "Shape: at most ", kMaxDims, " dimensions are supported, got ",
           dims.size());
  n_ = static_cast<int>(dims.size());
  for (int i = 0; i < n_; ++i) {
    TA_CHECK(dims[i] >= 0, "Shape: dimension ", i, " is negative (", dims[i], ")");
    d_[i] = dims[i];
  }
}

// The error of a product that overflows, with its approximate value; kept out of
// product() so that the common path stays a few multiplications.
[[noreturn, gnu::cold, gnu::noinline]] static void product_overflow(const Shape& s, int first, int last) {
  double approx = 1;
  for (int i = first; i < last; ++i) approx *= static_cast<double>(s[i]);
  throw Error(cat("shape ", s.str(), ": ", approx, " elements, more than int64 counts (at most ",
                  std::numeric_limits<int64_t>::max(), "): no tensor of this shape can exist"));
}

int64_t Shape::product(int first, int last) const {
  int64_t n = 1;
  bool overflow = false;
  for (int i = first; i < last; ++i) {
    if (d_[i] == 0) return 0;  // whatever the other dimensions
    overflow |= __builtin_mul_overflow(n, d_[i], &n);
  }
  if (overflow) product_overflow(*this, first, last);
  return n;
}

int64_t Shape::numel() const { return product(0, n_); }

std::string Shape::str() const {
  std::ostringstream os;
  os << '[';
  for (int i = 0; i < n_; ++i) os << (i ? ", " : "") << d_[i];
  os << ']';
  return os.str();
}

Shape Shape::reduced(int axis, KeepDims keep) const {
  Shape r = *this;
  if (keep == KeepDims::Yes) {
    r.d_[axis] = 1;
    return r;
  }
  for (int i = axis; i + 1 < n_; ++i) r.d_[i] = d_[i + 1];
  r.d_[--r.n_] = 0;
  return r;
}

Shape Shape::inserted(int axis, int64_t size) const {
  TA_CHECK(n_ < kMaxDims, "Shape: cannot add a dimension to ", str(), " (at most ", kMaxDims, ")");
  Shape r;
  r.n_ = n_ + 1;
  for (int i = 0, j = 0; i < r.n_; ++i) r.d_[i] = (i == axis) ? size : d_[j++];
  return r;
}

int64_t Shape::outer(int axis) const { return product(0, axis); }
int64_t Shape::inner(int axis) const { return product(axis + 1, n_); }

bool operator==(const Shape& a, const Shape& b) {
  if (a.n_ != b.n_) return false;
  for (int i = 0; i < a.n_; ++i)
    if (a.d_[i] != b.d_[i]) return false;
  return true;
}

std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

Dims contiguous_strides(const Shape& s) {
  Dims st{};
  for (int i = 0; i < s.ndim(); ++i) st[i] = s.inner(i);
  return st;
}

bool can_broadcast(const Shape& a, const Shape& b) {
  for (int i = 1; i <= std::min(a.ndim(), b.ndim()); ++i) {
    int64_t da = a[a.ndim() - i], db = b[b.ndim() - i];
    if (da != db && da != 1 && db != 1) return false;
  }
  return true;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  if (a == b) return a;
  int n = std::max(a.ndim(), b.ndim());
  std::vector<int64_t> out(n);
  for (int i = 0; i < n; ++i) {
    int ia = a.ndim() - n + i, ib = b.ndim() - n + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    TA_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
             " cannot be broadcast together (dimension ", i, ": ", da, " vs ", db,
             "; each pair must be equal or one of them 1)");
    out[i] = (da == 1) ? db : da;
  }
  return Shape(out);
}

int normalize_axis(int axis, int ndim, const char* op) {
  TA_CHECK(axis >= -ndim && axis < ndim, op, ": axis ", axis, " is out of range for a tensor with ",
           ndim, " dimension(s) (expected ", -ndim, " <= axis < ", ndim, ")");
  return axis < 0 ? axis + ndim : axis;
}

}  // namespace ta
