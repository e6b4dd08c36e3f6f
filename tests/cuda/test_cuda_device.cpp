// The CUDA backend on a real GPU against the CPU backend, through the tensor-level
// kernels (core/kernels.h): every kernel of the backend list that is not a fused
// attention core (those are in their own device tests). Without a GPU — or in a
// build without nvcc — each case says so and passes without checking anything;
// the same kernel bodies are checked under the SIMT emulation in test_kernels.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/error.h"
#include "core/kernels.h"
#include "core/tensor.h"
#include "tests/cuda/kernel_testing.h"

using namespace ta;
using namespace ta::testing;

namespace {

// True when a GPU is there to test; otherwise records why the case is skipped.
bool have_gpu() {
  if (cuda_available()) return true;
  MESSAGE("skipped: no CUDA device in this build or on this machine");
  return false;
}

Tensor random_tensor(const Shape& s, uint64_t seed, float lo = -2.0f, float hi = 2.0f) {
  return Tensor::from_vector(uniform_values(s.numel(), seed, lo, hi), s);
}

Tensor on_gpu(const Tensor& t) { return t.to(Device::CUDA); }

// The GPU result, brought back, against the CPU's.
void check_same(const Tensor& gpu, const Tensor& cpu, float rtol = 1e-5f, float atol = 1e-5f) {
  REQUIRE(gpu.device() == Device::CUDA);
  REQUIRE(gpu.shape() == cpu.shape());
  CHECK_CLOSE(gpu.to(Device::CPU).to_vector(), cpu.to_vector(), rtol, atol);
}

}  // namespace

TEST_CASE("cuda device: asking for CUDA without a GPU is a clear error") {
  if (cuda_available()) return;
  CHECK_THROWS_WITH_AS(Tensor::zeros({2}, Device::CUDA), doctest::Contains("Device::CPU"), Error);
}

TEST_CASE("cuda device: copies, creation, random numbers and the memory cache") {
  if (!have_gpu()) return;
  const Tensor x = random_tensor({3, 257}, 1);
  CHECK(on_gpu(x).to(Device::CPU).to_vector() == x.to_vector());
  check_same(Tensor::full({5, 3}, 1.5f, Device::CUDA), Tensor::full({5, 3}, 1.5f));
  check_same(Tensor::arange(-2.0f, 30.0f, 0.37f, Device::CUDA), Tensor::arange(-2.0f, 30.0f, 0.37f), 1e-6f, 0.0f);
  Generator g_cpu(9), g_gpu(9);
  CHECK(Tensor::uniform({1000}, -1.0f, 2.0f, g_gpu, Device::CUDA).to_vector() ==
        Tensor::uniform({1000}, -1.0f, 2.0f, g_cpu).to_vector());
  check_same(Tensor::normal({1000}, 0.5f, 2.0f, g_gpu, Device::CUDA), Tensor::normal({1000}, 0.5f, 2.0f, g_cpu), 1e-5f,
             1e-5f);
  float* first = nullptr;
  {
    Tensor a = Tensor::empty({1024}, Device::CUDA);
    first = a.data();
  }
  CHECK(Tensor::empty({1024}, Device::CUDA).data() == first);  // the freed block is handed out again
}

TEST_CASE("cuda device: ops mixing devices say so") {
  if (!have_gpu()) return;
  const Tensor a = random_tensor({4}, 2);
  CHECK_THROWS_WITH_AS(kernels::binary(BinaryOp::Add, a, on_gpu(a), "add"), doctest::Contains("different devices"),
                       Error);
}

