// tests/autograd/grad_cases_ops.cpp — the gradient-check cases of the framework's
// general ops (grad_cases.h): element-wise, selection, reductions, matrix products,
// shapes, indexing, norms, checkpointing and the loss. Each op gets plain shapes,
// broadcast shapes ([3,1] with [1,4], [2,3,4] with [4], scalars []), and edge shapes
// (size-1 dims, one element, non-square).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "autograd/checkpoint.h"
#include "autograd/ops.h"
#include "core/backend.h"  // EpilogueActivation
#include "tests/autograd/grad_cases.h"

namespace ta::grad_table {

Tensor make_input(const In& in, ta::Generator& gen) {
  const int64_t n = in.shape.numel();
  std::vector<float> v(n);
  switch (in.kind) {
    case Kind::Fixed:
      return Tensor::from_vector(in.values, in.shape);
    case Kind::Normal:
      return Tensor::normal(in.shape, in.a, in.b, gen).set_requires_grad();
    case Kind::Positive:
      for (float& x : v) x = 0.5f + 1.5f * gen.next_uniform();
      break;
    case Kind::AwayFromZero:
      for (float& x : v) x = (gen.next_uniform() < 0.5f ? -1.0f : 1.0f) * (0.3f + 1.2f * gen.next_uniform());
      break;
    case Kind::Distinct:
      for (int64_t i = 0; i < n; ++i) v[i] = in.a + 0.1f * static_cast<float>(i - n / 2);
      for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates
        int64_t j = std::min<int64_t>(i, static_cast<int64_t>(gen.next_uniform() * static_cast<float>(i + 1)));
        std::swap(v[i], v[j]);
      }
      break;
  }
  return Tensor::from_vector(v, in.shape).set_requires_grad();
}

void add_binary_cases(std::vector<GradCase>& t) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3}, {2, 3}},  {{3, 1}, {1, 4}}, {{2, 3, 4}, {4}}, {{}, {2, 3}},
      {{2, 1, 3}, {}},   {{1}, {1}},       {{1, 1}, {5, 1}}, {{4, 1, 2}, {3, 1}},
  };
  struct Op {
    const char* name;
    Binary f;
  };
  for (Op op : {Op{"add", ta::add}, Op{"sub", ta::sub}, Op{"mul", ta::mul}, Op{"div", ta::div},
                Op{"maximum", ta::maximum}, Op{"minimum", ta::minimum}}) {
    const std::string name = op.name;
    for (const auto& [sa, sb] : shapes) {
      std::vector<In> in = {normal(sa), normal(sb)};
      if (name == "div") in = {normal(sa), away_from_zero(sb)};
      if (name == "maximum" || name == "minimum") in = {distinct(sa, 0.0f), distinct(sb, 0.05f)};
      t.push_back({name, str(sa) + " with " + str(sb), binary(op.f), in});
    }
  }
}

void add_scalar_cases(std::vector<GradCase>& t) {
  t.push_back({"add_scalar", "x + 0.7", [](const Inputs& x) { return ta::add(x[0], 0.7f); }, {normal({2, 3})}});
  t.push_back({"add_scalar", "x - 2.5, scalar", [](const Inputs& x) { return x[0] - 2.5f; }, {normal({})}});
  t.push_back({"add_scalar", "3 - x", [](const Inputs& x) { return 3.0f - x[0]; }, {normal({4, 1})}});
  t.push_back({"mul_scalar", "x * -1.5", [](const Inputs& x) { return ta::mul(x[0], -1.5f); }, {normal({2, 3})}});
  t.push_back({"mul_scalar", "x / 4, scalar", [](const Inputs& x) { return x[0] / 4.0f; }, {normal({})}});
  t.push_back({"mul_scalar", "0 * x", [](const Inputs& x) { return 0.0f * x[0]; }, {normal({1, 3})}});
  for (float e : {2.0f, 3.0f, 0.5f, -1.5f, 1.0f, 0.0f}) {
    auto f = [e](const Inputs& x) { return ta::pow(x[0], e); };
    t.push_back({"pow", "positive x ^ " + std::to_string(e), f, {positive({2, 3})}});
  }
  for (float e : {2.0f, 3.0f}) {  // whole exponents are defined for negative bases too
    auto f = [e](const Inputs& x) { return ta::pow(x[0], e); };
    t.push_back({"pow", "signed x ^ " + std::to_string(e), f, {away_from_zero({3, 2})}});
  }
}

