// tests/autograd/grad_cases.h — the table of gradient checks (test_gradcheck.cpp):
// what a case is (the OpInfo name the op records, a label saying which shapes or
// arguments it exercises, the function, and specs of its inputs), how its inputs are
// drawn, and the functions that add each family of cases to the table:
// grad_cases_ops.cpp for the framework's general ops, grad_cases_attention.cpp for
// the fused attention kernels with hand-written backwards.
//
// Inputs stay away from kinks, where finite differences and the analytic gradient may
// disagree legitimately (STYLE.md habit 9): relu/abs get |x| >= 0.3,
// maximum/minimum/max get values at least 0.05 apart, log/sqrt/rsqrt/pow get positive
// inputs, div a denominator away from 0.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "autograd/gradcheck.h"
#include "core/random.h"
#include "core/tensor.h"

namespace ta::grad_table {

using Inputs = std::vector<Tensor>;
using Fn = std::function<Tensor(const Inputs&)>;

// ---- input specs -------------------------------------------------------------------

enum class Kind {
  Normal,        // N(mean, std)
  Positive,      // uniform in [0.5, 2]: log, sqrt, rsqrt, pow
  AwayFromZero,  // random sign times uniform in [0.3, 1.5]: relu, abs, denominators
  Distinct,      // shuffled multiples of 0.1 plus an offset: max, maximum, minimum
  Fixed,         // given values, no gradient: indices, masks, targets
};

struct In {
  Kind kind;
  Shape shape;
  float a = 0.0f, b = 1.0f;   // Normal: mean and std; Distinct: a is the offset
  std::vector<float> values;  // Fixed
};

inline In normal(Shape s, float mean = 0.0f, float std = 1.0f) { return {Kind::Normal, s, mean, std, {}}; }
inline In positive(Shape s) { return {Kind::Positive, s, 0.0f, 1.0f, {}}; }
inline In away_from_zero(Shape s) { return {Kind::AwayFromZero, s, 0.0f, 1.0f, {}}; }
// Entries are pairwise at least 0.1 apart; two inputs with offsets 0 and 0.05 are
// also at least 0.05 apart from each other, whatever the broadcast pairs them with.
inline In distinct(Shape s, float offset = 0.0f) { return {Kind::Distinct, s, offset, 1.0f, {}}; }
inline In fixed(Shape s, std::vector<float> values) { return {Kind::Fixed, s, 0.0f, 1.0f, std::move(values)}; }

// A tensor drawn as `in` says, from gen; it requires grad unless the spec is Fixed.
Tensor make_input(const In& in, ta::Generator& gen);

// ---- the table ---------------------------------------------------------------------

struct GradCase {
  std::string op;     // the OpInfo name the op records
  std::string label;  // what this case exercises
  Fn f;
  std::vector<In> inputs;
  // gradcheck's defaults are tuned for float32 and suit every case so far; a case
  // that needs other ones sets them here and says why.
  ta::GradcheckOptions options = {};
};

using Unary = Tensor (*)(const Tensor&);
using Binary = Tensor (*)(const Tensor&, const Tensor&);
using Reduction = Tensor (*)(const Tensor&, std::vector<int>, KeepDims);
using AlongAxis = Tensor (*)(const Tensor&, int);

inline Fn unary(Unary op) {
  return [op](const Inputs& x) { return op(x[0]); };
}
inline Fn binary(Binary op) {
  return [op](const Inputs& x) { return op(x[0], x[1]); };
}
inline Fn reduction(Reduction op, std::vector<int> axes, KeepDims keep) {
  return [=](const Inputs& x) { return op(x[0], axes, keep); };
}
inline Fn along_axis(AlongAxis op, int axis) {
  return [=](const Inputs& x) { return op(x[0], axis); };
}

inline std::string str(const Shape& s) { return s.str(); }
inline std::string str(const std::vector<int>& v) {
  std::ostringstream out;
  out << '{';
  for (size_t i = 0; i < v.size(); ++i) out << (i ? "," : "") << v[i];
  out << '}';
  return out.str();
}

// The families of cases, each appending to the table in a fixed order (a case's seed
// is its position in the table). In grad_cases_ops.cpp:
void add_binary_cases(std::vector<GradCase>& t);
void add_scalar_cases(std::vector<GradCase>& t);
void add_unary_cases(std::vector<GradCase>& t);
void add_select_cases(std::vector<GradCase>& t);
void add_reduction_cases(std::vector<GradCase>& t);
void add_matmul_cases(std::vector<GradCase>& t);
void add_shape_cases(std::vector<GradCase>& t);
void add_index_cases(std::vector<GradCase>& t);
void add_norm_cases(std::vector<GradCase>& t);
void add_checkpoint_cases(std::vector<GradCase>& t);
void add_loss_cases(std::vector<GradCase>& t);
// In grad_cases_attention.cpp:
void add_attention_cases(std::vector<GradCase>& t);
void add_sparse_cases(std::vector<GradCase>& t);
void add_flash_cases(std::vector<GradCase>& t);
void add_performer_cases(std::vector<GradCase>& t);

}  // namespace ta::grad_table
