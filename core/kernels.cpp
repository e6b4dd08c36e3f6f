#include "core/kernels.h"

#include <cmath>

#include "core/error.h"

namespace ta::kernels {

namespace {

Backend& backend_of(const Tensor& t) { return backend(t.device()); }

// Reads [outer, n, inner] around `axis` of shape s.
struct AxisView {
  int64_t outer, n, inner;
  AxisView(const Shape& s, int axis) : outer(s.outer(axis)), n(s[axis]), inner(s.inner(axis)) {}
};

}  // namespace

Device common_device(std::initializer_list<const Tensor*> ts, const char* op) {
  Device d = (*ts.begin())->device();
  for (const Tensor* t : ts)
    TA_CHECK(t->device() == d, op, ": tensors are on different devices (", d, " and ", t->device(),
             "); move them with .to(device) first");
  return d;
}

Tensor unary(UnaryOp op, const Tensor& x, float param, const char* name) {
  check_defined(x, name, "x");
  Tensor y = Tensor::empty(x.shape(), x.device());
  backend_of(x).unary(op, x.data(), y.data(), x.numel(), param);
  return y;
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, float param) {
  Tensor dx = Tensor::empty(x.shape(), x.device());
  backend_of(x).unary_backward(op, x.data(), y.data(), dy.data(), dx.data(), x.numel(), param);
  return dx;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_defined(a, name, "a");
  check_defined(b, name, "b");
  Device d = common_device({&a, &b}, name);
  Shape out_shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(out_shape, d);
  Shape in[2] = {a.shape(), b.shape()};
  backend(d).binary(op, a.data(), b.data(), out.data(), make_broadcast_plan(out_shape, in, 2));
  return out;
}

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  check_defined(mask, "where", "mask");
  check_defined(a, "where", "a");
  check_defined(b, "where", "b");
  Device d = common_device({&mask, &a, &b}, "where");
  Shape out_shape = broadcast_shapes(broadcast_shapes(mask.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(out_shape, d);
  Shape in[3] = {mask.shape(), a.shape(), b.shape()};
  backend(d).where(mask.data(), a.data(), b.data(), out.data(), make_broadcast_plan(out_shape, in, 3));
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "broadcast_to", "x");
  TA_CHECK(broadcast_shapes(x.shape(), shape, "broadcast_to") == shape, "broadcast_to: cannot broadcast ", x.shape(),
           " to ", shape);
  if (x.shape() == shape) return x;
  Tensor out = Tensor::empty(shape, x.device());
  Shape in[1] = {x.shape()};
  backend_of(x).broadcast_to(x.data(), out.data(), make_broadcast_plan(shape, in, 1));
  return out;
}

// Groups the dimensions of x (aligned at the right with `shape`) into runs that are
// all summed or all kept, so each run of summed dimensions costs one pass.
Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const Shape& xs = x.shape();
  TA_CHECK(broadcast_shapes(shape, xs, "sum_to") == xs, "sum_to: cannot sum ", xs, " down to ", shape);
  std::vector<int64_t> dims;
  std::vector<bool> summed;
  for (int d = 0; d < xs.ndim(); ++d) {
    int sd = shape.ndim() - xs.ndim() + d;
    bool s = (sd < 0 || shape[sd] == 1) && xs[d] != 1;
    if (xs[d] == 1) continue;  // size-1 dims change nothing
    if (!dims.empty() && summed.back() == s)
      dims.back() *= xs[d];
    else
      dims.push_back(xs[d]), summed.push_back(s);
  }
  Tensor y = reshape(x, Shape(dims));
  for (int d = static_cast<int>(dims.size()) - 1; d >= 0; --d)
    if (summed[d]) y = reduce(ReduceOp::Sum, y, d, /*keepdim=*/true);
  return reshape(y, shape);
}

void assign(const Tensor& dst, const Tensor& src) {
  check_defined(dst, "assign", "dst");
  check_defined(src, "assign", "src");
  common_device({&dst, &src}, "assign");
  TA_CHECK(dst.shape() == src.shape(), "assign: source shape ", src.shape(), " does not match destination shape ",
           dst.shape());
  backend_of(dst).copy(src.data(), dst.data(), dst.numel());
}

void add_into(const Tensor& dst, const Tensor& src, const char* op) {
  check_defined(dst, op, "dst");
  check_defined(src, op, "src");
  common_device({&dst, &src}, op);
  TA_CHECK(dst.shape() == src.shape(), op, ": cannot add a tensor of shape ", src.shape(), " into one of shape ",
           dst.shape());
  backend_of(dst).accumulate_rows(src.data(), 0, dst.data(), 0, 1, dst.numel());
}