void add_unary_cases(std::vector<GradCase>& t) {
  auto gelu_erf = [](const Inputs& x) { return ta::gelu(x[0], ta::GeluApprox::Erf); };
  auto gelu_tanh = [](const Inputs& x) { return ta::gelu(x[0], ta::GeluApprox::Tanh); };
  struct Op {
    const char* name;
    const char* variant;
    Fn f;
    In (*spec)(Shape);
  };
  In (*plain)(Shape) = [](Shape s) { return normal(s); };
  const std::vector<Op> ops = {
      {"neg", "", unary(ta::neg), plain},
      {"exp", "", unary(ta::exp), plain},
      {"log", "", unary(ta::log), positive},
      {"sqrt", "", unary(ta::sqrt), positive},
      {"rsqrt", "", unary(ta::rsqrt), positive},
      {"abs", "", unary(ta::abs), away_from_zero},
      {"tanh", "", unary(ta::tanh), plain},
      {"sigmoid", "", unary(ta::sigmoid), plain},
      {"relu", "", unary(ta::relu), away_from_zero},
      {"relu_squared", "", unary(ta::relu_squared), away_from_zero},
      {"gelu", "erf ", gelu_erf, plain},
      {"gelu", "tanh ", gelu_tanh, plain},
      {"silu", "", unary(ta::silu), plain},
      {"softplus", "", unary(ta::softplus), plain},
      {"elu", "", [](const Inputs& x) { return ta::elu(x[0]); }, plain},
      {"elu", "alpha 0.5 (a kink at 0) ", [](const Inputs& x) { return ta::elu(x[0], 0.5f); }, away_from_zero},
  };
  for (const Op& op : ops) {
    for (Shape s : {Shape{2, 3}, Shape{}, Shape{4, 1, 3}}) {
      t.push_back({op.name, std::string(op.variant) + str(s), op.f, {op.spec(s)}});
    }
  }
  // Large |x|: a naive exp(-x) or exp(x) overflows to inf here and poisons the gradient.
  for (const Op& op : ops) {
    const std::string name = op.name;
    if (name == "sigmoid" || name == "softplus" || name == "tanh" || name == "silu") {
      t.push_back({op.name, "large |x| (std 12)", op.f, {normal({2, 4}, 0.0f, 12.0f)}});
    }
  }
}

void add_select_cases(std::vector<GradCase>& t) {
  auto where = [](const Inputs& x) { return ta::where(x[0], x[1], x[2]); };
  t.push_back({"where", "all [3,4]", where,
               {fixed({3, 4}, {1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0}), normal({3, 4}), normal({3, 4})}});
  t.push_back({"where", "mask [3,1], a [1,4], b []", where,
               {fixed({3, 1}, {1, 0, 1}), normal({1, 4}), normal({})}});
  t.push_back({"where", "mask [], a [2,2], b [2,2]", where, {fixed({}, {1}), normal({2, 2}), normal({2, 2})}});

  auto masked_fill = [](const Inputs& x) { return ta::masked_fill(x[0], x[1], -5.0f); };
  t.push_back({"masked_fill", "x [3,4], mask [1,4]", masked_fill, {normal({3, 4}), fixed({1, 4}, {1, 0, 0, 1})}});
  t.push_back({"masked_fill", "x [2,3], mask [2,3]", masked_fill,
               {normal({2, 3}), fixed({2, 3}, {0, 0, 1, 1, 0, 0})}});
  t.push_back({"masked_fill", "x [2,2], mask all zero", masked_fill, {normal({2, 2}), fixed({2, 2}, {0, 0, 0, 0})}});
}

