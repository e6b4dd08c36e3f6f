#include "core/tensor.h"

#include <cmath>
#include <iomanip>
#include <sstream>
#include <vector>

#include "core/allocator.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/graph_release.h"

namespace ta {

// ---- storage and lifetime ----------------------------------------------------

Storage::Storage(int64_t n, Device d) : numel(n), device(d) { data = backend(d).allocate(n); }
Storage::~Storage() { backend(device).deallocate(data, numel); }

TensorImpl::~TensorImpl() { release_node(std::move(grad_fn)); }

// ---- creation ----------------------------------------------------------------

// Every tensor's memory comes from here. A shape whose element count int64 cannot
// hold, or a size the device cannot hold (the allocator checks before allocating),
// is an OutOfMemory error naming the shape and the bytes it would need.
static Tensor make(const Shape& shape, Device device) {
  int64_t n = 0;
  try {
    n = shape.numel();
  } catch (const Error&) {
    double bytes = sizeof(float);
    for (int64_t d : shape) bytes *= static_cast<double>(d);
    throw OutOfMemory(cat("cannot make a tensor of shape ", shape, ": it would need ", bytes,
                          " bytes, more than any machine has (its element count does not even fit in int64)"));
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  try {
    impl->storage = std::make_shared<Storage>(n, device);
  } catch (const OutOfMemory& e) {
    throw OutOfMemory(cat("cannot make a tensor of shape ", shape, " (", n, " floats): ", e.what()));
  }
  return Tensor(std::move(impl));
}

Tensor Tensor::empty(const Shape& shape, Device device) { return make(shape, device); }

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = make(shape, device);
  backend(device).fill(t.data(), t.numel(), value);
  return t;
}
Tensor Tensor::zeros(const Shape& shape, Device device) { return full(shape, 0.0f, device); }
Tensor Tensor::ones(const Shape& shape, Device device) { return full(shape, 1.0f, device); }
Tensor Tensor::scalar(float value, Device device) { return full(Shape(), value, device); }

Tensor Tensor::arange(float start, float end, float step, Device device) {
  TA_CHECK(std::isfinite(start) && std::isfinite(end) && std::isfinite(step), "arange: start, end and step must be ",
           "finite, got ", start, ", ", end, ", ", step);
  TA_CHECK(step != 0.0f, "arange: step must be non-zero");
  const double count = std::ceil((static_cast<double>(end) - start) / step);
  TA_CHECK(count < 0x1p63, "arange: [", start, ", ", end, ") in steps of ", step, " has ", count,
           " elements, more than int64 counts");
  const int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
  Tensor t = make(Shape{n}, device);
  backend(device).arange(t.data(), n, start, step);
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  TA_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "from_vector: ", values.size(),
           " values do not fill shape ", shape, " (", shape.numel(), " elements expected)");
  Tensor t = make(shape, device);
  backend(device).copy_from_host(values.data(), t.data(), t.numel());
  return t;
}

Tensor Tensor::uniform(const Shape& shape, float lo, float hi, Generator& gen, Device device) {
  TA_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, "uniform: expected finite lo <= hi, got lo=", lo,
           " hi=", hi);
  Tensor t = make(shape, device);
  backend(device).random_uniform(t.data(), t.numel(), gen.seed, gen.advance(t.numel()), lo, hi);
  return t;
}

Tensor Tensor::normal(const Shape& shape, float mean, float std, Generator& gen, Device device) {
  TA_CHECK(std::isfinite(mean) && std::isfinite(std) && std >= 0, "normal: expected finite mean and std >= 0, got mean=",
           mean, " std=", std);
  Tensor t = make(shape, device);
  backend(device).random_normal(t.data(), t.numel(), gen.seed, gen.advance(t.numel()), mean, std);
  return t;
}

// ---- what it is --------------------------------------------------------------

void check_defined(const Tensor& t, const char* op, const char* arg) {
  TA_CHECK(t.defined(), op, ": argument '", arg, "' is an undefined tensor");
}

static TensorImpl& impl_of(const Tensor& t) {
  TA_CHECK(t.defined(), "tensor: this tensor is undefined (default-constructed, or a gradient not computed yet)");
  return *t.impl();
}

const Shape& Tensor::shape() const { return impl_of(*this).shape; }
Device Tensor::device() const { return impl_of(*this).storage->device; }
float* Tensor::data() const {
  TensorImpl& i = impl_of(*this);
  return i.storage->data + i.offset;
}

