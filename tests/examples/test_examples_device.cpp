// The example programs' --device path without a GPU: the CIFAR-10 and protein
// models built for Device::CUDA on the CPU-backed fake device (tests/fake_cuda.h)
// train, evaluate and sample exactly as on the CPU, so every batch, id and mask the
// programs make reaches the model's device.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "examples/cifar_gen/model.h"
#include "examples/cifar_gen/sampling.h"
#include "examples/cifar_gen/training.h"
#include "examples/protein_lm/model.h"
#include "tests/examples/cifar_testing.h"
#include "tests/examples/protein_testing.h"
#include "tests/fake_cuda.h"
#include "tinyattn.h"

using namespace ta;

namespace {

const std::string kData = "examples/data/cifar10";

struct CifarRun {
  std::vector<double> losses;
  double bpd = 0;
  std::vector<std::vector<uint8_t>> samples;
};

// Two training steps, the score on the images, and a few sampled tokens.
CifarRun cifar_run(Device device, const cifar::Dataset& d) {
  cifar::ModelOptions m = ta::testing::tiny_image_model("sparse-strided");
  m.device = device;
  cifar::TrainOptions o;
  o.batch = 1;
  o.steps = 2;
  o.warmup = 1;
  cifar::Trainer trainer(m, o);
  CifarRun r;
  while (!trainer.finished(0)) r.losses.push_back(trainer.step(d, trainer.lr(0)).loss);
  r.bpd = cifar::evaluate_bpd(*trainer.model, d, 2, 2);
  const int64_t prefix = cifar::kTokens - 3;
  std::vector<uint8_t> prefixes(d.image(0), d.image(0) + prefix);
  Generator gen(9);
  r.samples = cifar::generate(*trainer.model, 1, prefixes, prefix, 1.0f, gen);
  for (const auto& [key, p] : trainer.model->named_parameters()) {
    const std::string name = key;  // clang 14: doctest's messages cannot name a binding
    CHECK_MESSAGE(p.device() == device, name);
  }
  return r;
}

}  // namespace

TEST_CASE("examples on another device: cifar_gen trains, scores and samples as on the CPU") {
  cifar::Dataset all = cifar::load_file(kData + "/test.bin"), d;
  d.tokens.assign(all.tokens.begin(), all.tokens.begin() + 2 * cifar::kTokens);
  d.labels.assign(all.labels.begin(), all.labels.begin() + 2);
  const CifarRun cpu = cifar_run(Device::CPU, d);
  CifarRun dev;
  {
    ta::testing::FakeCuda cuda;
    REQUIRE_NOTHROW(dev = cifar_run(Device::CUDA, d));
  }
  CHECK(dev.losses == cpu.losses);
  CHECK(dev.bpd == cpu.bpd);
  CHECK(dev.samples == cpu.samples);
}

TEST_CASE("examples on another device: a protein_lm step with padding equals the CPU's") {
  auto run = [](Device device) {
    protein::ModelOptions m = ta::testing::tiny("performer", protein::Objective::Causal);
    m.max_len = 16;
    m.device = device;
    auto model = protein::build_model(m);
    AdamW opt(all_parameters(model->named_parameters(), 0.01f));
    protein::Batch b;  // two rows, the second padded after 5 tokens
    std::vector<float> in, out, pad;
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t t = 0; t < 8; ++t) {
        const bool padded = r == 1 && t >= 5;
        in.push_back(padded ? 0.0f : static_cast<float>(4 + (3 * t + r) % 20));
        out.push_back(padded ? -100.0f : static_cast<float>(4 + (3 * t + r + 1) % 20));
        pad.push_back(padded ? 1.0f : 0.0f);
      }
    b.inputs = Tensor::from_vector(in, Shape{2, 8});
    b.targets = Tensor::from_vector(out, Shape{2, 8});
    b.padding = Tensor::from_vector(pad, Shape{2, 8});
    std::vector<double> losses;
    for (int i = 0; i < 2; ++i) losses.push_back(protein::train_step(*model, opt, b, 1e-2f, 1.0f).loss);
    return losses;
  };
  const std::vector<double> cpu = run(Device::CPU);
  std::vector<double> dev;
  {
    ta::testing::FakeCuda cuda;
    REQUIRE_NOTHROW(dev = run(Device::CUDA));
  }
  CHECK(dev == cpu);
}