void add_reduction_cases(std::vector<GradCase>& t) {
  struct Axes {
    Shape shape;
    std::vector<int> axes;
    KeepDims keep;
  };
  const std::vector<Axes> variants = {
      {{2, 3, 4}, {}, KeepDims::No},     {{2, 3, 4}, {0}, KeepDims::No},  {{2, 3, 4}, {-1}, KeepDims::Yes},
      {{2, 3, 4}, {0, 2}, KeepDims::No}, {{2, 3, 4}, {1}, KeepDims::Yes}, {{}, {}, KeepDims::No},
      {{1, 1}, {1}, KeepDims::No},       {{3, 1}, {0}, KeepDims::Yes},
  };
  struct Op {
    const char* name;
    Reduction f;
  };
  for (Op op : {Op{"sum", ta::sum}, Op{"mean", ta::mean}, Op{"max", ta::max}, Op{"logsumexp", ta::logsumexp}}) {
    for (const Axes& v : variants) {
      In in = std::string(op.name) == "max" ? distinct(v.shape) : normal(v.shape);
      std::string label = str(v.shape) + " axes " + str(v.axes) + (v.keep == KeepDims::Yes ? " keepdim" : "");
      t.push_back({op.name, label, reduction(op.f, v.axes, v.keep), {in}});
    }
  }
  // logsumexp(x) with x around 100: exp(100) overflows float32 unless the max is subtracted.
  t.push_back({"logsumexp",
               "[3,5] around 100, axes {-1}",
               reduction(ta::logsumexp, {-1}, KeepDims::No),
               {normal({3, 5}, 100.0f)}});

  struct AxisCase {
    Shape shape;
    int axis;
  };
  const std::vector<AxisCase> axis_variants = {{{2, 5}, -1}, {{3, 4}, 0}, {{2, 3, 4}, 1}, {{3, 1}, -1}, {{1}, 0}};
  struct AxisOp {
    const char* name;
    AlongAxis f;
  };
  for (AxisOp op : {AxisOp{"softmax", ta::softmax}, AxisOp{"log_softmax", ta::log_softmax},
                    AxisOp{"cumsum", ta::cumsum}}) {
    for (const AxisCase& v : axis_variants) {
      t.push_back({op.name, str(v.shape) + " axis " + std::to_string(v.axis), along_axis(op.f, v.axis),
                   {normal(v.shape)}});
    }
  }
  // The same stability check as for logsumexp.
  for (AxisOp op : {AxisOp{"softmax", ta::softmax}, AxisOp{"log_softmax", ta::log_softmax}}) {
    t.push_back({op.name, "[2,5] around 100", along_axis(op.f, -1), {normal({2, 5}, 100.0f)}});
  }
}