// Viewed as [outer, n, inner] around `axis`, the slice is `outer` rows of len * inner
// values, n * inner apart in dst and len * inner apart in src.
void add_into_slice(const Tensor& dst, const Tensor& src, int axis, int64_t start, const char* op) {
  check_defined(dst, op, "dst");
  check_defined(src, op, "src");
  common_device({&dst, &src}, op);
  axis = normalize_axis(axis, dst.ndim(), op);
  const Shape& s = dst.shape();
  bool fits = src.ndim() == dst.ndim();
  for (int d = 0; fits && d < s.ndim(); ++d) fits = d == axis || src.shape()[d] == s[d];
  const int64_t len = fits ? src.shape()[axis] : 0;
  TA_CHECK(fits && start >= 0 && start + len <= s[axis], op, ": cannot add a slice of shape ", src.shape(),
           " at offset ", start, " along axis ", axis, " of a tensor of shape ", s);
  AxisView v(s, axis);
  backend_of(dst).accumulate_rows(src.data(), len * v.inner, dst.data() + start * v.inner, v.n * v.inner,
                                  v.outer, len * v.inner);
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  check_defined(x, "reshape", "x");
  TA_CHECK(shape.numel() == x.numel(), "reshape: cannot view ", x.shape(), " (", x.numel(), " elements) as ", shape,
           " (", shape.numel(), " elements)");
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->storage = x.impl()->storage;
  impl->offset = x.impl()->offset;
  return Tensor(std::move(impl));
}

Tensor reduce(ReduceOp op, const Tensor& x, int axis, bool keepdim) {
  const char* name = op == ReduceOp::Sum ? "sum" : op == ReduceOp::Max ? "max" : "logsumexp";
  check_defined(x, name, "x");
  axis = normalize_axis(axis, x.ndim(), name);
  TA_CHECK(op == ReduceOp::Sum || x.shape()[axis] > 0, name, ": cannot reduce an empty axis ", axis, " of shape ",
           x.shape());
  AxisView v(x.shape(), axis);
  Tensor y = Tensor::empty(x.shape().reduced(axis, keepdim), x.device());
  backend_of(x).reduce(op, x.data(), y.data(), v.outer, v.n, v.inner);
  return y;
}

Tensor softmax(const Tensor& x, int axis, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  check_defined(x, name, "x");
  axis = normalize_axis(axis, x.ndim(), name);
  AxisView v(x.shape(), axis);
  Tensor y = Tensor::empty(x.shape(), x.device());
  backend_of(x).softmax(x.data(), y.data(), v.outer, v.n, v.inner, log);
  return y;
}

Tensor softmax_backward(const Tensor& y, const Tensor& dy, int axis, bool log) {
  AxisView v(y.shape(), axis);
  Tensor dx = Tensor::empty(y.shape(), y.device());
  backend_of(y).softmax_backward(y.data(), dy.data(), dx.data(), v.outer, v.n, v.inner, log);
  return dx;
}

Tensor cumsum(const Tensor& x, int axis, bool reverse) {
  check_defined(x, "cumsum", "x");
  axis = normalize_axis(axis, x.ndim(), "cumsum");
  AxisView v(x.shape(), axis);
  Tensor y = Tensor::empty(x.shape(), x.device());
  backend_of(x).cumsum(x.data(), y.data(), v.outer, v.n, v.inner, reverse);
  return y;
}

Tensor permute(const Tensor& x, const std::vector<int>& order) {
  check_defined(x, "permute", "x");
  const int nd = x.ndim();
  TA_CHECK(static_cast<int>(order.size()) == nd, "permute: got an order of ", order.size(),
           " axes for a tensor of shape ", x.shape());
  std::vector<int64_t> out_dims(nd);
  std::vector<bool> seen(nd, false);
  int perm[kMaxDims];
  for (int d = 0; d < nd; ++d) {
    int a = normalize_axis(order[d], nd, "permute");
    TA_CHECK(!seen[a], "permute: axis ", a, " appears twice in the order");
    seen[a] = true;
    perm[d] = a;
    out_dims[d] = x.shape()[a];
  }
  Tensor y = Tensor::empty(Shape(out_dims), x.device());
  backend_of(x).permute(x.data(), y.data(), x.shape(), perm);
  return y;
}

