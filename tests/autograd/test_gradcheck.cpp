// tests/autograd/test_gradcheck.cpp — every differentiable op against central finite
// differences (autograd/gradcheck.h), and the coverage test that keeps it that way.
//
// All cases live in one table, grad_cases(), built from the families of
// grad_cases_ops.cpp and grad_cases_attention.cpp (grad_cases.h says what a case is).
// Inputs are drawn when a case runs, from a Generator seeded by the case's
// position in the table; a failure prints that seed, and gradcheck's own
// projection uses it too, so the failure reproduces exactly.
//
// The coverage test fails when an op registers an OpInfo (autograd/node.h) without a
// case in the table, or when a case's function never records the op it is named after.
//
// Not here: forward values (test_ops_*.cpp), error messages (test_errors.cpp),
// the engine's bookkeeping (test_engine.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/tensor.h"
#include "tests/autograd/grad_cases.h"

namespace {

using ta::Shape;
using ta::Tensor;
using namespace ta::grad_table;

constexpr uint64_t kBaseSeed = 20240;
uint64_t case_seed(size_t index) { return kBaseSeed + index; }

Inputs make_inputs(const GradCase& c, uint64_t seed) {
  ta::Generator gen(seed);
  Inputs xs;
  for (const In& in : c.inputs) xs.push_back(make_input(in, gen));
  return xs;
}

std::vector<GradCase> build_cases() {
  std::vector<GradCase> t;
  add_binary_cases(t);
  add_scalar_cases(t);
  add_unary_cases(t);
  add_select_cases(t);
  add_reduction_cases(t);
  add_matmul_cases(t);
  add_shape_cases(t);
  add_index_cases(t);
  add_norm_cases(t);
  add_checkpoint_cases(t);
  add_attention_cases(t);
  add_sparse_cases(t);
  add_flash_cases(t);
  add_performer_cases(t);
  add_loss_cases(t);
  return t;
}

// Built on first use, inside a test, so that a throwing constructor fails a test
// rather than the whole program.
const std::vector<GradCase>& grad_cases() {
  static const std::vector<GradCase> cases = build_cases();
  return cases;
}

// ---- helpers of the tests ----------------------------------------------------------

std::string describe(const GradCase& c, size_t index) {
  return c.op + " [" + c.label + "] (case " + std::to_string(index) + ", seed " + std::to_string(case_seed(index)) +
         ")";
}

ta::GradcheckResult run_gradcheck(const GradCase& c, uint64_t seed) {
  try {
    ta::GradcheckOptions options = c.options;
    options.seed = seed;
    return ta::gradcheck(c.f, make_inputs(c, seed), options);
  } catch (const std::exception& e) {
    return {false, std::string("threw: ") + e.what()};
  }
}

// Whether the graph behind `out` holds a node named `name`; an explicit-stack walk.
bool graph_contains(const Tensor& out, const std::string& name) {
  std::vector<ta::Node*> stack;
  std::unordered_set<ta::Node*> seen;
  if (out.grad_fn()) stack.push_back(out.grad_fn().get());
  while (!stack.empty()) {
    ta::Node* node = stack.back();
    stack.pop_back();
    if (!seen.insert(node).second) continue;
    if (node->name != nullptr && std::string(node->name) == name) return true;
    for (const auto& next : node->next) {
      if (next) stack.push_back(next.get());
    }
  }
  return false;
}

std::set<std::string> registered_names() {
  std::set<std::string> names;
  for (const ta::OpInfo* info : ta::registered_ops()) names.insert(info->name);
  return names;
}

}  // namespace

TEST_CASE("gradcheck: every case of the table matches central differences") {
  const std::vector<GradCase>& cases = grad_cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    const GradCase& c = cases[i];
    ta::GradcheckResult r = run_gradcheck(c, case_seed(i));
    CHECK_MESSAGE(r.ok, describe(c, i), ": ", r.message);
  }
}

TEST_CASE("gradcheck coverage: every registered op has a case, and the case records it") {
  const std::vector<GradCase>& cases = grad_cases();
  const std::set<std::string> registered = registered_names();
  REQUIRE_FALSE(registered.empty());
  CHECK_MESSAGE(registered.size() == ta::registered_ops().size(), "two OpInfos share a name");

  for (const std::string& name : registered) {
    bool covered = std::any_of(cases.begin(), cases.end(), [&](const GradCase& c) { return c.op == name; });
    CHECK_MESSAGE(covered, "op '", name,
                  "' registers an OpInfo but has no case in the gradcheck table: add one to "
                  "tests/autograd/grad_cases_ops.cpp or grad_cases_attention.cpp");
  }

  for (size_t i = 0; i < cases.size(); ++i) {
    const GradCase& c = cases[i];
    INFO(describe(c, i));
    CHECK_MESSAGE(registered.count(c.op) == 1, "the case names an op that no OpInfo registers");
    try {
      Tensor out = c.f(make_inputs(c, case_seed(i)));
      CHECK_MESSAGE(graph_contains(out, c.op), "the graph of the case's output has no '", c.op, "' node");
    } catch (const std::exception& e) {
      FAIL_CHECK("the case threw: ", std::string(e.what()));
    }
  }
}

TEST_CASE("gradcheck table: every gradient has its input's shape") {
  // gradcheck compares values element by element, so a gradient of the right size
  // but the wrong shape ([4,3] for a [3,4] input) would slip through it.
  const std::vector<GradCase>& cases = grad_cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    const GradCase& c = cases[i];
    INFO(describe(c, i));
    try {
      Inputs xs = make_inputs(c, case_seed(i));
      ta::backward(ta::sum(c.f(xs)));
      for (size_t k = 0; k < xs.size(); ++k) {
        if (!xs[k].requires_grad() || !xs[k].grad().defined()) continue;
        CHECK_MESSAGE(xs[k].grad().shape() == xs[k].shape(), "input ", k);
      }
    } catch (const std::exception& e) {
      FAIL_CHECK("the case threw: ", std::string(e.what()));
    }
  }
}

TEST_CASE("gradcheck itself: a wrong gradient fails, and the graph walk finds nodes") {
  // f(x) = x * detach(x) has derivative 2x, but backward only sees x: gradcheck must
  // say so, or every pass above means nothing.
  auto wrong = [](const Inputs& x) { return x[0] * x[0].detach(); };
  ta::Generator gen(3);
  Inputs xs = {make_input(positive({2, 3}), gen)};
  CHECK_FALSE(ta::gradcheck(wrong, xs).ok);
  CHECK(ta::gradcheck([](const Inputs& x) { return x[0] * x[0]; }, xs).ok);

  Tensor out = ta::exp(xs[0] * 2.0f);
  CHECK(graph_contains(out, "exp"));
  CHECK(graph_contains(out, "mul_scalar"));
  CHECK_FALSE(graph_contains(out, "log"));
}
