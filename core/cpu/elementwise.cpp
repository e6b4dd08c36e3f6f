// Element-wise kernels: unary functions and their derivatives, broadcasting binary
// ops, where and broadcast_to. The per-element formulas are core/elementwise_math.h,
// shared with the CUDA kernels.
#include <algorithm>
#include <type_traits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/parallel.h"
#include "core/elementwise_math.h"

namespace ta::cpu {

namespace {

// Calls f(std::integral_constant<Enum, op>) so that `op` is a compile-time constant
// inside f: the formula then folds to one expression and each loop is branch-free.
template <class F>
void with_constant(UnaryOp op, F&& f) {
  using U = UnaryOp;
  switch (op) {
    case U::Neg: return f(std::integral_constant<U, U::Neg>());
    case U::Exp: return f(std::integral_constant<U, U::Exp>());
    case U::Log: return f(std::integral_constant<U, U::Log>());
    case U::Sqrt: return f(std::integral_constant<U, U::Sqrt>());
    case U::Rsqrt: return f(std::integral_constant<U, U::Rsqrt>());
    case U::Abs: return f(std::integral_constant<U, U::Abs>());
    case U::Tanh: return f(std::integral_constant<U, U::Tanh>());
    case U::Sigmoid: return f(std::integral_constant<U, U::Sigmoid>());
    case U::Relu: return f(std::integral_constant<U, U::Relu>());
    case U::ReluSquared: return f(std::integral_constant<U, U::ReluSquared>());
    case U::GeluTanh: return f(std::integral_constant<U, U::GeluTanh>());
    case U::GeluErf: return f(std::integral_constant<U, U::GeluErf>());
    case U::Silu: return f(std::integral_constant<U, U::Silu>());
    case U::Softplus: return f(std::integral_constant<U, U::Softplus>());
    case U::Elu: return f(std::integral_constant<U, U::Elu>());
    case U::AddScalar: return f(std::integral_constant<U, U::AddScalar>());
    case U::MulScalar: return f(std::integral_constant<U, U::MulScalar>());
    case U::PowScalar: return f(std::integral_constant<U, U::PowScalar>());
  }
}

template <class F>
void with_constant(BinaryOp op, F&& f) {
  using B = BinaryOp;
  switch (op) {
    case B::Add: return f(std::integral_constant<B, B::Add>());
    case B::Sub: return f(std::integral_constant<B, B::Sub>());
    case B::Mul: return f(std::integral_constant<B, B::Mul>());
    case B::Div: return f(std::integral_constant<B, B::Div>());
    case B::Maximum: return f(std::integral_constant<B, B::Maximum>());
    case B::Minimum: return f(std::integral_constant<B, B::Minimum>());
    case B::Eq: return f(std::integral_constant<B, B::Eq>());
    case B::Ne: return f(std::integral_constant<B, B::Ne>());
    case B::Lt: return f(std::integral_constant<B, B::Lt>());
    case B::Le: return f(std::integral_constant<B, B::Le>());
    case B::Gt: return f(std::integral_constant<B, B::Gt>());
    case B::Ge: return f(std::integral_constant<B, B::Ge>());
    case B::GradMul: return f(std::integral_constant<B, B::GradMul>());
    case B::GradDiv: return f(std::integral_constant<B, B::GradDiv>());
  }
}

// Visits every output element of a broadcast plan in runs along its last dimension:
// f(out_index, in_offsets[], count) handles `count` consecutive elements of one row
// (each input's inner stride is plan.strides[k][last]). The threads split the elements,
// not the rows: operands of one shape merge into a single row (make_broadcast_plan), and
// splitting rows left those ops, residual adds and gating included, on one thread.
template <int N, class RunFn>
void for_each_run(const BroadcastPlan& plan, int64_t cost, RunFn&& run_fn) {
  const int nd = plan.ndim;
  const int64_t len = plan.shape[nd - 1];
  if (len == 0) return;
  parallel_for(plan.numel(), cost, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end;) {
      const int64_t column = o % len, count = std::min(len - column, end - o);
      int64_t off[N] = {};
      int64_t rest = o / len;
      for (int d = nd - 2; d >= 0; --d) {
        int64_t i = rest % plan.shape[d];
        rest /= plan.shape[d];
        for (int k = 0; k < N; ++k) off[k] += i * plan.strides[k][d];
      }
      for (int k = 0; k < N; ++k) off[k] += column * plan.strides[k][nd - 1];
      run_fn(o, off, count);
      o += count;
    }
  });
}

}  // namespace

void CpuBackend::unary(UnaryOp op, const float* x, float* y, int64_t n, float p) {
  with_constant(op, [&](auto OP) {
    parallel_for(n, 8, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = unary_value(OP(), x[i], p);
    });
  });
}

void CpuBackend::unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n,
                                float p) {
  with_constant(op, [&](auto OP) {
    parallel_for(n, 10, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) dx[i] = gradient_times(dy[i], unary_derivative(OP(), x[i], y[i], p));
    });
  });
}

void CpuBackend::binary(BinaryOp op, const float* a, const float* b, float* out, const BroadcastPlan& plan) {
  const int nd = plan.ndim;
  const int64_t sa = plan.strides[0][nd - 1], sb = plan.strides[1][nd - 1];
  with_constant(op, [&](auto OP) {
    for_each_run<2>(plan, 1, [&](int64_t o, const int64_t* off, int64_t count) {
      const float* pa = a + off[0];
      const float* pb = b + off[1];
      float* po = out + o;
      if (sa == 1 && sb == 1)  // the common cases get loops the compiler can vectorize
        for (int64_t i = 0; i < count; ++i) po[i] = binary_value(OP(), pa[i], pb[i]);
      else if (sa == 1 && sb == 0)
        for (int64_t i = 0; i < count; ++i) po[i] = binary_value(OP(), pa[i], pb[0]);
      else if (sa == 0 && sb == 1)
        for (int64_t i = 0; i < count; ++i) po[i] = binary_value(OP(), pa[0], pb[i]);
      else
        for (int64_t i = 0; i < count; ++i) po[i] = binary_value(OP(), pa[i * sa], pb[i * sb]);
    });
  });
}

void CpuBackend::where(const float* mask, const float* a, const float* b, float* out, const BroadcastPlan& plan) {
  const int nd = plan.ndim;
  const int64_t sm = plan.strides[0][nd - 1], sa = plan.strides[1][nd - 1], sb = plan.strides[2][nd - 1];
  for_each_run<3>(plan, 1, [&](int64_t o, const int64_t* off, int64_t count) {
    for (int64_t i = 0; i < count; ++i)
      out[o + i] = mask[off[0] + i * sm] != 0.0f ? a[off[1] + i * sa] : b[off[2] + i * sb];
  });
}

void CpuBackend::broadcast_to(const float* x, float* out, const BroadcastPlan& plan) {
  const int64_t sx = plan.strides[0][plan.ndim - 1];
  for_each_run<1>(plan, 1, [&](int64_t o, const int64_t* off, int64_t count) {
    for (int64_t i = 0; i < count; ++i) out[o + i] = x[off[0] + i * sx];
  });
}

}  // namespace ta::cpu