Tensor narrow(const Tensor& x, int axis, int64_t start, int64_t length) {
  check_defined(x, "narrow", "x");
  axis = normalize_axis(axis, x.ndim(), "narrow");
  const Shape& s = x.shape();
  TA_CHECK(start >= 0 && length >= 0 && start <= s[axis] && length <= s[axis] - start, "narrow: ", length,
           " elements from ", start, " are outside axis ", axis, " of shape ", s, " (size ", s[axis], ")");
  Shape out_shape = s;
  out_shape[axis] = length;
  AxisView v(s, axis);
  if (v.outer == 1) {  // a contiguous block of the storage: a free view
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = out_shape;
    impl->storage = x.impl()->storage;
    impl->offset = x.impl()->offset + start * v.inner;
    return Tensor(std::move(impl));
  }
  Tensor y = Tensor::empty(out_shape, x.device());
  backend_of(x).copy_rows(x.data() + start * v.inner, v.n * v.inner, y.data(), length * v.inner, v.outer,
                          length * v.inner);
  return y;
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  TA_CHECK(!xs.empty(), "concat: needs at least one tensor");
  for (const Tensor& x : xs) check_defined(x, "concat", "xs[i]");
  const Shape& first = xs[0].shape();
  axis = normalize_axis(axis, first.ndim(), "concat");
  Shape out_shape = first;
  out_shape[axis] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Shape& s = xs[i].shape();
    TA_CHECK(xs[i].device() == xs[0].device(), "concat: tensor ", i, " is on ", xs[i].device(), ", tensor 0 on ",
             xs[0].device());
    bool same = s.ndim() == first.ndim();
    for (int d = 0; same && d < s.ndim(); ++d) same = d == axis || s[d] == first[d];
    TA_CHECK(same, "concat: tensor ", i, " has shape ", s, ", which does not match ", first,
             " outside axis ", axis);
    TA_CHECK(!__builtin_add_overflow(out_shape[axis], s[axis], &out_shape[axis]), "concat: the sizes along axis ",
             axis, " add up to more than int64 counts");
  }
  Tensor y = Tensor::empty(out_shape, xs[0].device());
  AxisView v(out_shape, axis);
  int64_t at = 0;
  for (const Tensor& x : xs) {
    int64_t len = x.shape()[axis];
    backend_of(x).copy_rows(x.data(), len * v.inner, y.data() + at * v.inner, v.n * v.inner, v.outer, len * v.inner);
    at += len;
  }
  return y;
}

void check_indices(const Tensor& index, int64_t bound, const char* op) {
  std::vector<float> values = index.to_vector();
  for (size_t i = 0; i < values.size(); ++i) {
    float v = values[i];
    TA_CHECK(std::isfinite(v) && v == std::floor(v) && v >= 0 && v < static_cast<float>(bound), op, ": index ", v,
             " at position ", i, " is not a whole number in [0, ", bound, ")");
  }
}

Tensor index_select(const Tensor& x, int axis, const Tensor& index) {
  check_defined(x, "index_select", "x");
  check_defined(index, "index_select", "index");
  common_device({&x, &index}, "index_select");
  axis = normalize_axis(axis, x.ndim(), "index_select");
  TA_CHECK(index.ndim() == 1, "index_select: index must be 1-D, got shape ", index.shape());
  check_indices(index, x.shape()[axis], "index_select");
  Shape out_shape = x.shape();
  out_shape[axis] = index.numel();
  AxisView v(x.shape(), axis);
  Tensor y = Tensor::empty(out_shape, x.device());
  backend_of(x).index_select(x.data(), index.data(), y.data(), v.outer, v.n, index.numel(), v.inner);
  return y;
}

Tensor index_add(const Tensor& dy, int axis, const Tensor& index, const Shape& x_shape) {
  AxisView v(x_shape, axis);
  Tensor dx = Tensor::zeros(x_shape, dy.device());
  backend_of(dy).index_add(dy.data(), index.data(), dx.data(), v.outer, v.n, index.numel(), v.inner);
  return dx;
}

Tensor gather(const Tensor& x, int axis, const Tensor& index) {
  check_defined(x, "gather", "x");
  check_defined(index, "gather", "index");
  common_device({&x, &index}, "gather");
  axis = normalize_axis(axis, x.ndim(), "gather");
  const Shape &xs = x.shape(), &is = index.shape();
  bool ok = is.ndim() == xs.ndim();
  for (int d = 0; ok && d < xs.ndim(); ++d) ok = d == axis || is[d] == xs[d];
  TA_CHECK(ok, "gather: index shape ", is, " must match x shape ", xs, " except along axis ", axis);
  check_indices(index, xs[axis], "gather");
  AxisView v(xs, axis);
  Tensor y = Tensor::empty(is, x.device());
  backend_of(x).gather(x.data(), index.data(), y.data(), v.outer, v.n, is[axis], v.inner);
  return y;
}

Tensor scatter_add(const Tensor& dy, int axis, const Tensor& index, const Shape& x_shape) {
  AxisView v(x_shape, axis);
  Tensor dx = Tensor::zeros(x_shape, dy.device());
  backend_of(dy).scatter_add(dy.data(), index.data(), dx.data(), v.outer, v.n, index.shape()[axis], v.inner);
  return dx;
}

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

