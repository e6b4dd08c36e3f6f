// tests/autograd/test_engine.cpp — the backward pass itself (autograd/engine.h,
// autograd/node.h): gradients of reused nodes, broadcasting undone, accumulation
// across calls, slices summed into one gradient (and what that costs), gradients
// never written in place, very deep graphs, grad mode, detach, explicit upstream
// gradients, the errors the engine raises, and that a graph's memory is freed.
//
// Expected gradients are worked out by hand in the comments. Per-op gradients are
// checked numerically in test_gradcheck.cpp, not here.
#include <doctest/doctest.h>

#include <vector>

#include "autograd/checkpoint.h"
#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/allocator.h"
#include "core/error.h"
#include "core/tensor.h"
#include "tests/tensor_checks.h"

namespace {

using ta::Shape;
using ta::Tensor;

Tensor leaf(const std::vector<float>& values, const Shape& shape) {
  return Tensor::from_vector(values, shape).set_requires_grad();
}
Tensor leaf(const std::vector<float>& values) { return leaf(values, Shape{static_cast<int64_t>(values.size())}); }

void check_tensor(const Tensor& t, const Shape& shape, const std::vector<float>& expected) {
  ta::testing::check_close(t, shape, expected, 1e-5);
}

void check_grad(const Tensor& x, const std::vector<float>& expected) { check_tensor(x.grad(), x.shape(), expected); }

}  // namespace

TEST_CASE("engine: a leaf used twice receives the sum of both paths") {
  // y = x*x + x  ->  dy/dx = 2x + 1
  Tensor x = leaf({1, 2, -3});
  ta::backward(ta::sum(x * x + x));
  check_grad(x, {3, 5, -5});
}

TEST_CASE("engine: a reused non-leaf node passes its gradient on once, in full") {
  // c = a*b; d = c + c*c  ->  dL/dc = 1 + 2c;  dL/da = (1 + 2c) b,  dL/db = (1 + 2c) a
  Tensor a = leaf({1, 2});
  Tensor b = leaf({3, -1});
  Tensor c = a * b;  // [3, -2], so dL/dc = [7, -3]
  Tensor d = c + c * c;
  ta::backward(ta::sum(d));
  check_grad(a, {21, 3});
  check_grad(b, {7, -6});
  CHECK_FALSE(c.grad().defined());  // only leaves keep a gradient
}

TEST_CASE("engine: a node reached by paths of different lengths runs after all of them") {
  // y = 2x; L = sum((y*y + y) * y) = sum(y^3 + y^2)  ->  dL/dy = 3y^2 + 2y,  dL/dx = 2 dL/dy
  Tensor x = leaf({0.5f, -1.0f});  // y = [1, -2], dL/dy = [5, 8]
  Tensor y = x * 2.0f;
  ta::backward(ta::sum((y * y + y) * y));
  check_grad(x, {10, 16});
}

TEST_CASE("engine: the gradient of a broadcast input is summed back to its shape") {
  SUBCASE("[3,1] * [1,4]") {
    // L = sum_ij a_i b_j  ->  dL/da_i = sum_j b_j = 10,  dL/db_j = sum_i a_i = 6
    Tensor a = leaf({1, 2, 3}, {3, 1});
    Tensor b = leaf({1, 2, 3, 4}, {1, 4});
    ta::backward(ta::sum(a * b));
    check_grad(a, {10, 10, 10});
    check_grad(b, {6, 6, 6, 6});
  }
  SUBCASE("[2,3,4] + [4]") {
    Tensor x = leaf(std::vector<float>(24, 0.5f), {2, 3, 4});
    Tensor bias = leaf({1, 2, 3, 4});
    ta::backward(ta::sum(x + bias));
    check_grad(bias, {6, 6, 6, 6});
    check_grad(x, std::vector<float>(24, 1.0f));
  }
  SUBCASE("scalar [] * [2,3]") {
    // dL/ds = sum(v) = 3
    Tensor s = leaf({2}, Shape{});
    Tensor v = leaf({1, -1, 2, 0, 0.5f, 0.5f}, {2, 3});
    ta::backward(ta::sum(s * v));
    check_grad(s, {3});
    check_grad(v, {2, 2, 2, 2, 2, 2});
  }
}

