// tests/examples/test_cifar.cpp — the CIFAR-10 image-model example
// (examples/cifar_gen, whose files other than main.cpp the Makefile links in here):
//   - the loader on the bundled files (counts, labels, pixels against the raw
//     bytes) and on missing, empty, truncated, wrong-sized and mislabelled copies,
//     each an error naming the file and what was expected;
//   - the token layout: record planes -> tokens -> planes, and the shifted batches;
//   - bits per dim: exactly 8 for a uniform model, 1.5 for a hand-computed case;
//   - a tiny model's loss falls in a few steps on a handful of images;
//   - incremental sampling draws the same tokens as full forward passes;
//   - resuming from a checkpoint equals training straight through, bit for bit;
//   - the time limit: the cosine follows the clock, and training stops on time.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "layers/init.h"
#include "examples/cifar_gen/cifar_data.h"
#include "examples/cifar_gen/model.h"
#include "examples/cifar_gen/sampling.h"
#include "examples/cifar_gen/training.h"
#include "tests/examples/cifar_testing.h"
#include "tests/layers/layer_testing.h"
#include "tests/testing.h"

namespace {

using ta::Shape;
using ta::Tensor;
using namespace ta::testing;
namespace cifar = ta::cifar;

const std::string kData = "examples/data/cifar10";  // the suite runs from the repository root

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<char>& bytes, size_t count) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(count));
}

// The first `n` bundled test images: a small data set of real pictures.
cifar::Dataset first_test_images(int64_t n) {
  cifar::Dataset all = cifar::load_file(kData + "/test.bin"), d;
  d.tokens.assign(all.tokens.begin(), all.tokens.begin() + n * cifar::kTokens);
  d.labels.assign(all.labels.begin(), all.labels.begin() + n);
  return d;
}

}  // namespace

// ---- data ------------------------------------------------------------------------

TEST_CASE("cifar loader: the bundled files, their labels and pixels in token order") {
  const cifar::Dataset train = cifar::load_split(kData, cifar::Split::Train);
  const cifar::Dataset test = cifar::load_split(kData, cifar::Split::Test);
  REQUIRE(train.size() == 4000);
  REQUIRE(test.size() == 1000);
  CHECK(train.tokens.size() == 4000u * 3072u);
  // The well-known first labels of data_batch_1 (frog truck truck deer automobile ...)
  // and test_batch (cat ship ship airplane frog ...).
  CHECK(std::vector<uint8_t>(train.labels.begin(), train.labels.begin() + 10) ==
        std::vector<uint8_t>{6, 9, 9, 4, 1, 1, 2, 7, 8, 3});
  CHECK(std::vector<uint8_t>(test.labels.begin(), test.labels.begin() + 10) ==
        std::vector<uint8_t>{3, 8, 8, 0, 6, 6, 1, 6, 3, 1});
  // Pixel (row 5, col 7) of test image 2 against the raw record: R, G, B planes.
  const std::vector<char> raw = read_bytes(kData + "/test.bin");
  const size_t record = 2 * 3073, p = 5 * 32 + 7;
  for (int c = 0; c < 3; ++c)
    CHECK(test.image(2)[p * 3 + c] == static_cast<uint8_t>(raw[record + 1 + c * 1024 + p]));
}

TEST_CASE("cifar loader: missing, empty, truncated, wrong-sized and mislabelled files are clear errors") {
  TempDir dir("cifar");
  const std::vector<char> raw = read_bytes(kData + "/test.bin");
  const std::string path = dir.file("test.bin");

  write_bytes(path, raw, 3 * 3073);  // three whole records: fine
  CHECK(cifar::load_file(path).size() == 3);

  write_bytes(path, raw, 3 * 3073 - 100);  // cut inside a record
  std::string e = error_message([&] { cifar::load_file(path); });
  CHECK(e.find(path) != std::string::npos);
  CHECK(e.find("9119 bytes, not a whole number of 3073-byte records") != std::string::npos);

  write_bytes(path, raw, 0);
  e = error_message([&] { cifar::load_file(path); });
  CHECK(e.find(path) != std::string::npos);
  CHECK(e.find("0 bytes") != std::string::npos);

  // An official file must hold 10,000 records; a copy with 2 is truncated.
  const std::string official = dir.file("test_batch.bin");
  write_bytes(official, raw, 2 * 3073);
  e = error_message([&] { cifar::load_file(official, cifar::kOfficialRecords); });
  CHECK(e.find(official) != std::string::npos);
  CHECK(e.find("has 2 records (6146 bytes), expected 10000 (30730000 bytes)") != std::string::npos);

  std::vector<char> bad(raw.begin(), raw.begin() + 2 * 3073);
  bad[3073] = 10;  // the second record's label
  write_bytes(path, bad, bad.size());
  e = error_message([&] { cifar::load_file(path); });
  CHECK(e.find("record 1 has label 10 (expected 0..9)") != std::string::npos);

  e = error_message([&] { cifar::load_file(dir.file("none.bin")); });
  CHECK(e.find(dir.file("none.bin")) != std::string::npos);
  CHECK(e.find("cannot open") != std::string::npos);

  // Folders: missing; holding neither layout; the official layout with a short batch.
  e = error_message([&] { cifar::load_split(dir.file("nowhere"), cifar::Split::Train); });
  CHECK(e.find("data folder '" + dir.file("nowhere") + "' not found") != std::string::npos);
  TempDir empty("cifar");
  e = error_message([&] { cifar::load_split(empty.path.string(), cifar::Split::Train); });
  CHECK(e.find("missing " + empty.file("data_batch_1.bin")) != std::string::npos);
  e = error_message([&] { cifar::load_split(empty.path.string(), cifar::Split::Test); });
  CHECK(e.find("expected test.bin or the official test_batch.bin") != std::string::npos);
  std::filesystem::remove(path);
  e = error_message([&] { cifar::load_split(dir.path.string(), cifar::Split::Test); });  // finds the short test_batch.bin
  CHECK(e.find("expected 10000") != std::string::npos);
}