std::pair<Tensor, Tensor> attention(const Tensor& q, const Tensor& k, const Tensor& v, float scale, bool causal,
                                    const Tensor& key_pad) {
  check_defined(q, "attention", "q");
  check_defined(k, "attention", "k");
  check_defined(v, "attention", "v");
  Device dev = common_device({&q, &k, &v}, "attention");
  TA_CHECK(q.ndim() == 4 && k.ndim() == 4 && v.ndim() == 4, "attention: q, k, v must be [batch, heads, n, d_head], got ",
           q.shape(), ", ", k.shape(), ", ", v.shape());
  const Shape &qs = q.shape(), &ks = k.shape();
  TA_CHECK(ks == v.shape() && qs[0] == ks[0] && qs[1] == ks[1] && qs[3] == ks[3], "attention: shapes q ", qs, ", k ",
           ks, ", v ", v.shape(), " do not agree (k and v equal; batch, heads and d_head as in q)");
  if (key_pad.defined()) {
    common_device({&q, &key_pad}, "attention");
    TA_CHECK(key_pad.shape() == Shape({ks[0], ks[2]}), "attention: key_padding_mask must be [", ks[0], ", ", ks[2],
             "], got ", key_pad.shape());
  }
  Tensor o = Tensor::empty(qs, dev), lse = Tensor::empty(Shape{qs[0], qs[1], qs[2]}, dev);
  backend(dev).attention_forward(q.data(), k.data(), v.data(), o.data(), lse.data(), qs[0] * qs[1], qs[1], qs[2],
                                 ks[2], qs[3], scale, causal, key_pad.defined() ? key_pad.data() : nullptr);
  return {o, lse};
}

std::vector<Tensor> attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                                       const Tensor& lse, const Tensor& d_o, float scale, bool causal,
                                       const Tensor& key_pad) {
  const Shape &qs = q.shape(), &ks = k.shape();
  Tensor dq = Tensor::empty(qs, q.device()), dk = Tensor::empty(ks, q.device()), dv = Tensor::empty(ks, q.device());
  backend_of(q).attention_backward(q.data(), k.data(), v.data(), o.data(), lse.data(), d_o.data(), dq.data(),
                                   dk.data(), dv.data(), qs[0] * qs[1], qs[1], qs[2], ks[2], qs[3], scale, causal,
                                   key_pad.defined() ? key_pad.data() : nullptr);
  return {dq, dk, dv};
}

namespace {

// Checks the arguments of the FLASH kernel and returns its sizes.
FlashDims flash_dims(const Tensor& qk, const Tensor& v, const FlashOptions& o, const Tensor& rel_bias,
                     const Tensor& key_pad) {
  check_defined(qk, "flash_attention", "qk");
  check_defined(v, "flash_attention", "v");
  common_device({&qk, &v}, "flash_attention");
  TA_CHECK(qk.ndim() == 4 && (qk.size(0) == 4 || qk.size(0) == 2) && v.ndim() == 3,
           "flash_attention: expected qk [4 or 2, batch, n, s] (quad q, quad k[, linear q, linear k]) and v [batch, "
           "n, e], got ", qk.shape(), " and ", v.shape());
  FlashDims d;
  d.batch = qk.size(1);
  d.n = qk.size(2);
  d.s = qk.size(3);
  d.e = v.size(2);
  d.linear = qk.size(0) == 4;
  TA_CHECK(v.size(0) == d.batch && v.size(1) == d.n && d.s > 0 && d.e > 0, "flash_attention: qk ", qk.shape(),
           " and v ", v.shape(), " must agree in batch and n, with s and e > 0");
  TA_CHECK(o.chunk >= 0 && std::isfinite(o.score_scale) && std::isfinite(o.lin_scale), "flash_attention: chunk must ",
           "be >= 0 and the scales finite, got chunk ", o.chunk, ", score_scale ", o.score_scale, ", lin_scale ",
           o.lin_scale);
  if (rel_bias.defined()) {
    common_device({&qk, &rel_bias}, "flash_attention");
    const int64_t need = o.chunk_length(d.n);
    TA_CHECK(rel_bias.ndim() == 1 && rel_bias.size(0) % 2 == 1 && (rel_bias.size(0) + 1) / 2 >= need,
             "flash_attention: rel_bias must be a table [2L - 1] of per-offset biases with L >= the chunk length ",
             need, ", got ", rel_bias.shape());
    d.bias_len = (rel_bias.size(0) + 1) / 2;
  }
  if (key_pad.defined()) {
    common_device({&qk, &key_pad}, "flash_attention");
    TA_CHECK(key_pad.shape() == Shape({d.batch, d.n}), "flash_attention: key_padding_mask must be [", d.batch, ", ",
             d.n, "], got ", key_pad.shape());
  }
  return d;
}

}  // namespace

