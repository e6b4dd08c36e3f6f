// tests/distributed/test_reducer_local.cpp — GradientReducer's logic in one process,
// with a second rank simulated by a communicator: its gradient is a known constant
// c, so every reduced gradient must be exactly (ours + c) / 2. Checked: buckets start
// in their fixed order while backward is still running (the first before the first
// layer's gradient exists), Overlap::Off gives the same numbers, parameters without
// a gradient (here, on the other rank, on both), accumulation with Sync::Off, the
// error for a parameter reported twice (checkpointing), and the argument checks.
// Needs no MPI: it runs in every build (and on each rank of the mpirun run).
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "autograd/checkpoint.h"
#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/kernels.h"
#include "distributed/communicator.h"
#include "distributed/reducer.h"
#include "tests/fake_cuda.h"
#include "tests/testing.h"

namespace {

using ta::Shape;
using ta::Tensor;
using ta::dist::GradientReducer;
using ta::dist::Overlap;
using ta::dist::ReducerOptions;
using ta::dist::Sync;

constexpr float kOther = 0.375f;  // the simulated rank's gradient, every element

// Rank 0 of a pair whose other rank holds gradient kOther everywhere (and, if
// other_has_grads, a gradient for every parameter). Each sum lands at wait().
class SimulatedPair final : public ta::dist::Communicator {
 public:
  bool other_has_grads = true;
  std::function<void()> on_start;   // called at each start_sum, e.g. to look at the model
  std::vector<int64_t> started;     // element counts of the buckets started, in order
  int waits = 0;

  int rank() const override { return 0; }
  int size() const override { return 2; }
  void broadcast(const Tensor&) override {}
  int start_sum(const Tensor& flat) override {
    if (on_start) on_start();
    started.push_back(flat.numel());
    in_flight_.push_back(flat);
    return static_cast<int>(in_flight_.size()) - 1;
  }
  void progress() override {}
  void wait(int ticket) override {
    ++waits;
    ta::NoGradGuard no_grad;
    ta::kernels::assign(in_flight_[ticket], in_flight_[ticket] + kOther);
  }
  std::vector<double> sum_on_host(std::vector<double> values) override {
    for (double& v : values) v += other_has_grads ? 1.0 : 0.0;
    return values;
  }

 private:
  std::vector<Tensor> in_flight_;
};

// Puts a communicator behind the CPU for the life of the object.
struct UseCommunicator {
  explicit UseCommunicator(ta::dist::Communicator& c) { ta::dist::override_communicator_for_testing(ta::Device::CPU, &c); }
  ~UseCommunicator() { ta::dist::override_communicator_for_testing(ta::Device::CPU, nullptr); }
};

// A 3-layer perceptron 8 -> 16 -> 12 -> 6 on raw tensors: w1, b1, w2, b2, w3, b3.
struct Mlp {
  std::vector<Tensor> params;
  explicit Mlp(uint64_t seed) {
    ta::Generator gen(seed);
    const int64_t dims[] = {8, 16, 12, 6};
    for (int l = 0; l < 3; ++l) {
      params.push_back(Tensor::normal(Shape{dims[l], dims[l + 1]}, 0.0f, 0.3f, gen).set_requires_grad());
      params.push_back(Tensor::normal(Shape{dims[l + 1]}, 0.0f, 0.1f, gen).set_requires_grad());
    }
  }
  Tensor loss(uint64_t data_seed) const {
    ta::Generator gen(data_seed);
    Tensor h = Tensor::normal(Shape{5, 8}, 0.0f, 1.0f, gen);
    for (int l = 0; l < 3; ++l) {
      h = ta::matmul(h, params[2 * l]) + params[2 * l + 1];
      if (l < 2) h = ta::tanh(h);
    }
    return ta::mean(h * h);
  }
  std::vector<std::vector<float>> grads() const {
    std::vector<std::vector<float>> g;
    for (const Tensor& p : params) g.push_back(p.grad().defined() ? p.grad().to_vector() : std::vector<float>{});
    return g;
  }
};

// The plain gradients of the same model and data, each mapped to the mean with the
// simulated rank: (g + c) / 2 in float, as the reducer computes it.
std::vector<std::vector<float>> expected_means(uint64_t data_seed, int backward_calls = 1) {
  Mlp plain(1);
  for (int k = 0; k < backward_calls; ++k) ta::backward(plain.loss(data_seed + k));
  std::vector<std::vector<float>> g = plain.grads();
  for (auto& v : g)
    for (float& x : v) x = (x + kOther) * 0.5f;
  return g;
}

ReducerOptions one_parameter_per_bucket(Overlap overlap) {
  ReducerOptions o;
  o.bucket_mb = 1e-6;  // 1 byte: every parameter is alone in its bucket
  o.overlap = overlap;
  return o;
}

}  // namespace