TEST_CASE("cuda device: element-wise, broadcasting, reductions, softmax, cumsum") {
  if (!have_gpu()) return;
  const Tensor x = random_tensor({4, 3, 37}, 3), y = random_tensor({3, 1}, 4), dy = random_tensor({4, 3, 37}, 5);
  const Tensor gx = on_gpu(x), gy = on_gpu(y), gdy = on_gpu(dy);
  for (UnaryOp op :
       {UnaryOp::Tanh, UnaryOp::GeluErf, UnaryOp::Silu, UnaryOp::Softplus, UnaryOp::Elu, UnaryOp::PowScalar}) {
    const Tensor in = op == UnaryOp::PowScalar ? random_tensor({4, 3, 37}, 6, 0.1f, 3.0f) : x;
    const Tensor out = kernels::unary(op, in, 1.5f, "unary");
    check_same(kernels::unary(op, on_gpu(in), 1.5f, "unary"), out);
    check_same(kernels::unary_backward(op, on_gpu(in), on_gpu(out), gdy, 1.5f),
               kernels::unary_backward(op, in, out, dy, 1.5f));
  }
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Div, BinaryOp::Maximum, BinaryOp::Lt, BinaryOp::GradMul})
    check_same(kernels::binary(op, gx, gy, "binary"), kernels::binary(op, x, y, "binary"));
  const Tensor mask = kernels::binary(BinaryOp::Gt, x, Tensor::scalar(0.0f), "gt");
  check_same(kernels::where(on_gpu(mask), gx, gy), kernels::where(mask, x, y));
  const Tensor slice = random_tensor({4, 2, 37}, 7), whole = x.clone(), g_whole = on_gpu(x);
  kernels::add_into_slice(whole, slice, 1, 1, "add_into_slice");  // the engine's gradient sums
  kernels::add_into_slice(g_whole, on_gpu(slice), 1, 1, "add_into_slice");
  check_same(g_whole, whole);
  check_same(kernels::sum_to(gx, {3, 1}), kernels::sum_to(x, {3, 1}), 1e-5f, 1e-4f);
  for (int axis : {0, 1, 2})
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::LogSumExp}) {
      CAPTURE(axis);
      check_same(kernels::reduce(op, gx, axis, KeepDims::No), kernels::reduce(op, x, axis, KeepDims::No), 1e-5f, 1e-4f);
    }
  for (int axis : {1, 2}) {
    for (SoftmaxForm log : {SoftmaxForm::Softmax, SoftmaxForm::LogSoftmax}) {
      const Tensor s = kernels::softmax(x, axis, log);
      check_same(kernels::softmax(gx, axis, log), s);
      check_same(kernels::softmax_backward(on_gpu(s), gdy, axis, log), kernels::softmax_backward(s, dy, axis, log));
    }
    for (ScanDirection reverse : {ScanDirection::Forward, ScanDirection::Reverse})
      check_same(kernels::cumsum(gx, axis, reverse), kernels::cumsum(x, axis, reverse), 1e-5f, 1e-4f);
  }
}

TEST_CASE("cuda device: permute, slices, concat, indexing") {
  if (!have_gpu()) return;
  const Tensor x = random_tensor({5, 6, 7}, 7), gx = on_gpu(x);
  check_same(kernels::permute(gx, {2, 0, 1}), kernels::permute(x, {2, 0, 1}));
  check_same(kernels::narrow(gx, 1, 2, 3), kernels::narrow(x, 1, 2, 3));
  check_same(kernels::concat({gx, gx}, 2), kernels::concat({x, x}, 2));
  const Tensor index = Tensor::from_vector({4, 0, 0, 2, 3, 4, 1}, {7});
  check_same(kernels::index_select(gx, 0, on_gpu(index)), kernels::index_select(x, 0, index));
  const Tensor dy = random_tensor({5, 7, 7}, 8);
  check_same(kernels::index_add(on_gpu(dy), 1, on_gpu(index), x.shape()), kernels::index_add(dy, 1, index, x.shape()));
  const Tensor gidx = Tensor::from_vector(index_values(5 * 6 * 7, 6, 9), {5, 6, 7});
  check_same(kernels::gather(gx, 1, on_gpu(gidx)), kernels::gather(x, 1, gidx));
  check_same(kernels::scatter_add(gx, 1, on_gpu(gidx), x.shape()), kernels::scatter_add(x, 1, gidx, x.shape()));
}

TEST_CASE("cuda device: matrix products through cuBLAS, every transpose and batch layout") {
  if (!have_gpu()) return;
  for (Transpose ta : {Transpose::No, Transpose::Yes})
    for (Transpose tb : {Transpose::No, Transpose::Yes}) {
      const Tensor a = random_tensor(ta == Transpose::No ? Shape{3, 37, 19} : Shape{3, 19, 37}, 10);
      const Tensor b = random_tensor(tb == Transpose::No ? Shape{19, 23} : Shape{23, 19}, 11);
      const Tensor bb = random_tensor(tb == Transpose::No ? Shape{3, 19, 23} : Shape{3, 23, 19}, 12);
      check_same(kernels::matmul(on_gpu(a), on_gpu(b), ta, tb), kernels::matmul(a, b, ta, tb), 1e-4f, 1e-4f);
      check_same(kernels::matmul(on_gpu(a), on_gpu(bb), ta, tb), kernels::matmul(a, bb, ta, tb), 1e-4f, 1e-4f);
    }
  const Tensor empty_k = random_tensor({4, 0}, 13), other = random_tensor({0, 5}, 14);
  check_same(kernels::matmul(on_gpu(empty_k), on_gpu(other), Transpose::No, Transpose::No),
             kernels::matmul(empty_k, other, Transpose::No, Transpose::No));
}