std::pair<Tensor, Tensor> flash_attention(const Tensor& qk, const Tensor& v, const FlashOptions& options,
                                          const Tensor& rel_bias, const Tensor& key_pad) {
  const FlashDims d = flash_dims(qk, v, options, rel_bias, key_pad);
  const int64_t chunks = (d.n + options.chunk_length(d.n) - 1) / options.chunk_length(d.n);
  Tensor out = Tensor::empty(Shape{d.batch, d.n, d.e}, qk.device());
  Tensor state = d.linear ? Tensor::empty(Shape{d.batch, options.causal ? chunks : 1, d.s, d.e}, qk.device())
                          : Tensor();
  backend_of(qk).flash_forward(d, options, qk.data(), v.data(), rel_bias.defined() ? rel_bias.data() : nullptr,
                               key_pad.defined() ? key_pad.data() : nullptr, out.data(),
                               state.defined() ? state.data() : nullptr);
  return {out, state};
}

std::vector<Tensor> flash_attention_backward(const Tensor& qk, const Tensor& v, const FlashOptions& options,
                                             const Tensor& rel_bias, const Tensor& key_pad, const Tensor& state,
                                             const Tensor& d_out) {
  const FlashDims d = flash_dims(qk, v, options, rel_bias, key_pad);
  TA_CHECK(d_out.defined() && d_out.shape() == Shape({d.batch, d.n, d.e}), "flash_attention backward: the output ",
           "gradient must be [", d.batch, ", ", d.n, ", ", d.e, "]");
  Tensor dqk = Tensor::empty(qk.shape(), qk.device()), dv = Tensor::empty(v.shape(), qk.device());
  Tensor dbias = rel_bias.defined() ? Tensor::empty(rel_bias.shape(), qk.device()) : Tensor();
  backend_of(qk).flash_backward(d, options, qk.data(), v.data(), rel_bias.defined() ? rel_bias.data() : nullptr,
                                key_pad.defined() ? key_pad.data() : nullptr,
                                state.defined() ? state.data() : nullptr, d_out.data(), dqk.data(), dv.data(),
                                dbias.defined() ? dbias.data() : nullptr);
  return {dqk, dv, dbias};
}

Tensor scale_offset(const Tensor& z, const Tensor& gamma, const Tensor& beta) {
  check_defined(z, "scale_offset", "z");
  check_defined(gamma, "scale_offset", "gamma");
  check_defined(beta, "scale_offset", "beta");
  common_device({&z, &gamma, &beta}, "scale_offset");
  TA_CHECK(z.ndim() >= 1 && gamma.ndim() == 2 && gamma.shape() == beta.shape() && gamma.size(1) == z.size(-1),
           "scale_offset: expected z [..., s] and gamma, beta [planes, s], got ", z.shape(), ", ", gamma.shape(),
           ", ", beta.shape());
  const int64_t s = z.size(-1), planes = gamma.size(0);
  std::vector<int64_t> dims = {planes};
  for (int i = 0; i < z.ndim(); ++i) dims.push_back(z.size(i));
  Tensor y = Tensor::empty(Shape(dims), z.device());
  backend_of(z).scale_offset(z.data(), gamma.data(), beta.data(), y.data(), s > 0 ? z.numel() / s : 0, planes, s);
  return y;
}

std::vector<Tensor> scale_offset_backward(const Tensor& z, const Tensor& gamma, const Tensor& dy) {
  const int64_t s = z.size(-1), planes = gamma.size(0);
  Tensor dz = Tensor::empty(z.shape(), z.device()), dgamma = Tensor::empty(gamma.shape(), z.device());
  Tensor dbeta = Tensor::empty(gamma.shape(), z.device());
  backend_of(z).scale_offset_backward(z.data(), gamma.data(), dy.data(), dz.data(), dgamma.data(), dbeta.data(),
                                      s > 0 ? z.numel() / s : 0, planes, s);
  return {dz, dgamma, dbeta};
}