TEST_CASE("cifar tokens: planes -> tokens -> planes round trip; batches are shifted by one") {
  std::vector<uint8_t> planes(3072);
  for (size_t i = 0; i < planes.size(); ++i) planes[i] = static_cast<uint8_t>((i * 7 + i / 1024) % 256);
  const std::vector<uint8_t> tokens = cifar::planes_to_tokens(planes.data());
  // Token (row * 32 + col) * 3 + channel holds plane `channel` at (row, col).
  CHECK(tokens[(3 * 32 + 4) * 3 + 2] == planes[2 * 1024 + 3 * 32 + 4]);
  CHECK(tokens[1] == planes[1024]);
  CHECK(cifar::tokens_to_planes(tokens.data()) == planes);

  const cifar::Dataset d = first_test_images(2);
  Tensor inputs, targets;
  cifar::make_batch(d, {1, 0}, inputs, targets);
  REQUIRE(inputs.shape() == Shape{2, 3072});
  const std::vector<float> in = inputs.to_vector(), out = targets.to_vector();
  CHECK(in[0] == 256.0f);  // the start token
  for (int64_t t = 0; t < 3072; ++t) {
    CHECK(out[t] == d.image(1)[t]);
    if (t > 0) CHECK(in[3072 + t] == d.image(0)[t - 1]);
  }
}

// ---- the score -------------------------------------------------------------------

TEST_CASE("cifar bits/dim: a uniform model scores exactly 8; a hand-computed case scores 1.5") {
  const Tensor targets = Tensor::from_vector({0, 17, 255, 128}, Shape{1, 4});
  Tensor uniform = Tensor::zeros(Shape{1, 4, cifar::kVocab});
  CHECK(cifar::bits_per_dim(cifar::pixel_loss(uniform, targets).item()) == doctest::Approx(8.0).epsilon(1e-6));

  // Target logit ln 255, the other 255 values 0: p = 255 / (255 + 255) = 1/2, 1 bit.
  // Target logit ln 85: p = 85 / (85 + 255) = 1/4, 2 bits. Mean 1.5. The start
  // token's logit (index 256) is not a value: a large one changes nothing.
  std::vector<float> z(2 * cifar::kVocab, 0.0f);
  z[40] = std::log(255.0f);
  z[cifar::kVocab + 200] = std::log(85.0f);
  z[256] = z[cifar::kVocab + 256] = 30.0f;
  const Tensor logits = Tensor::from_vector(z, Shape{1, 2, cifar::kVocab});
  const double bpd = cifar::bits_per_dim(cifar::pixel_loss(logits, Tensor::from_vector({40, 200}, Shape{1, 2})).item());
  CHECK(bpd == doctest::Approx(1.5).epsilon(1e-5));
}

TEST_CASE("cifar model: an attention variant without a causal mode is an error listing those with one") {
  const std::string e = error_message([] { cifar::build_model(tiny_image_model("nystrom")); });
  CHECK(e.find("'nystrom' is not a causal variant") != std::string::npos);
  CHECK(e.find("sparse-strided") != std::string::npos);
  CHECK(error_message([] { cifar::build_model(tiny_image_model("no-such")); }).find("performer") != std::string::npos);
}

// ---- training --------------------------------------------------------------------

TEST_CASE("cifar training: a tiny model's loss falls over a few steps on a handful of images") {
  const cifar::Dataset d = first_test_images(4);
  cifar::TrainOptions o;
  o.batch = 1;
  o.steps = 15;
  o.warmup = 2;
  o.lr = 3e-2f;
  cifar::Trainer trainer(tiny_image_model("sparse-strided"), o);
  const double before = cifar::evaluate_bpd(*trainer.model, d, 4, 4);
  CHECK(before == doctest::Approx(8.0).epsilon(0.01));  // about uniform at initialization
  while (!trainer.finished(0)) trainer.step(d, trainer.lr(0));
  const double after = cifar::evaluate_bpd(*trainer.model, d, 4, 4);
  INFO("bits/dim before ", before, ", after ", after);
  CHECK(after < before - 0.5);
}

