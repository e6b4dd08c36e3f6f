// core/tensor.h — the one tensor type: float32, contiguous, row-major, 0 to 6
// dimensions, on a Device.
//
// A Tensor is a handle: copying a Tensor shares its TensorImpl (and so its data,
// its gradient and its place in the autograd graph), like a shared_ptr. Storage is
// reference counted, so reshape and detach are free views of the same memory, and so
// is a slice along the leading axis (narrow with nothing before its axis); everything
// else that changes the layout (transposes, other slices) copies.
//
// Integer data (token ids, class targets, indices) is stored as float32 too: every
// integer up to 2^24 = 16,777,216 is exact, and ops that read indices check that
// each one is a whole number in range.
//
// The tensor carries its autograd state (requires_grad, grad, grad_fn) because the
// op that makes a tensor is the natural place to record how to differentiate it;
// core/ only stores the pointers, autograd/ gives them meaning.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/random.h"
#include "core/shape.h"

namespace ta {

struct Node;  // autograd/node.h

// A block of device memory holding `numel` floats, freed to its device's allocator.
struct Storage {
  float* data = nullptr;
  int64_t numel = 0;
  Device device = Device::CPU;
  Storage(int64_t numel, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (no data), e.g. a gradient not yet computed
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- creation -----------------------------------------------------------
  static Tensor empty(const Shape& shape, Device device = Device::CPU);  // values unspecified
  static Tensor zeros(const Shape& shape, Device device = Device::CPU);
  static Tensor ones(const Shape& shape, Device device = Device::CPU);
  static Tensor full(const Shape& shape, float value, Device device = Device::CPU);
  static Tensor scalar(float value, Device device = Device::CPU);  // shape []
  // start, start + step, ... while < end (or > end for a negative step)
  static Tensor arange(float start, float end, float step = 1.0f, Device device = Device::CPU);
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device = Device::CPU);
  static Tensor uniform(const Shape& shape, float lo = 0.0f, float hi = 1.0f, Generator& gen = default_generator(),
                        Device device = Device::CPU);
  static Tensor normal(const Shape& shape, float mean = 0.0f, float std = 1.0f, Generator& gen = default_generator(),
                       Device device = Device::CPU);

  // --- what it is ---------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return shape().ndim(); }
  int64_t size(int axis) const;  // negative axes count from the end
  int64_t numel() const { return shape().numel(); }
  Device device() const;

  // --- reading values out (copies to the host) ----------------------------
  std::vector<float> to_vector() const;
  float item() const;  // the value of a one-element tensor
  float at(const std::vector<int64_t>& index) const;
  std::string str() const;  // legible printout, summarized past 6 values per dimension

  // --- autograd state (see autograd/) -------------------------------------
  bool requires_grad() const;  // a leaf marked for gradients, or the result of an op on one
  Tensor& set_requires_grad(bool on = true);  // leaves only
  bool is_leaf() const;
  Tensor grad() const;  // accumulated gradient of a leaf (undefined before backward)
  void set_grad(const Tensor& g);
  void zero_grad() { set_grad(Tensor()); }
  const std::shared_ptr<Node>& grad_fn() const;
  // The same data without autograd history: a new leaf sharing storage.
  Tensor detach() const;
  // A deep copy (new storage), without autograd history.
  Tensor clone() const;
  Tensor to(Device device) const;
  // Moves this tensor's values to `device` in place: every handle to it sees the new
  // storage; its gradient is dropped. For parameters and buffers (Module::to); a
  // view of it made earlier keeps the old storage.
  void move_to_(Device device);

  // --- raw access, for core/ and the backends only ------------------------
  float* data() const;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  Shape shape;
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements, for views into a larger storage
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;        // the op that made it (null for leaves)
  std::weak_ptr<Node> grad_accumulator;  // for leaves: where backward delivers its gradient
  ~TensorImpl();
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Checks that `t` is defined, naming the op and the argument when it is not.
void check_defined(const Tensor& t, const char* op, const char* arg);

}  // namespace ta