NormResult layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, bool subtract_mean) {
  const char* name = subtract_mean ? "layer_norm" : "rms_norm";
  check_defined(x, name, "x");
  TA_CHECK(x.ndim() >= 1 && x.shape()[x.ndim() - 1] > 0, name, ": x needs a non-empty last axis, got shape ",
           x.shape());
  TA_CHECK(eps >= 0.0f && std::isfinite(eps), name, ": eps must be finite and >= 0, got ", eps);
  const int64_t dim = x.shape()[x.ndim() - 1], rows = x.numel() / dim;
  for (const Tensor* p : {&gamma, &beta})
    if (p->defined()) {
      common_device({&x, p}, name);
      TA_CHECK(p->shape() == Shape{dim}, name, ": gain and bias must have shape [", dim, "] (the last axis of x ",
               x.shape(), "), got ", p->shape());
    }
  NormResult r{Tensor::empty(x.shape(), x.device()), Tensor::empty(Shape{rows}, x.device()),
               Tensor::empty(Shape{rows}, x.device())};
  backend_of(x).layer_norm(x.data(), gamma.defined() ? gamma.data() : nullptr, beta.defined() ? beta.data() : nullptr,
                           r.y.data(), r.mean.data(), r.rstd.data(), rows, dim, eps, subtract_mean);
  return r;
}

std::vector<Tensor> layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                        const Tensor& rstd, const Tensor& dy, bool subtract_mean) {
  const int64_t dim = x.shape()[x.ndim() - 1], rows = x.numel() / dim;
  Tensor dx = Tensor::empty(x.shape(), x.device());
  Tensor dgamma = gamma.defined() ? Tensor::empty(gamma.shape(), x.device()) : Tensor();
  Tensor dbeta = beta.defined() ? Tensor::empty(beta.shape(), x.device()) : Tensor();
  backend_of(x).layer_norm_backward(x.data(), gamma.defined() ? gamma.data() : nullptr, mean.data(), rstd.data(),
                                    dy.data(), dx.data(), dgamma.defined() ? dgamma.data() : nullptr,
                                    dbeta.defined() ? dbeta.data() : nullptr, rows, dim, subtract_mean);
  return {dx, dgamma, dbeta};
}

static void check_same_shape(const Tensor& a, const Tensor& b, const char* op, const char* what) {
  check_defined(b, op, what);
  common_device({&a, &b}, op);
  TA_CHECK(a.shape() == b.shape(), op, ": ", what, " has shape ", b.shape(), ", the parameter ", a.shape());
}

void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, float lr, float momentum, float weight_decay,
                bool nesterov, bool first_step) {
  check_defined(p, "sgd_update", "p");
  check_same_shape(p, g, "sgd_update", "gradient");
  if (momentum != 0.0f) check_same_shape(p, buf, "sgd_update", "momentum buffer");
  backend_of(p).sgd_update(p.data(), g.data(), momentum != 0.0f ? buf.data() : nullptr, p.numel(), lr, momentum,
                           weight_decay, nesterov, first_step);
}

void adam_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, float lr, float beta1,
                 float beta2, float eps, float weight_decay, bool decoupled, int64_t step) {
  check_defined(p, "adam_update", "p");
  check_same_shape(p, g, "adam_update", "gradient");
  check_same_shape(p, m, "adam_update", "first moment");
  check_same_shape(p, v, "adam_update", "second moment");
  TA_CHECK(step >= 1, "adam_update: step counts from 1, got ", step);
  const float c1 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(step)));
  const float c2 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(step)));
  backend_of(p).adam_update(p.data(), g.data(), m.data(), v.data(), p.numel(), lr, beta1, beta2, eps, weight_decay,
                            decoupled, c1, c2);
}

double sum_of_squares(const Tensor& x) {
  check_defined(x, "sum_of_squares", "x");
  return backend_of(x).sum_of_squares(x.data(), x.numel());
}

std::pair<Tensor, Tensor> cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  const int64_t rows = logits.shape().outer(logits.ndim() - 1), classes = logits.shape()[logits.ndim() - 1];
  std::vector<float> t = targets.to_vector();
  for (size_t r = 0; r < t.size(); ++r) {
    bool ok = std::isfinite(t[r]) && t[r] == std::floor(t[r]) &&
              (static_cast<int64_t>(t[r]) == ignore_index || (t[r] >= 0 && t[r] < static_cast<float>(classes)));
    TA_CHECK(ok, "cross_entropy: target ", t[r], " at row ", r, " is not a class id in [0, ", classes,
             ") nor the ignore index ", ignore_index);
  }
  Tensor loss = Tensor::empty(Shape{rows}, logits.device());
  Tensor lse = Tensor::empty(Shape{rows}, logits.device());
  backend_of(logits).cross_entropy(logits.data(), targets.data(), loss.data(), lse.data(), rows, classes,
                                   ignore_index);
  return {loss, lse};
}

Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, const Tensor& scale,
                              int64_t ignore_index) {
  const int64_t rows = lse.numel(), classes = logits.shape()[logits.ndim() - 1];
  Tensor dlogits = Tensor::empty(logits.shape(), logits.device());
  backend_of(logits).cross_entropy_backward(logits.data(), targets.data(), lse.data(), scale.data(), dlogits.data(),
                                            rows, classes, ignore_index);
  return dlogits;
}