int64_t Tensor::size(int axis) const { return shape()[normalize_axis(axis, ndim(), "size")]; }

// ---- reading values ----------------------------------------------------------

std::vector<float> Tensor::to_vector() const {
  std::vector<float> out(numel());
  backend(device()).copy_to_host(data(), out.data(), numel());
  return out;
}

float Tensor::item() const {
  TA_CHECK(numel() == 1, "item: expected a tensor with one element, got shape ", shape());
  return to_vector()[0];
}

float Tensor::at(const std::vector<int64_t>& index) const {
  const Shape& s = shape();
  TA_CHECK(static_cast<int>(index.size()) == s.ndim(), "at: got ", index.size(), " indices for shape ", s);
  Dims st = contiguous_strides(s);
  int64_t flat = 0;
  for (int i = 0; i < s.ndim(); ++i) {
    TA_CHECK(index[i] >= 0 && index[i] < s[i], "at: index ", index[i], " out of range for dimension ", i,
             " of shape ", s);
    flat += index[i] * st[i];
  }
  float v;
  backend(device()).copy_to_host(data() + flat, &v, 1);
  return v;
}

// Prints nested brackets like NumPy, showing the first and last 3 entries of a
// dimension longer than 6.
static void print_rec(std::ostream& os, const std::vector<float>& v, const Shape& s, const Dims& st, int dim,
                      int64_t base, int indent) {
  if (dim == s.ndim()) {
    os << std::setw(9) << std::setprecision(4) << v[base];
    return;
  }
  const bool last_dim = dim + 1 == s.ndim();
  auto separator = [&] {
    if (last_dim) {
      os << ", ";
    } else {
      os << ",\n";
      for (int k = 0; k <= indent; ++k) os << ' ';
    }
  };
  os << '[';
  const int64_t n = s[dim];
  for (int64_t i = 0; i < n; ++i) {
    if (n > 6 && i == 3) {
      os << " ...";
      separator();
      i = n - 3;
    }
    print_rec(os, v, s, st, dim + 1, base + i * st[dim], indent + 1);
    if (i + 1 < n) separator();
  }
  os << ']';
}

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  os << "tensor(";
  std::vector<float> v = to_vector();
  if (numel() == 0)
    os << "[]";
  else
    print_rec(os, v, shape(), contiguous_strides(shape()), 0, 0, 7);
  os << ", shape=" << shape() << (device() == Device::CPU ? "" : ", device=cuda")
     << (requires_grad() ? ", requires_grad" : "") << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

// ---- autograd state ------------------------------------------------------------

bool Tensor::requires_grad() const {
  const TensorImpl& i = impl_of(*this);
  return i.requires_grad || i.grad_fn != nullptr;
}

Tensor& Tensor::set_requires_grad(bool on) {
  TA_CHECK(is_leaf(), "set_requires_grad: only leaf tensors (not results of ops) can be marked; use detach() first");
  impl_of(*this).requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return impl_of(*this).grad_fn == nullptr; }
Tensor Tensor::grad() const { return impl_of(*this).grad; }

void Tensor::set_grad(const Tensor& g) {
  if (g.defined())
    TA_CHECK(g.shape() == shape(), "set_grad: gradient shape ", g.shape(), " does not match tensor shape ", shape());
  impl_of(*this).grad = g;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const { return impl_of(*this).grad_fn; }

Tensor Tensor::detach() const {
  auto out = std::make_shared<TensorImpl>();
  out->shape = shape();
  out->storage = impl_of(*this).storage;
  out->offset = impl_->offset;
  return Tensor(std::move(out));
}

Tensor Tensor::clone() const {
  Tensor t = make(shape(), device());
  backend(device()).copy(data(), t.data(), numel());
  return t;
}

// One copy across: the CPU side's memory is the host memory the device copies use.
void Tensor::move_to_(Device d) {
  if (d == device()) return;
  Tensor moved = to(d);
  TensorImpl& impl = impl_of(*this);
  impl.storage = moved.impl()->storage;
  impl.offset = 0;
  impl.grad = Tensor();
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor t = make(shape(), d);
  if (d == Device::CPU)
    backend(device()).copy_to_host(data(), t.data(), numel());
  else
    backend(d).copy_from_host(data(), t.data(), numel());
  return t;
}

}  // namespace ta
