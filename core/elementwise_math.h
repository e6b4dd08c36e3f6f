// core/elementwise_math.h — the value of each element-wise op on one element, and
// the derivative of each unary op: written once for the CPU backend's loops
// (core/cpu/elementwise.cpp) and the CUDA kernels (core/cuda/kernels/elementwise.cuh).
//
// The CPU backend makes `op` a compile-time constant, so the switch folds away and
// its loops vectorize; in a kernel `op` is the same for every thread, so the switch
// costs next to nothing per element.
#pragma once

#include <cmath>

#include "core/backend.h"
#include "core/fast_math.h"
#include "core/host_device.h"

namespace ta {

namespace elementwise_constants {
constexpr float kSqrt2OverPi = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float kGeluCoeff = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;  // 1 / sqrt(2 pi)
}  // namespace elementwise_constants

// The e^x and erf(x) of the formulas below where plain float accuracy is enough:
// on the host the vectorizable approximations of core/fast_math.h
// (std::exp and std::erf are scalar library calls; fast_erf's absolute error is
// below 6e-7), on the GPU the device's own expf and erff.
#ifdef __CUDA_ARCH__
TA_HOST_DEVICE inline float formula_exp(float x) { return expf(x); }
TA_HOST_DEVICE inline float formula_erf(float x) { return erff(x); }
#else
TA_HOST_DEVICE inline float formula_exp(float x) { return fast_exp(x); }
TA_HOST_DEVICE inline float formula_erf(float x) { return fast_erf(x); }
#endif

// 1 / (1 + e^-x) in one branch-free expression, so that the CPU loops vectorize (the
// two-branch form that keeps e^-x from overflowing ran 3.6x slower there). Overflow is
// harmless: for x below about -88.7, e^-x is +inf and 1 / (1 + inf) is exactly 0.
TA_HOST_DEVICE inline float sigmoid(float x) { return 1.0f / (1.0f + formula_exp(-x)); }

// dy * d for a gradient dy and a local derivative d, except exactly 0 where dy is 0:
// a zero gradient stays zero even where d is inf or NaN. Where an op's output does
// not matter (the branch where() did not take, where log(0) = -inf and its derivative
// 1/0 = inf), the gradient arriving is 0, and plain IEEE 0 x inf = NaN would spread
// to everything upstream. Every element-wise backward multiplies through this.
TA_HOST_DEVICE inline float gradient_times(float dy, float d) { return dy == 0.0f ? 0.0f : dy * d; }
TA_HOST_DEVICE inline float gradient_over(float dy, float d) { return dy == 0.0f ? 0.0f : dy / d; }

// f(x) for each unary op.
TA_HOST_DEVICE inline float unary_value(UnaryOp op, float x, float p) {
  using namespace elementwise_constants;
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return expf(x);
    case UnaryOp::Log: return logf(x);
    case UnaryOp::Sqrt: return sqrtf(x);
    case UnaryOp::Rsqrt: return 1.0f / sqrtf(x);
    case UnaryOp::Abs: return fabsf(x);
    case UnaryOp::Tanh: return tanhf(x);
    case UnaryOp::Sigmoid: return sigmoid(x);
    case UnaryOp::Relu: return x > 0 ? x : 0.0f;
    case UnaryOp::ReluSquared: return x > 0 ? x * x : 0.0f;
    // gelu(x) ~ 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    case UnaryOp::GeluTanh: return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + kGeluCoeff * x * x * x)));
    // gelu(x) = x Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
    case UnaryOp::GeluErf: return 0.5f * x * (1.0f + formula_erf(x * kInvSqrt2));
    case UnaryOp::Silu: return x * sigmoid(x);
    // softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for large |x|
    case UnaryOp::Softplus: return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
    // elu(x) = x for x > 0, alpha (e^x - 1) otherwise; expm1 keeps small |x| exact
    case UnaryOp::Elu: return x > 0 ? x : p * expm1f(x);
    case UnaryOp::AddScalar: return x + p;
    case UnaryOp::MulScalar: return x * p;
    case UnaryOp::PowScalar: return powf(x, p);
  }
  return 0.0f;
}

// f'(x), given x and y = f(x).
TA_HOST_DEVICE inline float unary_derivative(UnaryOp op, float x, float y, float p) {
  using namespace elementwise_constants;
  switch (op) {
    case UnaryOp::Neg: return -1.0f;
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return 1.0f / x;
    case UnaryOp::Sqrt: return 0.5f / y;
    case UnaryOp::Rsqrt: return -0.5f * y * y * y;  // d/dx x^-1/2 = -1/2 x^-3/2
    case UnaryOp::Abs: return x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f);
    case UnaryOp::Tanh: return 1.0f - y * y;
    case UnaryOp::Sigmoid: return y * (1.0f - y);
    case UnaryOp::Relu: return x > 0 ? 1.0f : 0.0f;
    case UnaryOp::ReluSquared: return x > 0 ? 2.0f * x : 0.0f;
    case UnaryOp::GeluTanh: {
      float u = kSqrt2OverPi * (x + kGeluCoeff * x * x * x);
      float t = tanhf(u);
      return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kGeluCoeff * x * x);
    }
    case UnaryOp::GeluErf:  // Phi(x) + x phi(x)
      return 0.5f * (1.0f + formula_erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * formula_exp(-0.5f * x * x);
    case UnaryOp::Silu: {  // s(x) (1 + x (1 - s(x)))
      float s = sigmoid(x);
      return s * (1.0f + x * (1.0f - s));
    }
    case UnaryOp::Softplus: return sigmoid(x);
    case UnaryOp::Elu: return x > 0 ? 1.0f : y + p;  // alpha e^x = y + alpha
    case UnaryOp::AddScalar: return 1.0f;
    case UnaryOp::MulScalar: return p;
    case UnaryOp::PowScalar: return p == 0.0f ? 0.0f : p * powf(x, p - 1.0f);
  }
  return 0.0f;
}

TA_HOST_DEVICE inline float binary_value(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Maximum: return (a != a || a > b) ? a : b;  // NaN propagates
    case BinaryOp::Minimum: return (a != a || a < b) ? a : b;
    case BinaryOp::Eq: return a == b ? 1.0f : 0.0f;
    case BinaryOp::Ne: return a != b ? 1.0f : 0.0f;
    case BinaryOp::Lt: return a < b ? 1.0f : 0.0f;
    case BinaryOp::Le: return a <= b ? 1.0f : 0.0f;
    case BinaryOp::Gt: return a > b ? 1.0f : 0.0f;
    case BinaryOp::Ge: return a >= b ? 1.0f : 0.0f;
    case BinaryOp::GradMul: return gradient_times(a, b);
    case BinaryOp::GradDiv: return gradient_over(a, b);
  }
  return 0.0f;
}

}  // namespace ta