// ---- block-sparse attention ---------------------------------------------------

namespace {

// The layout's lists are the kernel's addresses: check every index once here, so
// a malformed layout is an error naming what is wrong, never a wild read.
void check_block_layout(const BlockSparseLayout& layout, int64_t n_q, int64_t n_k) {
  const char* op = "block_sparse_attention";
  const int64_t b = layout.block;
  TA_CHECK(b >= 1 && b <= 64, op, ": block size must be in 1..64 (a mask row is one 64-bit word), got ", b);
  TA_CHECK(layout.n_q == n_q && layout.n_k == n_k, op, ": the layout was built for ", layout.n_q, " queries and ",
           layout.n_k, " keys, the inputs have ", n_q, " and ", n_k, "; build one for these lengths");
  TA_CHECK(!layout.patterns.empty(), op, ": the layout has no pattern");
  std::vector<int64_t> seen(n_q, -1);
  int64_t stamp = 0;
  for (const BlockSparseLayout::Pattern& pattern : layout.patterns)
    for (const BlockSparseLayout::Part& part : pattern.parts) {
      ++stamp;
      const int64_t nq = static_cast<int64_t>(part.queries.size()), nk = static_cast<int64_t>(part.keys.size());
      for (int32_t i : part.queries) {
        TA_CHECK(i >= 0 && i < n_q, op, ": layout part lists query row ", i, ", outside 0..", n_q - 1);
        TA_CHECK(seen[i] != stamp, op, ": layout part lists query row ", i, " twice");
        seen[i] = stamp;
      }
      for (int32_t j : part.keys)
        TA_CHECK(j >= 0 && j < n_k, op, ": layout part lists key ", j, ", outside 0..", n_k - 1);
      const int64_t q_blocks = (nq + b - 1) / b, k_blocks = (nk + b - 1) / b;
      const int64_t active = static_cast<int64_t>(part.col.size());
      const int64_t n_masks = static_cast<int64_t>(part.masks.size()) / b;
      TA_CHECK(static_cast<int64_t>(part.row_begin.size()) == q_blocks + 1 && part.row_begin.front() == 0 &&
                   part.row_begin.back() == active && static_cast<int64_t>(part.mask.size()) == active,
               op, ": layout part has ", part.row_begin.size(), " row starts, ", active, " blocks and ",
               part.mask.size(), " mask ids; expected ", q_blocks + 1,
               " row starts (0 first, the block count last) and one mask id per block");
      for (int64_t I = 0; I < q_blocks; ++I)
        TA_CHECK(part.row_begin[I] <= part.row_begin[I + 1], op, ": layout row starts must not decrease");
      for (int64_t a = 0; a < active; ++a) {
        TA_CHECK(part.col[a] >= 0 && part.col[a] < k_blocks, op, ": layout block column ", part.col[a], " outside 0..",
                 k_blocks - 1);
        TA_CHECK(part.mask[a] >= -1 && part.mask[a] < n_masks, op, ": layout mask id ", part.mask[a], " outside -1..",
                 n_masks - 1);
      }
    }
}

}  // namespace

std::pair<Tensor, Tensor> block_sparse_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                                 const BlockSparseLayout& layout, float scale, const Tensor& key_pad) {
  const char* op = "block_sparse_attention";
  check_defined(q, op, "q");
  check_defined(k, op, "k");
  check_defined(v, op, "v");
  Device dev = common_device({&q, &k, &v}, op);
  TA_CHECK(q.ndim() == 4 && k.ndim() == 4 && v.ndim() == 4, op, ": q, k, v must be [batch, heads, n, d_head], got ",
           q.shape(), ", ", k.shape(), ", ", v.shape());
  const Shape &qs = q.shape(), &ks = k.shape();
  TA_CHECK(ks == v.shape() && qs[0] == ks[0] && qs[1] == ks[1] && qs[3] == ks[3], op, ": shapes q ", qs, ", k ", ks,
           ", v ", v.shape(), " do not agree (k and v equal; batch, heads and d_head as in q)");
  if (key_pad.defined()) {
    common_device({&q, &key_pad}, op);
    TA_CHECK(key_pad.shape() == Shape({ks[0], ks[2]}), op, ": key_padding_mask must be [", ks[0], ", ", ks[2],
             "], got ", key_pad.shape());
  }
  check_block_layout(layout, qs[2], ks[2]);
  Tensor o = Tensor::empty(qs, dev), lse = Tensor::empty(Shape{qs[0], qs[1], qs[2]}, dev);
  backend(dev).block_sparse_attention_forward(q.data(), k.data(), v.data(), o.data(), lse.data(), qs[0] * qs[1],
                                              qs[1], qs[2], ks[2], qs[3], scale, layout,
                                              key_pad.defined() ? key_pad.data() : nullptr);
  return {o, lse};
}