TEST_CASE("reducer: buckets start last layer first, during backward, and the gradients become the mean") {
  SimulatedPair pair;
  UseCommunicator use(pair);
  Mlp model(1);
  bool first_layer_done_at_first_start = true;
  pair.on_start = [&] {
    if (pair.started.empty()) first_layer_done_at_first_start = model.params[0].grad().defined();
  };
  GradientReducer reducer(model.params, one_parameter_per_bucket(Overlap::On));
  CHECK(reducer.bucket_count() == 6);
  reducer.backward(model.loss(7));
  CHECK(pair.started == std::vector<int64_t>{6, 72, 12, 192, 16, 128});  // b3, w3, b2, w2, b1, w1
  CHECK_FALSE(first_layer_done_at_first_start);  // on the wire before backward reached layer 1
  CHECK(reducer.last_stats().started_during_backward == 6);
  CHECK(reducer.last_stats().buckets == 6);
  CHECK(model.grads() == expected_means(7));

  // The next step reuses the buckets: the same numbers again for the same data.
  for (Tensor& p : model.params) p.zero_grad();
  reducer.backward(model.loss(7));
  CHECK(model.grads() == expected_means(7));
}

TEST_CASE("reducer: Overlap::Off and one bucket for all give the same gradients, all sent after backward") {
  for (const Overlap overlap : {Overlap::On, Overlap::Off}) {
    SimulatedPair pair;
    UseCommunicator use(pair);
    Mlp model(1);
    ReducerOptions o;
    o.overlap = overlap;  // the default 25 MB: one bucket
    GradientReducer reducer(model.params, o);
    CHECK(reducer.bucket_count() == 1);
    reducer.backward(model.loss(3));
    CHECK(pair.started == std::vector<int64_t>{6 + 72 + 12 + 192 + 16 + 128});
    // One bucket is complete only when the first layer is: the end of backward, but still inside it with overlap.
    CHECK(reducer.last_stats().started_during_backward == (overlap == Overlap::On ? 1 : 0));
    CHECK(model.grads() == expected_means(3));
  }
}

TEST_CASE("reducer: reduce() after plain backward equals backward with overlap") {
  SimulatedPair pair;
  UseCommunicator use(pair);
  Mlp model(1);
  GradientReducer reducer(model.params, one_parameter_per_bucket(Overlap::On));
  ta::backward(model.loss(5));
  reducer.reduce();
  CHECK(pair.started.size() == 6);
  CHECK(model.grads() == expected_means(5));
}

TEST_CASE("reducer: a parameter without a gradient counts as zero; without one on any rank it keeps none") {
  Mlp model(1);
  Tensor unused = Tensor::ones(Shape{3}).set_requires_grad();
  std::vector<Tensor> params = model.params;
  params.push_back(unused);
  for (const bool other_has : {true, false}) {
    SimulatedPair pair;
    pair.other_has_grads = other_has;
    UseCommunicator use(pair);
    GradientReducer reducer(params, one_parameter_per_bucket(Overlap::On));
    for (Tensor& p : params) p.zero_grad();
    reducer.backward(model.loss(9));
    CHECK(pair.started.size() == 7);  // the unused parameter's bucket went too, after backward
    CHECK(reducer.last_stats().started_during_backward == 0);  // it is bucket 0: nothing may go before it
    if (other_has) {
      REQUIRE(unused.grad().defined());
      CHECK(unused.grad().to_vector() == std::vector<float>(3, kOther * 0.5f));  // (0 + c) / 2
      CHECK(model.grads() == expected_means(9));
    } else {
      CHECK_FALSE(unused.grad().defined());
      CHECK(model.params[0].grad().defined());  // this rank had one
    }
  }
}