TEST_CASE("cifar resume: 4 steps, a checkpoint, fresh objects and 4 more equal 8 steps straight, bit for bit") {
  TempDir dir("cifar");
  const cifar::Dataset d = first_test_images(6);
  cifar::ModelOptions m = tiny_image_model("sparse-strided");
  m.dropout = 0.1f;  // the model's generator matters too
  cifar::TrainOptions o;
  o.batch = 1;
  o.steps = 8;
  o.warmup = 2;
  auto train = [&](cifar::Trainer& t, int steps, std::vector<double>& losses) {
    for (int i = 0; i < steps; ++i) losses.push_back(t.step(d, t.lr(0)).loss);
  };
  std::vector<double> straight_losses, resumed_losses;
  cifar::Trainer straight(m, o);
  train(straight, 8, straight_losses);

  cifar::Trainer first(m, o);
  train(first, 4, resumed_losses);
  first.save(dir.file("ckpt.safetensors"), {{"elapsed_s", "12.5"}});
  cifar::ModelOptions other = m;
  other.seed = 99;  // other initial weights and generators: loading must replace them all
  cifar::Trainer second(other, o);
  CHECK(second.load(dir.file("ckpt.safetensors")).at("elapsed_s") == "12.5");
  CHECK(second.steps_done() == 4);
  train(second, 4, resumed_losses);

  CHECK(resumed_losses == straight_losses);
  ta::testing::check_same_state(*straight.model, *second.model);
}

TEST_CASE("cifar time limit: training stops on time and the cosine follows the clock") {
  cifar::TrainOptions o;
  o.steps = 1000;
  o.warmup = 0;
  o.lr = 1e-3f;
  o.time_limit_s = 60;
  cifar::Trainer t(tiny_image_model("softmax"), o);
  CHECK(t.lr(0) == doctest::Approx(1e-3));
  CHECK(t.lr(30) == doctest::Approx((1e-3 + 1e-4) / 2));  // half the time: half-way down the cosine
  CHECK(t.lr(60) == doctest::Approx(1e-4));
  CHECK_FALSE(t.finished(59.9));
  CHECK(t.finished(60));
  o.time_limit_s = 0;  // no limit: steps only
  cifar::Trainer u(tiny_image_model("softmax"), o);
  CHECK(u.lr(30) == doctest::Approx(1e-3));
  CHECK_FALSE(u.finished(1e9));
}

// ---- sampling ----------------------------------------------------------------------

TEST_CASE("cifar sampling: incremental decoding draws the same tokens as full forward passes") {
  const cifar::Dataset d = first_test_images(2);
  const int64_t prefix = cifar::kTokens - 8;  // decode all 3072 positions, draw the last 8
  std::vector<uint8_t> prefixes(2 * prefix);
  for (int64_t i = 0; i < 2; ++i) std::copy_n(d.image(i), prefix, prefixes.begin() + i * prefix);
  for (const std::string attention : {"softmax", "sparse-strided", "performer", "flash"}) {
    INFO(attention);
    auto model_ptr = cifar::build_model(tiny_image_model(attention));
    ta::TransformerLM& model = *model_ptr;
    ta::init::scale_(model.head->weight, 100.0f);  // logits far from uniform: the draws depend on them

    ta::Generator gen(42);
    const auto images = cifar::generate(model, 2, prefixes, prefix, 0.8f, gen);

    // The same draws from full passes over each image so far (causal: the tokens
    // after t, left from the original image, cannot change position t).
    ta::Generator ref_gen(42);
    cifar::Dataset ref = d;
    ta::NoGradGuard no_grad;
    model.eval();
    for (int64_t t = prefix; t < cifar::kTokens; ++t) {
      Tensor inputs, targets;
      cifar::make_batch(ref, {0, 1}, inputs, targets);
      const std::vector<float> z = model.forward(inputs).to_vector();
      for (int64_t i = 0; i < 2; ++i)
        ref.tokens[i * cifar::kTokens + t] =
            cifar::sample_token(&z[(i * cifar::kTokens + t) * cifar::kVocab], 0.8f, ref_gen);
    }
    int drawn_differently = 0;  // from the original image: the draws are not a copy
    for (int64_t i = 0; i < 2; ++i) {
      CHECK(std::vector<uint8_t>(images[i].begin(), images[i].begin() + prefix) ==
            std::vector<uint8_t>(d.image(i), d.image(i) + prefix));
      CHECK(images[i] == std::vector<uint8_t>(ref.image(i), ref.image(i) + cifar::kTokens));
      for (int64_t t = prefix; t < cifar::kTokens; ++t) drawn_differently += images[i][t] != d.image(i)[t];
    }
    CHECK(drawn_differently > 8);
  }
}