TEST_CASE("engine: gradients accumulate across backward calls until zero_grad") {
  Tensor x = leaf({1, 2});
  ta::backward(ta::sum(x * 3.0f));
  check_grad(x, {3, 3});
  ta::backward(ta::sum(x * 3.0f));
  check_grad(x, {6, 6});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  ta::backward(ta::sum(x * x));
  check_grad(x, {2, 4});
}

TEST_CASE("engine: a 100,000-op chain neither recurses in backward nor when dropped") {
  constexpr int kDepth = 100000;
  auto chain = [](const Tensor& x) {
    Tensor y = x;
    for (int i = 0; i < kDepth; ++i) y = y + 1.0f;
    return y;
  };
  Tensor x = leaf({0.5f}, Shape{});

  SUBCASE("backward") {
    Tensor y = chain(x);
    CHECK(y.item() == doctest::Approx(0.5 + kDepth));
    ta::backward(y);
    check_grad(x, {1});
  }
  SUBCASE("dropped without backward, and its memory freed") {
    const size_t live_before = ta::cpu_allocator().stats().live_bytes;
    {
      Tensor y = chain(x);
      CHECK(y.requires_grad());
    }  // the last owner of 100,000 nodes goes here
    CHECK(ta::cpu_allocator().stats().live_bytes == live_before);
  }
}

TEST_CASE("engine: NoGradGuard records nothing, nests, and restores grad mode") {
  Tensor x = leaf({1, 2});
  REQUIRE(ta::grad_enabled());
  {
    ta::NoGradGuard guard;
    CHECK_FALSE(ta::grad_enabled());
    Tensor y = ta::exp(x * 2.0f + x);
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(y.grad_fn());
    {
      ta::NoGradGuard inner;
      CHECK_FALSE(ta::grad_enabled());
    }
    CHECK_FALSE(ta::grad_enabled());  // the inner guard restores "off", not "on"
  }
  CHECK(ta::grad_enabled());
  Tensor z = x * 2.0f;
  CHECK(z.requires_grad());
  CHECK(z.grad_fn());
}

TEST_CASE("engine: detach cuts the graph") {
  // L = sum(detach(2x) * x)  ->  dL/dx = 2x (the detached factor is a constant), not 4x
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * 2.0f;
  Tensor d = y.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK_FALSE(d.grad_fn());
  CHECK(d.is_leaf());
  CHECK(d.to_vector() == y.to_vector());
  ta::backward(ta::sum(d * x));
  check_grad(x, {2, 4, 6});
  CHECK_FALSE(d.grad().defined());
}

TEST_CASE("engine: backward twice through the same graph is an error") {
  Tensor x = leaf({1, 2});
  Tensor loss = ta::sum(x * x);
  ta::backward(loss);
  CHECK_THROWS_AS(ta::backward(loss), ta::Error);
}

TEST_CASE("engine: backward with an explicit upstream gradient of the root's shape") {
  // y = 3x  ->  dL/dx = 3 g
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = x * 3.0f;
  ta::backward(y, Tensor::from_vector({1, 0, -1, 2, 0.5f, 0}, {2, 3}));
  check_grad(x, {3, 0, -3, 6, 1.5f, 0});

  SUBCASE("without one, a root of several elements is an error") {
    CHECK_THROWS_AS(ta::backward(x * 2.0f), ta::Error);
  }
  SUBCASE("one of another shape is an error") {
    CHECK_THROWS_AS(ta::backward(x * 2.0f, Tensor::ones({3, 2})), ta::Error);
  }
}

