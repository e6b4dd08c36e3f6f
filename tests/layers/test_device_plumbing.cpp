// Device plumbing without a GPU: the CPU kernels are put behind Device::CUDA
// (tests/fake_cuda.h), a model is moved there with Module::to, and every
// registered attention variant is trained a step and decoded on that "device". Any
// tensor a layer makes on the CPU by mistake meets the device tensors in some op and
// fails the mixed-device check; the numbers must equal the same model's on the CPU
// (same kernels, so bit for bit). On a real GPU the same model code runs unchanged.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/fake_cuda.h"
#include "tinyattn.h"

using namespace ta;
using ta::testing::FakeCuda;

namespace {

std::shared_ptr<TransformerLM> small_model(const std::string& attention, bool causal) {
  // previous_tokens: the shifted ids are built on the device too.
  TransformerConfig c{.vocab_size = 11, .d_model = 16, .n_layers = 2, .max_len = 40, .causal = causal,
                      .dropout = 0.1f, .seed = 3, .previous_tokens = causal ? 2 : 0};
  auto gen = std::make_shared<Generator>(5);
  return std::make_shared<TransformerLM>(c, [attention, causal, gen](int64_t index) {
    AttentionConfig a{.name = attention, .d_model = 16, .heads = 2, .causal = causal, .layer = index};
    const AttentionVariant& variant = find_attention_variant(attention);
    a.options = variant.test_options.front();  // the variant's small sizes
    const std::string redraw = "performer-redraw-interval";  // redraws on the device during the step below
    for (const OptionSpec& o : variant.options)
      if (o.name == redraw) a.options.insert_or_assign(redraw, std::to_string(1));
    return make_attention(a, *gen);
  });
}

Tensor ids_of(int64_t batch, int64_t n, uint64_t seed) {
  Generator g(seed);
  std::vector<float> v;
  for (int64_t i = 0; i < batch * n; ++i) v.push_back(static_cast<float>(static_cast<int64_t>(g.next_uniform() * 11) % 11));
  return Tensor::from_vector(v, Shape{batch, n});
}

// Loss, gradients and one AdamW step; returns the logits, then every parameter after the step.
std::vector<std::vector<float>> train_step(TransformerLM& model, Device device) {
  AdamW opt(all_parameters(model.named_parameters(), 0.01f));
  const Tensor ids = ids_of(2, 19, 7).to(device), targets = ids_of(2, 19, 8).to(device);
  Tensor logits = model.forward(ids);
  backward(cross_entropy(logits, targets));
  opt.step(1e-2f);
  std::vector<std::vector<float>> out{logits.to_vector()};
  for (const auto& [key, p] : model.named_parameters()) {
    const std::string name = key;  // clang 14: doctest's messages cannot name a binding
    CHECK_MESSAGE(p.device() == device, name);
    out.push_back(p.to_vector());
  }
  return out;
}

// Every registered variant: a training step and ten decoding steps on the CPU and on
// Device::CUDA (the fake device when `fake`, else the real GPU), compared element by
// element: |cuda - cpu| <= tol (1 + |cpu|); tol 0 asks for equality.
void check_every_variant_on_cuda(bool fake, float tol) {
  auto close = [tol](const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!(std::abs(a[i] - b[i]) <= tol * (1.0f + std::abs(b[i])))) return false;
    return true;
  };
  for (const AttentionVariant& v : attention_variants()) {
    const bool causal = v.supports_causal;
    CAPTURE(v.name);
    auto on_cpu = small_model(v.name, causal);
    const std::vector<std::vector<float>> expected = train_step(*on_cpu, Device::CPU);
    std::vector<std::vector<float>> got;
    std::vector<float> decoded_cpu, decoded_dev;
    {
      std::optional<FakeCuda> cuda;
      if (fake) cuda.emplace();
      auto on_dev = small_model(v.name, causal);
      on_dev->to(Device::CUDA);
      for (const auto& [key, b] : on_dev->named_buffers()) {
        const std::string name = key;  // clang 14: doctest's messages cannot name a binding
        CHECK_MESSAGE(b.device() == Device::CUDA, name);
      }
      REQUIRE_NOTHROW(got = train_step(*on_dev, Device::CUDA));
      if (causal) {  // a few decoding steps on both, from the trained weights
        on_cpu->eval();
        on_dev->eval();
        auto s_cpu = on_cpu->start_decoding(1);
        auto s_dev = on_dev->start_decoding(1);
        for (int64_t t = 0; t < 10; ++t) {
          const Tensor id = Tensor::from_vector({static_cast<float>(t % 11)}, Shape{1});
          for (float x : on_cpu->step(id, s_cpu).to_vector()) decoded_cpu.push_back(x);
          for (float x : on_dev->step(id.to(Device::CUDA), s_dev).to_vector()) decoded_dev.push_back(x);
        }
      }
    }  // every device tensor is gone before a fake device is
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK_MESSAGE(close(got[i], expected[i]), "logits or parameter ", i);
    CHECK(close(decoded_dev, decoded_cpu));
  }
}

}  // namespace

TEST_CASE("device plumbing: every attention variant trains and decodes on another device, equal to the CPU") {
  check_every_variant_on_cuda(/*fake=*/true, /*tol=*/0.0f);
}

// The layer and conformance-level check on a real GPU: the same models, the CUDA
// kernels (own reductions, cuBLAS, the fused cores) against the CPU's, to float
// rounding after a training step.
TEST_CASE("device plumbing: every attention variant on the real GPU, close to the CPU") {
  if (!cuda_available()) {
    MESSAGE("skipped: no CUDA device in this build or on this machine");
    return;
  }
  check_every_variant_on_cuda(/*fake=*/false, /*tol=*/2e-3f);
}

TEST_CASE("device plumbing: mixing devices is an error that names both") {
  FakeCuda cuda;
  const Tensor a = Tensor::ones(Shape{3});
  const Tensor b = Tensor::ones(Shape{3}, Device::CUDA);
  CHECK_THROWS_WITH(a + b, doctest::Contains("different devices (cpu and cuda)"));
  Generator gen(1);
  Linear layer(3, 2, gen);
  layer.to(Device::CUDA);
  CHECK(layer.weight.device() == Device::CUDA);
  CHECK_THROWS_WITH(layer.forward(Tensor::ones(Shape{1, 3})), doctest::Contains("different devices"));
  CHECK(layer.forward(reshape(b, Shape{1, 3})).device() == Device::CUDA);
}
