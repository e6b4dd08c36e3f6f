// core/shape.h — the dimensions of a tensor (0 to 6 of them) and the broadcasting rule.
//
// A Shape is a small value type: no heap allocation, cheap to copy. Tensors are
// always contiguous and row-major, so a shape alone fixes the memory layout:
// the element at index (i0, ..., ik) sits at sum_j i_j * stride_j, where
// stride_k = 1 and stride_j = stride_{j+1} * dim_{j+1}.
//
// Every product of dimensions (numel, outer, inner, the strides) is checked: one
// that int64 cannot hold is an error naming the shape, never a wrapped count that
// would size a buffer. A product with a zero dimension is 0, whatever the others.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace ta {

constexpr int kMaxDims = 6;
using Dims = std::array<int64_t, kMaxDims>;

// Whether a reduction keeps each reduced dimension, with size 1 (so the result
// broadcasts against its input), or removes it.
enum class KeepDims { No, Yes };

class Shape {
 public:
  Shape() = default;  // a scalar: zero dimensions, one element
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int ndim() const { return n_; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t& operator[](int i) { return d_[i]; }
  int64_t numel() const;  // throws when the count overflows int64
  const int64_t* begin() const { return d_.data(); }
  const int64_t* end() const { return d_.data() + n_; }
  std::vector<int64_t> vec() const { return {begin(), end()}; }
  std::string str() const;  // "[2, 3]"

  // The shape with dimension `axis` removed, or set to 1 with KeepDims::Yes.
  Shape reduced(int axis, KeepDims keep) const;
  // The shape with a new dimension of size `size` inserted before `axis`.
  Shape inserted(int axis, int64_t size) const;

  // Products of the dimensions before `axis`, and after it: the [outer, n, inner]
  // view that every "along an axis" kernel works on.
  int64_t outer(int axis) const;
  int64_t inner(int axis) const;

  friend bool operator==(const Shape& a, const Shape& b);

 private:
  // The product of dimensions [first, last): 0 if one of them is 0, else the
  // product, or an error naming this shape when it overflows int64.
  int64_t product(int first, int last) const;

  Dims d_{};
  int n_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Shape& s);

// Row-major strides of a contiguous tensor of this shape, in elements (0 after a
// zero dimension, where nothing is addressed).
Dims contiguous_strides(const Shape& s);

// True when NumPy broadcasting accepts the pair (see broadcast_shapes).
bool can_broadcast(const Shape& a, const Shape& b);

// NumPy broadcasting: align shapes at the right; each pair of dimensions must be
// equal or one of them 1. Throws naming `op` when they are not.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Maps a possibly negative axis (-1 = last) into [0, ndim); throws naming `op`.
int normalize_axis(int axis, int ndim, const char* op);

}  // namespace ta