TEST_CASE("engine: slices of a tensor add up into its gradient, along any axis, overlapping, leaf or not") {
  // loss = sum_k w_k sum(piece_k) + w_whole sum(x): d loss / d x at a position along
  // the cut axis is the sum of the weights of the pieces that cover it.
  struct Piece {
    int64_t start, length;
    float weight;
  };
  // Sizes below, at and above 3 rows, an overlap ([2, 6) over [0, 3) and [3, 7)), an
  // empty piece and the whole axis as one piece.
  const std::vector<Piece> pieces = {{0, 3, 1}, {3, 4, 10}, {7, 3, 100}, {2, 4, 1000}, {5, 0, -1}, {0, 10, 0.5f}};
  // Wide: 5,000 values per row, so that the additions are split between threads,
  // a thread's share starting and ending inside rows.
  for (const Shape& base : {Shape{3, 4, 5}, Shape{3, 4, 5000}}) {
    for (int axis : {0, 1, 2}) {
      for (bool through_an_op : {false, true}) {  // the sliced tensor: the leaf itself, or 2 x (a node)
        CAPTURE(base);
        CAPTURE(axis);
        CAPTURE(through_an_op);
        Shape shape = base;
        shape[axis] = 10;
        std::vector<float> values(static_cast<size_t>(shape.numel()));
        for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 7) - 3;
        Tensor x = leaf(values, shape);
        Tensor sliced = through_an_op ? x * 2.0f : x;
        Tensor loss = ta::sum(x) * 0.25f;
        for (const Piece& p : pieces) loss = loss + ta::sum(ta::narrow(sliced, axis, p.start, p.length)) * p.weight;
        ta::backward(loss);

        const int64_t inner = shape.inner(axis);
        std::vector<float> expected(values.size());
        for (size_t i = 0; i < expected.size(); ++i) {
          const int64_t at = (static_cast<int64_t>(i) / inner) % 10;  // the position along the cut axis
          float w = 0;
          for (const Piece& p : pieces)
            if (at >= p.start && at < p.start + p.length) w += p.weight;
          expected[i] = 0.25f + (through_an_op ? 2 : 1) * w;
        }
        const std::vector<float> got = x.grad().to_vector();
        size_t wrong = 0, first_wrong = 0;
        for (size_t i = 0; i < got.size(); ++i) {
          if (got[i] == expected[i]) continue;
          if (wrong++ == 0) first_wrong = i;
        }
        CHECK_MESSAGE(wrong == 0, wrong, " wrong gradients, the first at ", first_wrong, ": ", got[first_wrong],
                      " instead of ", expected[first_wrong]);
      }
    }
  }
}

TEST_CASE("engine: summing gradients never writes into a tensor that the user or an op holds") {
  // r = h + concat(top, bottom of h), h = x + 0: h's node gets the upstream gradient
  // itself (add passes it on unchanged) and two slices of it; x.grad = 2 dy.
  // Either may arrive first (the whole one first: the sum must copy it before adding
  // the slices into it; the slices first: the whole one is added into the engine's
  // own zeros).
  for (bool whole_first : {true, false}) {
    CAPTURE(whole_first);
    const std::vector<float> dy_values = {1, -2, 3, 0.5f, 4, -1, 2, 2, -3, 7, 0, 1};
    const Tensor dy = Tensor::from_vector(dy_values, {4, 3});
    std::vector<float> twice(dy_values), four_times(dy_values);
    for (float& v : twice) v *= 2;
    for (float& v : four_times) v *= 4;
    Tensor x = leaf(std::vector<float>(12, 1.0f), {4, 3});
    auto forward = [&] {
      const Tensor h = x + 0.0f;
      const Tensor halves = ta::concat({ta::narrow(h, 0, 0, 2), ta::narrow(h, 0, 2, 2)}, 0);
      return whole_first ? halves + h : h * 1.0f + halves;
    };
    ta::backward(forward(), dy);
    check_tensor(dy, {4, 3}, dy_values);  // the user's upstream gradient is untouched
    check_grad(x, twice);
    const Tensor first_grad = x.grad();
    ta::backward(forward(), dy);
    check_tensor(dy, {4, 3}, dy_values);
    check_tensor(first_grad, {4, 3}, twice);  // accumulation made a new tensor
    check_grad(x, four_times);
  }
}

TEST_CASE("engine: a tensor cut into many slices costs one full-size gradient buffer, not one per slice") {
  // 64 slices of 64 rows along the middle axis of [4, 4096, 16], each scaled and
  // joined again. The backward allocates a handful of full-size tensors (the seed,
  // concat's pieces, the scaled gradients, one sum per receiving tensor); one
  // full-size tensor per slice would be 64 of them.
  const Shape shape{4, 4096, 16};
  const size_t full_bytes = static_cast<size_t>(shape.numel()) * sizeof(float);
  for (bool through_an_op : {false, true}) {
    CAPTURE(through_an_op);
    Tensor x = Tensor::ones(shape).set_requires_grad();
    const Tensor sliced = through_an_op ? x * 2.0f : x;
    std::vector<Tensor> pieces;
    for (int64_t start = 0; start < 4096; start += 64) pieces.push_back(ta::narrow(sliced, 1, start, 64) * 3.0f);
    const Tensor y = ta::concat(pieces, 1);
    const Tensor dy = Tensor::ones(shape);
    const size_t before = ta::cpu_allocator().stats().allocated_bytes;
    ta::backward(y, dy);
    const size_t allocated = ta::cpu_allocator().stats().allocated_bytes - before;
    INFO("allocated ", allocated / static_cast<double>(full_bytes), " full-size tensors");
    CHECK(allocated < 6 * full_bytes);
    CHECK(ta::max(ta::abs(x.grad() - (through_an_op ? 6.0f : 3.0f))).item() == 0.0f);
  }
}