void add_matmul_cases(std::vector<GradCase>& t) {
  // With Transposed::A, a is stored as [..., K, M]; with Transposed::B, b as [..., N, K].
  auto stored = [](Shape s, bool transposed) {
    if (transposed) std::swap(s[s.ndim() - 1], s[s.ndim() - 2]);
    return s;
  };
  struct Dims {
    Shape a, b;  // untransposed: a [..., M, K], b [..., K, N]
  };
  const std::vector<Dims> dims = {
      {{3, 4}, {4, 5}},           // non-square
      {{2, 1, 3, 4}, {3, 4, 2}},  // batch dims broadcast: [2,1] with [3]
      {{2, 3, 2}, {2, 2}},        // batched with unbatched
      {{1, 1}, {1, 1}},           // one element
      {{1, 4}, {4, 1}},           // row times column
      {{3, 1}, {1, 2}},           // K = 1: outer product
  };
  for (const Dims& d : dims) {
    for (Transposed tr : {Transposed::None, Transposed::A, Transposed::B, Transposed::Both}) {
      const bool ta_ = tr == Transposed::A || tr == Transposed::Both,
                 tb = tr == Transposed::B || tr == Transposed::Both;
      auto f = [tr](const Inputs& x) { return ta::matmul(x[0], x[1], tr); };
      Shape sa = stored(d.a, ta_), sb = stored(d.b, tb);
      std::string label = str(sa) + (ta_ ? "^T" : "") + " @ " + str(sb) + (tb ? "^T" : "");
      t.push_back({"matmul", label, f, {normal(sa), normal(sb)}});
    }
  }
  // linear: x [..., in] with weight [out, in] and bias [out], or without a bias.
  auto with_bias = [](const Inputs& x) { return ta::linear(x[0], x[1], x[2]); };
  auto no_bias = [](const Inputs& x) { return ta::linear(x[0], x[1]); };
  t.push_back({"linear", "[2,3,4] W [5,4] b [5]", with_bias, {normal({2, 3, 4}), normal({5, 4}), normal({5})}});
  t.push_back({"linear", "[4] W [3,4] b [3] (one vector)", with_bias, {normal({4}), normal({3, 4}), normal({3})}});
  t.push_back({"linear", "[3,4] W [1,4] b [1]", with_bias, {normal({3, 4}), normal({1, 4}), normal({1})}});
  t.push_back({"linear", "[2,3] W [4,3], no bias", no_bias, {normal({2, 3}), normal({4, 3})}});

  // linear with each activation fused into the product, with and without a bias, on 2-D
  // and 3-D x. ReLU's inputs keep every pre-activation at least 0.09 from its kink under
  // the finite-difference steps: with a bias, small x W^T (std about 0.02) next to a bias
  // of at least 0.3 in size; without one, one input feature, x and W both |.| >= 0.3.
  using ta::EpilogueActivation;
  const std::pair<EpilogueActivation, const char*> activations[] = {
      {EpilogueActivation::None, "none"},          {EpilogueActivation::Relu, "relu"},
      {EpilogueActivation::GeluErf, "gelu erf"},   {EpilogueActivation::GeluTanh, "gelu tanh"},
      {EpilogueActivation::Silu, "silu"}};
  for (const auto& [act, act_name] : activations)
    for (bool has_bias : {true, false})
      for (Shape lead : {Shape{3}, Shape{2, 3}}) {
        const bool relu = act == EpilogueActivation::Relu;
        const int64_t in = relu && !has_bias ? 1 : 4;
        std::vector<int64_t> x_dims = lead.vec();
        x_dims.push_back(in);
        const Shape xs(x_dims), ws{5, in};
        std::vector<In> inputs;
        if (relu && has_bias) inputs = {normal(xs, 0.0f, 0.1f), normal(ws, 0.0f, 0.1f), away_from_zero({5})};
        else if (relu) inputs = {away_from_zero(xs), away_from_zero(ws)};
        else inputs = {normal(xs), normal(ws, 0.0f, 0.5f)};
        if (has_bias && !relu) inputs.push_back(normal({5}));
        auto f = [act = act, has_bias](const Inputs& x) { return ta::linear(x[0], x[1], has_bias ? x[2] : Tensor(), act); };
        t.push_back({"linear", std::string(act_name) + " fused, " + str(xs) + " W " + str(ws) +
                                   (has_bias ? " b [5]" : ", no bias"),
                     f, inputs});
      }
}