TEST_CASE("cuda device: the fused linear layer (GEMM + bias + activation epilogue)") {
  if (!have_gpu()) return;
  const Tensor x = random_tensor({2, 37, 19}, 15), w = random_tensor({300, 19}, 16), b = random_tensor({300}, 17);
  for (EpilogueActivation act : {EpilogueActivation::None, EpilogueActivation::Relu, EpilogueActivation::GeluErf,
                                 EpilogueActivation::GeluTanh, EpilogueActivation::Silu}) {
    CAPTURE(static_cast<int>(act));
    const kernels::LinearOutput gpu =
        kernels::linear(on_gpu(x), on_gpu(w), on_gpu(b), act, kernels::PreActivation::Keep);
    const kernels::LinearOutput cpu = kernels::linear(x, w, b, act, kernels::PreActivation::Keep);
    check_same(gpu.y, cpu.y, 1e-4f, 1e-4f);
    check_same(gpu.pre, cpu.pre, 1e-4f, 1e-4f);
  }
}

TEST_CASE("cuda device: norms, cross-entropy and optimizer updates") {
  if (!have_gpu()) return;
  const Tensor x = random_tensor({9, 300}, 15), gamma = random_tensor({300}, 16), beta = random_tensor({300}, 17);
  const Tensor dy = random_tensor({9, 300}, 18);
  for (LayerNormKind layer : {LayerNormKind::LayerNorm, LayerNormKind::RmsNorm}) {
    const kernels::NormResult cpu = kernels::layer_norm(x, gamma, beta, 1e-5f, layer);
    const kernels::NormResult gpu = kernels::layer_norm(on_gpu(x), on_gpu(gamma), on_gpu(beta), 1e-5f, layer);
    check_same(gpu.y, cpu.y, 1e-4f, 1e-5f);
    const auto dcpu = kernels::layer_norm_backward(x, gamma, beta, cpu.mean, cpu.rstd, dy, layer);
    const auto dgpu = kernels::layer_norm_backward(on_gpu(x), on_gpu(gamma), on_gpu(beta), gpu.mean, gpu.rstd,
                                                   on_gpu(dy), layer);
    for (size_t i = 0; i < dcpu.size(); ++i) check_same(dgpu[i], dcpu[i], 1e-4f, 1e-4f);
  }
  const Tensor logits = random_tensor({6, 300}, 19, -5.0f, 5.0f);
  const Tensor targets = Tensor::from_vector({3, 299, -100, 0, 17, 250}, {6});
  const auto [loss, lse] = kernels::cross_entropy(logits, targets, -100);
  const auto [gloss, glse] = kernels::cross_entropy(on_gpu(logits), on_gpu(targets), -100);
  check_same(gloss, loss);
  check_same(glse, lse);
  const Tensor scale = Tensor::scalar(0.2f);
  check_same(kernels::cross_entropy_backward(on_gpu(logits), on_gpu(targets), glse, on_gpu(scale), -100),
             kernels::cross_entropy_backward(logits, targets, lse, scale, -100));

  const Tensor p = random_tensor({1000}, 20), g = random_tensor({1000}, 21);
  Tensor p_cpu = p.clone(), m_cpu = Tensor::zeros({1000}), v_cpu = Tensor::zeros({1000});
  Tensor p_gpu = on_gpu(p), m_gpu = Tensor::zeros({1000}, Device::CUDA), v_gpu = Tensor::zeros({1000}, Device::CUDA);
  for (int64_t step = 1; step <= 3; ++step) {
    kernels::adam_update(p_cpu, g, m_cpu, v_cpu, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, WeightDecay::Decoupled, step);
    kernels::adam_update(p_gpu, on_gpu(g), m_gpu, v_gpu, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, WeightDecay::Decoupled,
                         step);
  }
  check_same(p_gpu, p_cpu, 1e-5f, 1e-6f);
  Tensor buf_cpu = Tensor::zeros({1000}), buf_gpu = Tensor::zeros({1000}, Device::CUDA);
  kernels::sgd_update(p_cpu, g, buf_cpu, 0.1f, 0.9f, 0.0f, SgdMomentum::Nesterov);
  kernels::sgd_update(p_gpu, on_gpu(g), buf_gpu, 0.1f, 0.9f, 0.0f, SgdMomentum::Nesterov);
  check_same(p_gpu, p_cpu, 1e-5f, 1e-6f);
  CHECK(kernels::sum_of_squares(on_gpu(g)) == doctest::Approx(kernels::sum_of_squares(g)).epsilon(1e-9));
}