std::vector<Tensor> block_sparse_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                                                    const Tensor& lse, const Tensor& d_o,
                                                    const BlockSparseLayout& layout, float scale,
                                                    const Tensor& key_pad) {
  const Shape &qs = q.shape(), &ks = k.shape();
  TA_CHECK(d_o.shape() == qs, "block_sparse_attention backward: the output gradient has shape ", d_o.shape(),
           ", the output ", qs);
  Tensor dq = Tensor::empty(qs, q.device()), dk = Tensor::empty(ks, q.device()), dv = Tensor::empty(ks, q.device());
  backend_of(q).block_sparse_attention_backward(q.data(), k.data(), v.data(), o.data(), lse.data(), d_o.data(),
                                                dq.data(), dk.data(), dv.data(), qs[0] * qs[1], qs[1], qs[2], ks[2],
                                                qs[3], scale, layout, key_pad.defined() ? key_pad.data() : nullptr);
  return {dq, dk, dv};
}

FavorResult favor_causal(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& w, float scale,
                         FavorKernel kernel, const Tensor& key_pad) {
  const char* op = "favor_causal_attention";
  check_defined(q, op, "q");
  check_defined(k, op, "k");
  check_defined(v, op, "v");
  check_defined(w, op, "features");
  Device dev = common_device({&q, &k, &v, &w}, op);
  TA_CHECK(q.ndim() == 4 && k.ndim() == 4 && v.ndim() == 4, op, ": q, k, v must be [batch, heads, n, d_head], got ",
           q.shape(), ", ", k.shape(), ", ", v.shape());
  const Shape &qs = q.shape(), &ks = k.shape();
  TA_CHECK(ks == v.shape() && qs[0] == ks[0] && qs[1] == ks[1] && qs[3] == ks[3], op, ": shapes q ", qs, ", k ", ks,
           ", v ", v.shape(), " do not agree (k and v equal; batch, heads and d_head as in q)");
  TA_CHECK(ks[2] >= qs[2], op, ": causal FAVOR+ needs at least as many keys as queries (the queries are the last ",
           "positions), got ", qs[2], " queries and ", ks[2], " keys");
  TA_CHECK(w.ndim() == 2 && w.size(1) == qs[3] && w.size(0) > 0, op, ": features must be [m, ", qs[3],
           "] (d_head columns), got ", w.shape());
  TA_CHECK(scale > 0.0f && std::isfinite(scale), op, ": scale must be positive and finite, got ", scale);
  if (key_pad.defined()) {
    common_device({&q, &key_pad}, op);
    TA_CHECK(key_pad.shape() == Shape({ks[0], ks[2]}), op, ": key_padding_mask must be [", ks[0], ", ", ks[2],
             "], got ", key_pad.shape());
  }
  FavorResult r{Tensor::empty(qs, dev), Tensor::empty(Shape{qs[0], qs[1], qs[2]}, dev),
                Tensor::empty(Shape{ks[0], ks[1], ks[2]}, dev)};
  backend(dev).favor_causal_forward(q.data(), k.data(), v.data(), w.data(), r.o.data(), r.den.data(), r.kmax.data(),
                                    qs[0] * qs[1], qs[1], qs[2], ks[2], qs[3], w.size(0), scale, kernel,
                                    key_pad.defined() ? key_pad.data() : nullptr);
  return r;
}

std::vector<Tensor> favor_causal_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& w,
                                          const FavorResult& saved, const Tensor& d_o, float scale,
                                          FavorKernel kernel, const Tensor& key_pad) {
  const Shape &qs = q.shape(), &ks = k.shape();
  TA_CHECK(d_o.shape() == qs, "favor_causal_attention backward: the output gradient has shape ", d_o.shape(),
           ", the output ", qs);
  Tensor dq = Tensor::empty(qs, q.device()), dk = Tensor::empty(ks, q.device()), dv = Tensor::empty(ks, q.device());
  backend_of(q).favor_causal_backward(q.data(), k.data(), v.data(), w.data(), saved.o.data(), saved.den.data(),
                                      saved.kmax.data(), d_o.data(), dq.data(), dk.data(), dv.data(), qs[0] * qs[1],
                                      qs[1], qs[2], ks[2], qs[3], w.size(0), scale, kernel,
                                      key_pad.defined() ? key_pad.data() : nullptr);
  return {dq, dk, dv};
}

}  // namespace ta::kernels
