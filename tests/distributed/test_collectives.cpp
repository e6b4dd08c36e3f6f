// tests/distributed/test_collectives.cpp — two processes over MPI: ranks, host sums
// and mean weights, broadcast of parameters from rank 0, the check that replicas are
// identical (and that it notices one differing bit), several non-blocking sums in
// flight at once, and GradientReducer over MPI equal, bit for bit, to the mean of
// the two ranks' gradients computed in one process.
//
// Assertions are CHECKs, not REQUIREs: a failed REQUIRE on one rank would skip that
// rank's next collective and leave the other waiting.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/kernels.h"
#include "distributed/communicator.h"
#include "distributed/reducer.h"
#include "distributed/replicas.h"
#include "distributed/world.h"
#include "tests/distributed/dist_testing.h"
#include "tests/testing.h"

namespace {

using ta::Shape;
using ta::Tensor;
namespace dist = ta::dist;
using namespace ta::testing;

}  // namespace

TEST_CASE("mpi: two ranks, host sums, any_rank, mean weights, bytes from rank 0") {
  if (!two_ranks()) return;
  const int r = dist::rank();
  CHECK(dist::is_root() == (r == 0));
  CHECK(dist::local_rank() == r);  // both on this machine
  CHECK(dist::sum_over_ranks(r + 1.0) == 3.0);
  CHECK(dist::mean_over_ranks(r == 0 ? 2.0 : 5.0) == 3.5);
  CHECK(dist::sum_over_ranks(std::vector<double>{1.0, r * 10.0}) == std::vector<double>{2.0, 10.0});
  CHECK(dist::any_rank(r == 1));
  CHECK_FALSE(dist::any_rank(false));
  // Rank 0 saw 3 items, rank 1 one: their means weigh 2 * 3/4 and 2 * 1/4.
  CHECK(dist::mean_weight(r == 0 ? 3 : 1) == (r == 0 ? 1.5 : 0.5));
  char text[16] = {};
  std::strcpy(text, r == 0 ? "from rank 0" : "rank 1 junk");
  dist::broadcast_bytes(text, sizeof text);
  CHECK(std::string(text) == "from rank 0");
}

TEST_CASE("mpi: broadcast_from_root makes every rank hold rank 0's tensors; identical_on_all_ranks sees one bit") {
  if (!two_ranks()) return;
  std::vector<Tensor> params = perceptron(100 + dist::rank());  // different on each rank
  CHECK_FALSE(dist::identical_on_all_ranks(params));
  dist::broadcast_from_root(params);
  CHECK(dist::identical_on_all_ranks(params));
  const std::vector<Tensor> rank0 = perceptron(100);
  CHECK(ta::testing::max_abs_difference(params, rank0) == 0.0);

  // One element one ulp off on rank 1 only.
  if (dist::rank() == 1) {
    std::vector<float> v = params[1].to_vector();
    v[7] = std::nextafter(v[7], 1.0f);
    ta::kernels::assign(params[1], Tensor::from_vector(v, params[1].shape()));
  }
  CHECK_FALSE(dist::identical_on_all_ranks(params));
}

TEST_CASE("mpi: several non-blocking sums in flight, waited in any order, sizes 0, 1 and odd") {
  if (!two_ranks()) return;
  dist::Communicator& comm = dist::communicator(ta::Device::CPU);
  CHECK(comm.size() == 2);
  CHECK(comm.rank() == dist::rank());
  const float r = static_cast<float>(dist::rank());
  std::vector<Tensor> flats;
  std::vector<int> tickets;
  for (int64_t n : {0, 1, 7, 1000, 33}) {
    flats.push_back(Tensor::full(Shape{n}, r + n));  // rank 0: n, rank 1: n + 1 -> sum 2n + 1
    tickets.push_back(comm.start_sum(flats.back()));
  }
  comm.progress();
  for (size_t k : {3, 0, 4, 1, 2}) comm.wait(tickets[k]);
  for (const Tensor& f : flats)
    CHECK(f.to_vector() == std::vector<float>(static_cast<size_t>(f.numel()), 2.0f * f.numel() + 1.0f));
  CHECK(ta::testing::error_message([&] { comm.wait(99); }).find("no sum in flight") != std::string::npos);
}

TEST_CASE("mpi: the reducer's gradients are the mean of the two ranks', bit for bit, for any bucket size") {
  if (!two_ranks()) return;
  // The two ranks' gradients, both computed here: (g0 + g1) * 0.5 in float is what
  // MPI's sum (commutative for two) and the reducer's scaling give.
  std::vector<float> expected;
  {
    std::vector<Tensor> p0 = perceptron(1), p1 = perceptron(1);
    ta::backward(perceptron_loss(p0, 10));
    ta::backward(perceptron_loss(p1, 11));
    const std::vector<float> g0 = flat_grads(p0), g1 = flat_grads(p1);
    for (size_t i = 0; i < g0.size(); ++i) expected.push_back((g0[i] + g1[i]) * 0.5f);
  }
  for (const double mb : {1e-6, 160e-6, 25.0}) {  // one parameter per bucket, two buckets (40 floats), one
    for (const dist::Overlap overlap : {dist::Overlap::On, dist::Overlap::Off}) {
      INFO("bucket_mb ", mb, ", overlap ", overlap == dist::Overlap::On ? "on" : "off");
      std::vector<Tensor> p = perceptron(1);
      dist::ReducerOptions o;
      o.bucket_mb = mb;
      o.overlap = overlap;
      dist::GradientReducer reducer(p, o);
      reducer.backward(perceptron_loss(p, 10 + dist::rank()));
      CHECK(flat_grads(p) == expected);
      CHECK(reducer.last_stats().buckets == static_cast<int>(reducer.bucket_count()));
      if (overlap == dist::Overlap::Off) CHECK(reducer.last_stats().started_during_backward == 0);
      else CHECK(reducer.last_stats().started_during_backward == reducer.last_stats().buckets);
    }
  }
}