TEST_CASE("engine: a leaf reached by a backward inside another (checkpoint) and by the outer one sums both") {
  // L = sum(w) + sum(f(x)) + sum(3 w^2), f(x) = x * w checkpointed, in both orders of
  // the last two terms, so that the outer pass reaches w before and after the inner
  // pass (run by the checkpoint node) does:
  //   dL/dw = 1 + x + 6 w,  dL/dx = w.
  Tensor w = leaf({1, 2, 3});
  Tensor x = leaf({4, 5, 6});
  for (bool checkpoint_last : {false, true}) {
    CAPTURE(checkpoint_last);
    w.zero_grad();
    x.zero_grad();
    const Tensor h = ta::checkpoint([&w](const Tensor& t) { return t * w; }, x);
    const Tensor u = ta::sum(w * w * 3.0f);
    const Tensor total = checkpoint_last ? ta::sum(w) + u + ta::sum(h) : ta::sum(w) + ta::sum(h) + u;
    ta::backward(total);
    check_grad(w, {1 + 4 + 6, 1 + 5 + 12, 1 + 6 + 18});
    check_grad(x, {1, 2, 3});
  }
}

TEST_CASE("engine: inputs that do not require a gradient get none") {
  Tensor x = leaf({1, 2});
  Tensor c = Tensor::from_vector({5, -1}, {2});
  Tensor unused = leaf({7});
  CHECK_FALSE(c.requires_grad());
  Tensor y = x * c;
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  ta::backward(ta::sum(y));
  check_grad(x, {5, -1});
  CHECK_FALSE(c.grad().defined());
  CHECK_FALSE(unused.grad().defined());  // requires a gradient but is not part of the graph
}

TEST_CASE("engine: set_requires_grad is for leaves only") {
  Tensor x = leaf({1, 2});
  Tensor y = x * 2.0f;
  CHECK_THROWS_AS(y.set_requires_grad(), ta::Error);
  Tensor z = Tensor::zeros({2});
  z.set_requires_grad();
  CHECK(z.requires_grad());
  CHECK(z.is_leaf());
}

TEST_CASE("engine: a training step frees its graph and saved tensors") {
  // 50 steps of a small model; after the first couple (which may fill caches), the
  // live bytes must not grow: each step's graph, activations and gradients are freed.
  ta::Generator gen(7);
  const Tensor x = Tensor::normal({32, 8}, 0.0f, 1.0f, gen);
  std::vector<float> target_ids(32);
  for (size_t i = 0; i < target_ids.size(); ++i) target_ids[i] = static_cast<float>(i % 4);
  const Tensor targets = Tensor::from_vector(target_ids, {32});
  Tensor w1 = Tensor::normal({8, 16}, 0.0f, 0.3f, gen).set_requires_grad();
  Tensor w2 = Tensor::normal({16, 4}, 0.0f, 0.3f, gen).set_requires_grad();

  size_t live_after_warmup = 0;
  for (int step = 0; step < 50; ++step) {
    {
      Tensor logits = ta::matmul(ta::tanh(ta::matmul(x, w1)), w2);
      Tensor loss = ta::cross_entropy(logits, targets);
      ta::backward(loss);
      ta::NoGradGuard no_grad;
      for (Tensor* w : {&w1, &w2}) {
        *w = (*w - 0.1f * w->grad()).detach();
        w->set_requires_grad();
      }
    }
    const size_t live = ta::cpu_allocator().stats().live_bytes;
    if (step == 2) live_after_warmup = live;
    if (step > 2) {
      INFO("step ", step);
      CHECK(live <= live_after_warmup);
    }
  }
}
