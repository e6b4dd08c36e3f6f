// core/kernels/matmul.cpp — matrix products: batched matmul with transpose flags, and the fused linear layer.
#include "core/kernels/matmul.h"

#include "core/error.h"
#include "core/kernels/common.h"
#include "core/kernels/elementwise.h"

namespace ta::kernels {

// Batch dimensions broadcast like element-wise ops. The cheap cases never copy:
// equal batch dims (one strided batched GEMM), b without batch dims and a not
// transposed (a's batch folds into M: one big GEMM), a or b without batch dims
// (stride 0). Other broadcasts expand the operands first.
Tensor matmul(const Tensor& a, const Tensor& b, Transpose ta, Transpose tb) {
  check_defined(a, "matmul", "a");
  check_defined(b, "matmul", "b");
  Device d = common_device({&a, &b}, "matmul");
  TA_CHECK(a.ndim() >= 2 && b.ndim() >= 2, "matmul: both operands need at least 2 dimensions, got ", a.shape(),
           " and ", b.shape(), " (reshape vectors to [1, n] or [n, 1])");
  const Shape &as = a.shape(), &bs = b.shape();
  const int an = as.ndim(), bn = bs.ndim();
  const bool ta_ = ta == Transpose::Yes, tb_ = tb == Transpose::Yes;
  const int64_t M = ta_ ? as[an - 1] : as[an - 2], Ka = ta_ ? as[an - 2] : as[an - 1];
  const int64_t Kb = tb_ ? bs[bn - 1] : bs[bn - 2], N = tb_ ? bs[bn - 2] : bs[bn - 1];
  TA_CHECK(Ka == Kb, "matmul: inner dimensions differ: a ", as, (ta_ ? " (transposed)" : ""), " gives K = ", Ka,
           ", b ", bs, (tb_ ? " (transposed)" : ""), " gives K = ", Kb);
  const int64_t K = Ka;
  Shape a_batch(std::vector<int64_t>(as.begin(), as.end() - 2));
  Shape b_batch(std::vector<int64_t>(bs.begin(), bs.end() - 2));
  TA_CHECK(can_broadcast(a_batch, b_batch), "matmul: batch dimensions of a ", as, " and b ", bs,
           " cannot be broadcast together (", a_batch, " vs ", b_batch, ")");
  Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");
  std::vector<int64_t> out_dims = batch.vec();
  out_dims.push_back(M);
  out_dims.push_back(N);
  Tensor out = Tensor::empty(Shape(out_dims), d);
  Backend& be = backend(d);
  const int64_t nb = batch.numel();
  if (b_batch.numel() == 1 && !ta_ && a_batch == batch) {  // [..., M, K] @ [K, N]: fold batch into M
    be.gemm(ta, tb, nb * M, N, K, 1.0f, a.data(), 0, b.data(), 0, 0.0f, out.data(), 0, 1);
    return out;
  }
  auto operand = [&](const Tensor& x, const Shape& x_batch, int64_t rows, int64_t cols) -> std::pair<Tensor, int64_t> {
    if (x_batch.numel() == 1) return {x, 0};
    if (x_batch == batch) return {x, rows * cols};
    std::vector<int64_t> full = batch.vec();
    full.push_back(rows);
    full.push_back(cols);
    return {broadcast_to(x, Shape(full)), rows * cols};
  };
  auto [A, sa] = operand(a, a_batch, as[an - 2], as[an - 1]);
  auto [B, sb] = operand(b, b_batch, bs[bn - 2], bs[bn - 1]);
  be.gemm(ta, tb, M, N, K, 1.0f, A.data(), sa, B.data(), sb, 0.0f, out.data(), M * N, nb);
  return out;
}

LinearOutput linear(const Tensor& x, const Tensor& weight, const Tensor& bias, EpilogueActivation activation,
                    PreActivation keep) {
  check_defined(x, "linear", "x");
  check_defined(weight, "linear", "weight");
  common_device({&x, &weight}, "linear");
  if (bias.defined()) common_device({&x, &bias}, "linear");
  TA_CHECK(weight.ndim() == 2, "linear: weight must be [out, in], got ", weight.shape());
  const int64_t out_features = weight.size(0), in_features = weight.size(1);
  TA_CHECK(x.ndim() >= 1 && x.size(-1) == in_features, "linear: expected x [..., ", in_features, "] for weight ",
           weight.shape(), ", got ", x.shape());
  TA_CHECK(!bias.defined() || bias.shape() == Shape({out_features}), "linear: bias must be [", out_features,
           "], got ", bias.shape());
  std::vector<int64_t> dims = x.shape().vec();
  dims.back() = out_features;
  const Shape shape(dims);
  const int64_t rows = x.shape().outer(x.ndim() - 1);  // x as [rows, in]
  LinearOutput result{Tensor::empty(shape, x.device()), Tensor()};
  if (keep == PreActivation::Keep) result.pre = Tensor::empty(shape, x.device());
  const GemmEpilogue epilogue{bias.defined() ? bias.data() : nullptr, activation,
                              keep == PreActivation::Keep ? result.pre.data() : nullptr};
  backend(x.device())
      .gemm_epilogue(Transpose::No, Transpose::Yes, rows, out_features, in_features, 1.0f, x.data(), 0, weight.data(),
                     0, 0.0f, result.y.data(), 0, 1, epilogue);
  return result;
}

}  // namespace ta::kernels