TEST_CASE("reducer: Sync::Off accumulates locally, sends nothing; the Sync::On pass reduces the sum") {
  SimulatedPair pair;
  UseCommunicator use(pair);
  Mlp model(1);
  GradientReducer reducer(model.params, one_parameter_per_bucket(Overlap::On));
  reducer.backward(model.loss(11), Sync::Off);
  CHECK(pair.started.empty());
  reducer.backward(model.loss(12), Sync::On);
  CHECK(pair.started.size() == 6);
  CHECK(model.grads() == expected_means(11, 2));  // (g11 + g12 + c) / 2
}

TEST_CASE("reducer: a parameter reported twice (inside a checkpoint and outside) is a clear error; Off works") {
  SimulatedPair pair;
  UseCommunicator use(pair);
  Tensor w = Tensor::from_vector({0.5f, -1.0f}, Shape{2}).set_requires_grad();
  auto loss = [&] {
    Tensor x = Tensor::from_vector({1.0f, 2.0f}, Shape{2});
    return ta::sum(ta::checkpoint([&](const Tensor& in) { return ta::tanh(in * w); }, x) * w);
  };
  GradientReducer overlapping({w}, one_parameter_per_bucket(Overlap::On));
  const std::string message = ta::testing::error_message([&] { overlapping.backward(loss()); });
  CHECK(message.find("parameter 0 (shape [2]) was reported complete twice") != std::string::npos);
  CHECK(message.find("Overlap::Off") != std::string::npos);

  w.zero_grad();
  GradientReducer after_backward({w}, one_parameter_per_bucket(Overlap::Off));
  after_backward.backward(loss());
  const std::vector<float> reduced = w.grad().to_vector();
  w.zero_grad();
  ta::backward(loss());  // plain: the local gradient
  std::vector<float> expected = w.grad().to_vector();
  for (float& x : expected) x = (x + kOther) * 0.5f;
  CHECK(reduced == expected);
}

TEST_CASE("reducer: one rank is plain backward; bad arguments are clear errors") {
  struct Alone final : ta::dist::Communicator {
    int started = 0;
    int rank() const override { return 0; }
    int size() const override { return 1; }
    void broadcast(const Tensor&) override {}
    int start_sum(const Tensor&) override { return ++started; }
    void progress() override {}
    void wait(int) override {}
    std::vector<double> sum_on_host(std::vector<double> v) override { return v; }
  } alone;
  UseCommunicator use(alone);
  Mlp model(1), plain(1);
  GradientReducer reducer(model.params);
  reducer.backward(model.loss(2));
  ta::backward(plain.loss(2));
  CHECK(alone.started == 0);
  CHECK(model.grads() == plain.grads());

  using ta::testing::error_message;
  Tensor p = Tensor::ones(Shape{2}).set_requires_grad();
  CHECK(error_message([&] { GradientReducer({p, p}); }).find("parameter 1 appears twice") != std::string::npos);
  CHECK(error_message([&] { GradientReducer({p * 2.0f}); }).find("must be a leaf") != std::string::npos);
  ReducerOptions zero;
  zero.bucket_mb = 0;
  CHECK(error_message([&] { GradientReducer({p}, zero); }).find("bucket_mb must be > 0") != std::string::npos);
  ta::testing::FakeCuda cuda;
  Tensor q = Tensor::ones(Shape{2}, ta::Device::CUDA).set_requires_grad();
  CHECK(error_message([&] { GradientReducer({p, q}); }).find("all must be on one device") != std::string::npos);
}