void add_shape_cases(std::vector<GradCase>& t) {
  // The target shape is built when the case runs: a Shape holding -1 may throw.
  auto reshape = [](std::vector<int64_t> to) {
    return [to](const Inputs& x) { return ta::reshape(x[0], to); };
  };
  t.push_back({"reshape", "[2,3,4] -> [4,6]", reshape({4, 6}), {normal({2, 3, 4})}});
  t.push_back({"reshape", "[6] -> [2,-1]", reshape({2, -1}), {normal({6})}});
  t.push_back({"reshape", "[] -> [1,1]", reshape({1, 1}), {normal({})}});
  t.push_back({"reshape", "[1,4] -> [4]", reshape({4}), {normal({1, 4})}});
  t.push_back({"reshape", "unsqueeze [3,2] axis 1", [](const Inputs& x) { return ta::unsqueeze(x[0], 1); },
               {normal({3, 2})}});
  t.push_back({"reshape", "squeeze [3,1,2] axis 1", [](const Inputs& x) { return ta::squeeze(x[0], 1); },
               {normal({3, 1, 2})}});

  auto permute = [](std::vector<int> order) { return [order](const Inputs& x) { return ta::permute(x[0], order); }; };
  t.push_back({"permute", "[2,3,4] {2,0,1}", permute({2, 0, 1}), {normal({2, 3, 4})}});
  t.push_back({"permute", "[3,4] {1,0}", permute({1, 0}), {normal({3, 4})}});
  t.push_back({"permute", "[1,3,1] {2,1,0}", permute({2, 1, 0}), {normal({1, 3, 1})}});
  t.push_back({"permute", "transpose [2,3,4] axes 0, 2", [](const Inputs& x) { return ta::transpose(x[0], 0, 2); },
               {normal({2, 3, 4})}});

  auto broadcast_to = [](Shape to) { return [to](const Inputs& x) { return ta::broadcast_to(x[0], to); }; };
  t.push_back({"broadcast_to", "[3,1] -> [2,3,4]", broadcast_to({2, 3, 4}), {normal({3, 1})}});
  t.push_back({"broadcast_to", "[] -> [2,2]", broadcast_to({2, 2}), {normal({})}});
  t.push_back({"broadcast_to", "[4] -> [3,4]", broadcast_to({3, 4}), {normal({4})}});
  t.push_back({"broadcast_to", "[1,1] -> [1,1]", broadcast_to({1, 1}), {normal({1, 1})}});

  auto narrow = [](int axis, int64_t start, int64_t len) {
    return [=](const Inputs& x) { return ta::narrow(x[0], axis, start, len); };
  };
  t.push_back({"narrow", "[5,3] axis 0 [1,4)", narrow(0, 1, 3), {normal({5, 3})}});
  t.push_back({"narrow", "[3,5] axis 1 [1,4)", narrow(1, 1, 3), {normal({3, 5})}});
  t.push_back({"narrow", "[2,3,4] axis -1 [3,4)", narrow(-1, 3, 1), {normal({2, 3, 4})}});
  t.push_back({"narrow", "slice [2,6] axis 1 [-4,-1)", [](const Inputs& x) { return ta::slice(x[0], 1, -4, -1); },
               {normal({2, 6})}});
  t.push_back({"narrow", "split [5,2] into 2+3, second part",
               [](const Inputs& x) { return ta::split(x[0], {2, 3}, 0)[1]; }, {normal({5, 2})}});

  auto concat = [](int axis) { return [axis](const Inputs& x) { return ta::concat(x, axis); }; };
  t.push_back({"concat", "[2,3] [1,3] [4,3] axis 0", concat(0), {normal({2, 3}), normal({1, 3}), normal({4, 3})}});
  t.push_back({"concat", "[2,1] [2,3] axis -1", concat(-1), {normal({2, 1}), normal({2, 3})}});
  t.push_back({"concat", "[2,3,1] [2,3,2] axis 2", concat(2), {normal({2, 3, 1}), normal({2, 3, 2})}});
  t.push_back({"concat", "one input [2,2]", concat(0), {normal({2, 2})}});
  t.push_back({"concat", "stack [2,3] [2,3] axis 1", [](const Inputs& x) { return ta::stack(x, 1); },
               {normal({2, 3}), normal({2, 3})}});
}

// Index tensors repeat entries, so the backward's scatter-add must accumulate.
void add_index_cases(std::vector<GradCase>& t) {
  auto index_select = [](int axis) { return [axis](const Inputs& x) { return ta::index_select(x[0], axis, x[1]); }; };
  t.push_back({"index_select", "[4,3] axis 0 {0,2,2,3,0}", index_select(0),
               {normal({4, 3}), fixed({5}, {0, 2, 2, 3, 0})}});
  t.push_back({"index_select", "[3,4] axis 1 {3,3,1}", index_select(1), {normal({3, 4}), fixed({3}, {3, 3, 1})}});
  t.push_back({"index_select", "[2,3,4] axis -2 {1}", index_select(-2), {normal({2, 3, 4}), fixed({1}, {1})}});

  auto gather = [](int axis) { return [axis](const Inputs& x) { return ta::gather(x[0], axis, x[1]); }; };
  t.push_back({"gather", "[3,4] axis 1, index [3,5]", gather(1),
               {normal({3, 4}), fixed({3, 5}, {0, 3, 3, 1, 0, 2, 2, 2, 1, 0, 3, 1, 3, 0, 3})}});
  t.push_back({"gather", "[3,4] axis 0, index [2,4]", gather(0),
               {normal({3, 4}), fixed({2, 4}, {2, 0, 1, 2, 2, 0, 0, 1})}});
  t.push_back({"gather", "[2,3,2] axis -1, index [2,3,3]", gather(-1),
               {normal({2, 3, 2}), fixed({2, 3, 3}, {0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0})}});

  auto embedding = [](const Inputs& x) { return ta::embedding(x[0], x[1]); };
  t.push_back({"embedding", "weight [5,3], ids [2,3]", embedding, {normal({5, 3}), fixed({2, 3}, {0, 4, 4, 1, 0, 0})}});
  t.push_back({"embedding", "weight [4,2], ids [4] all the same", embedding, {normal({4, 2}), fixed({4}, {2, 2, 2, 2})}});
  t.push_back({"embedding", "weight [1,4], ids []", embedding, {normal({1, 4}), fixed({}, {0})}});
}

