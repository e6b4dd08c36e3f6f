// core/backend.h — the Backend: everything a device must do, on raw buffers.
//
// This is the only device-specific layer. core/cpu/ implements it with OpenBLAS
// and OpenMP loops, core/cuda/ with cuBLAS and its own kernels. The operations are
// listed once, in the table of core/backend_ops.h; this header holds the types they
// take and the interface the table becomes.
#pragma once

#include <cstdint>
#include <vector>

#include "core/attention/flash_options.h"
#include "core/attention/types.h"
#include "core/device.h"
#include "core/shape.h"

namespace ta {

enum class UnaryOp {
  Neg, Exp, Log, Sqrt, Rsqrt, Abs, Tanh, Sigmoid, Relu, ReluSquared, GeluTanh, GeluErf, Silu, Softplus,
  Elu,        // x > 0 ? x : param (e^x - 1)
  AddScalar,  // x + param
  MulScalar,  // x * param
  PowScalar,  // x ^ param
};

enum class BinaryOp {
  Add, Sub, Mul, Div, Maximum, Minimum,
  Eq, Ne, Lt, Le, Gt, Ge,  // comparisons give 1.0 or 0.0
  // a * b and a / b, except exactly 0 where a is 0, whatever b is: the backward
  // pass's gradient a times (or over) a local derivative b, so that a zero gradient
  // stays zero where b is inf or NaN (core/elementwise_math.h, gradient_times).
  GradMul, GradDiv,
};

enum class ReduceOp { Sum, Max, LogSumExp };

// softmax(x)_i = e^x_i / sum_j e^x_j, or its logarithm x_i - logsumexp(x).
enum class SoftmaxForm { Softmax, LogSoftmax };

// A cumulative sum from the first element (y_i = sum_{j <= i} x_j) or from the last
// (y_i = sum_{j >= i} x_j).
enum class ScanDirection { Forward, Reverse };

// LayerNorm (subtract the mean, then divide by the standard deviation) or RMSNorm
// (divide by the root mean square).
enum class LayerNormKind { LayerNorm, RmsNorm };

// SGD's momentum: the heavy ball's (p -= lr buf) or Nesterov's (p -= lr (d + mu buf)).
enum class SgdMomentum { HeavyBall, Nesterov };

// Adam's weight decay: L2, added to the gradient (Adam), or decoupled from it, a
// shrink of the weights applied first (AdamW).
enum class WeightDecay { L2, Decoupled };

enum class Transpose { No, Yes };

// The activation a GEMM can apply to its result before writing it (Backend::gemm_epilogue),
// each with the formula of core/elementwise_math.h: GeluErf is the exact x Phi(x) that
// layers/ call GELU, GeluTanh its tanh approximation, Silu x sigmoid(x).
enum class EpilogueActivation { None, Relu, GeluErf, GeluTanh, Silu };

// What gemm_epilogue does to the product before writing it: a bias per output column
// (Linear's bias), then an activation; the value before the activation can be kept too.
struct GemmEpilogue {
  const float* bias = nullptr;  // [N], added to every row; or null
  EpilogueActivation activation = EpilogueActivation::None;
  float* pre_activation = nullptr;  // laid out as C (same strides), receives the activation's argument; or null
};

// How the inputs of an element-wise kernel map onto its output: the output shape
// and, per input, a stride for each output dimension (0 along broadcast dims).
// Adjacent dimensions that are contiguous in every operand are merged first, so
// most plans end up one- or two-dimensional.
struct BroadcastPlan {
  int ndim = 0;
  Dims shape{};
  Dims strides[3]{};
  int64_t numel() const;
};
// Builds the plan for inputs of the given shapes onto `out` (all broadcastable to it).
BroadcastPlan make_broadcast_plan(const Shape& out, const Shape* inputs, int n_inputs);

// Every device implements this interface: one pure virtual member per entry of the
// table in core/backend_ops.h, where each operation is written out with its formula.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  // Waits until every kernel launched so far has finished (GPU launches are
  // asynchronous; the CPU's are done on return). For timing, not for correctness:
  // copies to the host wait by themselves.
  virtual void synchronize() {}

#define TA_BACKEND_OP(kind, ret, name, params, args) virtual ret name params = 0;
#include "core/backend_ops.h"
#undef TA_BACKEND_OP
};

// The backend of a device; asking for CUDA in a build or on a machine without it throws.
Backend& backend(Device d);
// Tests only: makes backend(d) return `b` until called again with nullptr. The
// device-plumbing tests put the CPU kernels behind Device::CUDA this way, so that
// every layer can be run "on another device" (and every stray CPU tensor caught by
// the mixed-device check) on machines without a GPU. Every tensor made while the
// override is in place must be gone before it is lifted.
void override_backend_for_testing(Device d, Backend* b);
bool cuda_available();

}  // namespace ta