void add_loss_cases(std::vector<GradCase>& t) {
  auto cross_entropy = [](int64_t ignore_index) {
    return [ignore_index](const Inputs& x) { return ta::cross_entropy(x[0], x[1], ignore_index); };
  };
  t.push_back({"cross_entropy", "[4,5], row 1 ignored", cross_entropy(-100),
               {normal({4, 5}), fixed({4}, {1, -100, 4, 1})}});
  t.push_back({"cross_entropy", "[2,3,5], targets [2,3]", cross_entropy(-100),
               {normal({2, 3, 5}), fixed({2, 3}, {0, 4, 2, 2, 3, 0})}});
  t.push_back({"cross_entropy", "[3,4] around 100", cross_entropy(-100),
               {normal({3, 4}, 100.0f, 3.0f), fixed({3}, {3, 0, 1})}});
  t.push_back({"cross_entropy", "[3,3], ignore_index 2", cross_entropy(2),
               {normal({3, 3}), fixed({3}, {2, 0, 2})}});
  t.push_back({"cross_entropy", "[2,3], every row ignored", cross_entropy(-100),
               {normal({2, 3}), fixed({2}, {-100, -100})}});
  t.push_back({"cross_entropy", "[1,1], one class", cross_entropy(-100), {normal({1, 1}), fixed({1}, {0})}});
}

void add_norm_cases(std::vector<GradCase>& t) {
  // layer_norm / rms_norm over the last axis; gamma and beta may be left undefined.
  auto layer_norm = [](const Inputs& x) { return ta::layer_norm(x[0], x[1], x[2]); };
  auto layer_norm_gamma = [](const Inputs& x) { return ta::layer_norm(x[0], x[1], Tensor()); };
  auto layer_norm_bare = [](const Inputs& x) { return ta::layer_norm(x[0], Tensor(), Tensor()); };
  t.push_back({"layer_norm", "x [3,5], gamma, beta", layer_norm, {normal({3, 5}), normal({5}), normal({5})}});
  t.push_back({"layer_norm", "x [2,3,4], gamma only", layer_norm_gamma, {normal({2, 3, 4}), normal({4})}});
  t.push_back({"layer_norm", "x [2,6], neither", layer_norm_bare, {normal({2, 6})}});
  t.push_back({"layer_norm", "x [4], one row", layer_norm, {normal({4}), normal({4}), normal({4})}});
  t.push_back({"layer_norm", "x [3,1]: a single feature", layer_norm, {normal({3, 1}), normal({1}), normal({1})}});

  auto rms_norm = [](const Inputs& x) { return ta::rms_norm(x[0], x[1]); };
  auto rms_norm_bare = [](const Inputs& x) { return ta::rms_norm(x[0], Tensor()); };
  t.push_back({"rms_norm", "x [3,5], gamma", rms_norm, {normal({3, 5}), normal({5})}});
  t.push_back({"rms_norm", "x [2,3,4], no gamma", rms_norm_bare, {normal({2, 3, 4})}});
  t.push_back({"rms_norm", "x [2,1], gamma", rms_norm, {away_from_zero({2, 1}), normal({1})}});
}

// checkpoint(f, x): the block's parameter w is captured by f, not passed as x, so its
// gradient arrives through the recomputation in backward.
void add_checkpoint_cases(std::vector<GradCase>& t) {
  auto block = [](const Inputs& xs) {
    Tensor w = xs[1];
    return ta::checkpoint([w](const Tensor& x) { return ta::tanh(ta::matmul(x, w)) * x; }, xs[0]);
  };
  t.push_back({"checkpoint", "x [2,3] and captured w [3,3]", block, {normal({2, 3}), normal({3, 3})}});
  t.push_back({"checkpoint", "x without gradient, captured w [3,3]", block,
               {fixed({2, 3}, {0.5f, -1, 2, 0, 1, -0.5f}), normal({3, 3})}});
}

}  // namespace ta::grad_table
