// tests/layers/test_resume.cpp — training checkpoints (layers/training_checkpoint.h): 20 steps straight equal 10
// steps, a save, freshly built objects loading it, and 10 more steps, bit for bit;
// and a training checkpoint that does not fit is refused without changing anything.
//
// The model is a small MLP with dropout whose masks come from a ta::Generator, and
// whose batches come from another, so the generators' state matters. Everything
// random draws from explicit generators (never the process-wide default), so the
// resumed run shares no state with the first one except the file. "A new process"
// is played by new objects built with other seeds, which the load must overwrite.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "layers/checkpoint.h"
#include "layers/module.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "layers/training_checkpoint.h"
#include "tests/testing.h"

namespace {

using ta::Tensor;
namespace fs = std::filesystem;

constexpr int64_t kIn = 4, kHidden = 16, kBatch = 8, kTotalSteps = 20;
constexpr float kDropout = 0.25f;

struct Dense : ta::Module {
  Tensor weight, bias;
  Dense(int64_t in, int64_t out, ta::Generator& init) {
    weight = register_parameter("weight", Tensor::normal({in, out}, 0.0f, 1.0f / std::sqrt(static_cast<float>(in)), init));
    bias = register_parameter("bias", Tensor::normal({out}, 0.0f, 0.1f, init));
  }
  Tensor operator()(const Tensor& x) const { return ta::matmul(x, weight) + bias; }
};

// x + pos_embed -> fc1 -> tanh -> dropout -> fc2
struct TinyMlp : ta::Module {
  Tensor pos_embed;
  std::shared_ptr<Dense> fc1, fc2;
  explicit TinyMlp(ta::Generator& init) {
    pos_embed = register_parameter("pos_embed", Tensor::normal({1, kIn}, 0.0f, 0.1f, init));
    fc1 = register_module("fc1", std::make_shared<Dense>(kIn, kHidden, init));
    fc2 = register_module("fc2", std::make_shared<Dense>(kHidden, 1, init));
  }
  Tensor forward(const Tensor& x, ta::Generator& dropout) const {
    Tensor h = ta::tanh((*fc1)(x + pos_embed));
    Tensor keep = ta::ge(Tensor::uniform(h.shape(), 0.0f, 1.0f, dropout), Tensor::scalar(kDropout));
    return (*fc2)(h * keep / (1.0f - kDropout));
  }
};

// Everything a training run holds, built from seeds; the teacher that makes the
// targets is fixed.
struct Run {
  ta::Generator init, dropout, data;
  TinyMlp model;
  ta::AdamW opt;
  ta::WarmupCosineSchedule schedule{3e-2f, 5, kTotalSteps, 1e-3f};
  Tensor teacher;
  float max_norm_seen = 0.0f;

  explicit Run(uint64_t seed)
      : init(seed),
        dropout(seed + 1),
        data(seed + 2),
        model(init),
        opt(ta::weight_decay_groups(model.named_parameters(), 0.1f)) {
    ta::Generator teacher_gen(77);
    teacher = Tensor::normal({kIn, 1}, 0.0f, 1.0f, teacher_gen);
  }

  ta::NamedGenerators generators() { return {{"dropout", &dropout}, {"data", &data}}; }

  void train(int steps) {
    for (int i = 0; i < steps; ++i) {
      Tensor x = Tensor::normal({kBatch, kIn}, 0.0f, 1.0f, data);
      Tensor y = ta::tanh(ta::matmul(x, teacher));
      opt.zero_grad();
      ta::backward(ta::mean(ta::pow(model.forward(x, dropout) - y, 2.0f)));
      max_norm_seen = std::max(max_norm_seen, ta::clip_grad_norm(opt.parameters(), 0.5f));
      opt.step(schedule.lr(opt.step_count()));
    }
  }
};

std::map<std::string, std::vector<float>> snapshot(const ta::Module& m) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, t] : m.state_dict()) out[name] = t.to_vector();
  return out;
}

}  // namespace

TEST_CASE("training checkpoint: 20 steps equal 10, save, load into new objects, 10 more, bit for bit") {
  ta::testing::TempDir dir("resume");
  const std::string path = dir.file("train.safetensors");

  Run straight(1);
  straight.train(kTotalSteps);
  CHECK(straight.max_norm_seen > 0.5f);  // clipping did act

  {
    Run first_half(1);
    first_half.train(kTotalSteps / 2);
    ta::save_training_checkpoint(path, first_half.model, first_half.opt, first_half.generators(),
                                 {{"hidden", std::to_string(kHidden)}});
    // The file is plain safetensors with readable metadata.
    ta::Metadata meta = ta::read_safetensors_metadata(path);
    CHECK(meta.at("step") == "10");
    CHECK(meta.at("optim.kind") == "AdamW");
    CHECK(meta.at("optim.hyper.beta2") == "0.9990000128746033");  // 0.999f, exactly
    CHECK(meta.at("rng.dropout.seed") == "2");
    CHECK(meta.at("rng.data.offset") == std::to_string(first_half.data.offset));
    CHECK(meta.at("hidden") == "16");
    ta::SafetensorsContents c = ta::read_safetensors(path);
    CHECK(c.tensors.count("model.fc1.weight"));
    CHECK(c.tensors.count("optim.fc1.weight.exp_avg_sq"));
  }

  Run resumed(999);  // other initial weights and generator seeds: the load must replace them all
  ta::Metadata user = ta::load_training_checkpoint(path, resumed.model, resumed.opt, resumed.generators());
  CHECK(user == ta::Metadata{{"hidden", "16"}});
  CHECK(resumed.opt.step_count() == kTotalSteps / 2);
  resumed.train(kTotalSteps / 2);

  CHECK(resumed.opt.step_count() == straight.opt.step_count());
  CHECK(snapshot(resumed.model) == snapshot(straight.model));
  const ta::OptimizerState a = straight.opt.state(), b = resumed.opt.state();
  CHECK(a.counters == b.counters);
  for (const auto& entry : a.tensors) {
    const std::string& name = entry.first;  // not a structured binding: INFO's lambda names it (clang 14)
    INFO(name);
    CHECK(b.tensors.at(name).to_vector() == entry.second.to_vector());
  }
  CHECK(resumed.dropout.offset == straight.dropout.offset);
  CHECK(resumed.data.seed == straight.data.seed);
  CHECK(resumed.data.offset == straight.data.offset);
}

TEST_CASE("training checkpoint: a checkpoint that does not fit is refused, naming the file, and nothing changes") {
  ta::testing::TempDir dir("resume");
  const std::string path = dir.file("train.safetensors");
  Run saved(1);
  saved.train(3);
  ta::save_training_checkpoint(path, saved.model, saved.opt, saved.generators());

  Run target(5);
  const auto model_before = snapshot(target.model);
  const ta::Generator dropout_before = target.dropout;
  auto unchanged = [&] {
    CHECK(snapshot(target.model) == model_before);
    CHECK(target.opt.step_count() == 0);
    CHECK(target.dropout.seed == dropout_before.seed);
    CHECK(target.dropout.offset == dropout_before.offset);
  };
  auto refused = [&](auto load, const std::string& expected) {
    try {
      load();
      FAIL("the load succeeded");
    } catch (const ta::Error& e) {
      const std::string msg = e.what();
      INFO(msg);
      CHECK(msg.find(path) != std::string::npos);
      CHECK(msg.find(expected) != std::string::npos);
    }
    unchanged();
  };

  SUBCASE("another optimizer") {
    ta::Sgd sgd(ta::all_parameters(target.model.named_parameters()), {.momentum = 0.9f});
    refused([&] { ta::load_training_checkpoint(path, target.model, sgd, target.generators()); },
            "the state is for AdamW, this optimizer is SGD");
  }
  SUBCASE("other hyperparameters") {
    ta::AdamW other(ta::weight_decay_groups(target.model.named_parameters(), 0.1f), {.beta2 = 0.99f});
    refused([&] { ta::load_training_checkpoint(path, target.model, other, target.generators()); },
            "hyperparameter beta2 is 0.999");
  }
  SUBCASE("a generator that was not saved") {
    ta::Generator extra(3);
    refused([&] {
      ta::load_training_checkpoint(path, target.model, target.opt,
                                   {{"dropout", &target.dropout}, {"data", &target.data}, {"noise", &extra}});
    }, "no \"rng.noise.seed\" in the metadata");
  }
  SUBCASE("a saved generator not passed in") {
    refused([&] { ta::load_training_checkpoint(path, target.model, target.opt, {{"dropout", &target.dropout}}); },
            "no generator 'data' was passed in");
  }
  SUBCASE("a plain model file") {
    ta::save_model(path, saved.model);
    refused([&] { ta::load_training_checkpoint(path, target.model, target.opt, target.generators()); },
            "unexpected tensor 'fc1.bias' (expected model.* or optim.*)");
  }
  SUBCASE("a truncated file") {
    fs::resize_file(path, fs::file_size(path) - 4);
    refused([&] { ta::load_training_checkpoint(path, target.model, target.opt, target.generators()); },
            "the file is truncated");
  }
  SUBCASE("reserved metadata keys are refused on saving") {
    CHECK_THROWS_WITH_AS(ta::save_training_checkpoint(path, saved.model, saved.opt, {}, {{"step", "3"}}),
                         doctest::Contains("metadata key \"step\" is reserved"), ta::Error);
    CHECK_THROWS_WITH_AS(ta::save_training_checkpoint(path, saved.model, saved.opt, {}, {{"rng.x", "3"}}),
                         doctest::Contains("is reserved"), ta::Error);
  }
}

TEST_CASE("training checkpoint: its model alone loads into a model, the optimizer and generators left unread") {
  ta::testing::TempDir dir("model_only");
  const std::string path = dir.file("train.safetensors");
  Run saved(1);
  saved.train(3);
  ta::save_training_checkpoint(path, saved.model, saved.opt, saved.generators(), {{"note", "kept"}});

  Run user(5);
  const ta::Metadata meta = ta::load_training_checkpoint_model(path, user.model);
  CHECK(snapshot(user.model) == snapshot(saved.model));
  CHECK(meta.at("step") == "3");
  CHECK(meta.at("note") == "kept");
  CHECK(user.opt.step_count() == 0);  // untouched: the model only
  CHECK(user.dropout.offset == 0);

  Run other(7);
  const auto before = snapshot(other.model);
  ta::save_model(path, saved.model);  // weights, but not a training checkpoint
  CHECK_THROWS_WITH_AS(ta::load_training_checkpoint_model(path, other.model),
                       doctest::Contains("no \"step\" in the metadata: not a training checkpoint"), ta::Error);
  ta::Generator init(9);
  Dense wrong(kIn, 3, init);
  ta::save_training_checkpoint(path, wrong, saved.opt, {});
  CHECK_THROWS_WITH_AS(ta::load_training_checkpoint_model(path, other.model), doctest::Contains(path.c_str()), ta::Error);
  CHECK(snapshot(other.model) == before);
}

TEST_CASE("training checkpoint: counts out of range and non-finite tensors are refused before any conversion") {
  ta::testing::TempDir dir("resume");
  const std::string good = dir.file("good.safetensors"), path = dir.file("edited.safetensors");
  Run saved(1);
  saved.train(3);
  ta::save_training_checkpoint(good, saved.model, saved.opt, saved.generators());
  const ta::SafetensorsContents contents = ta::read_safetensors(good);
  REQUIRE(contents.metadata.count("optim.count.fc1.weight.step"));

  Run target(5);
  const auto model_before = snapshot(target.model);
  const auto moments_before = target.opt.state().tensors.at("fc1.weight.exp_avg").to_vector();
  auto refused = [&](const std::string& expected) {
    const std::string msg = ta::testing::error_message(
        [&] { ta::load_training_checkpoint(path, target.model, target.opt, target.generators()); });
    INFO(msg);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find(expected) != std::string::npos);
    CHECK(snapshot(target.model) == model_before);
    CHECK(target.opt.step_count() == 0);
    CHECK(target.opt.state().tensors.at("fc1.weight.exp_avg").to_vector() == moments_before);
  };

  // Counters are doubles in the file; each of these once reached a float-to-int64
  // conversion (undefined behaviour) or loaded as a wrong count.
  for (const char* key : {"step", "optim.count.fc1.weight.step"}) {
    for (const char* value : {"inf", "-inf", "nan", "1e19", "9223372036854775808", "9223372036854775807",
                              "9007199254740994", "-1", "2.5"}) {
      CAPTURE(key);
      CAPTURE(value);
      ta::Metadata meta = contents.metadata;
      meta[key] = value;
      ta::write_safetensors(path, contents.tensors, meta);
      const std::string counter = std::string(key) == "step" ? "step" : "fc1.weight.step";
      refused("counter " + counter + " is ");
      refused("expected a whole number from 0 to 2^53");
    }
  }
  // A generator's state must be a 64-bit whole number.
  for (const char* value : {"1e19", "18446744073709551616", "-1", "nan"}) {
    CAPTURE(value);
    ta::Metadata meta = contents.metadata;
    meta["rng.dropout.offset"] = value;
    ta::write_safetensors(path, contents.tensors, meta);
    refused(std::string("metadata \"rng.dropout.offset\" is \"") + value + "\", expected a number");
  }
  // NaN or infinity in the model or in the optimizer's moments.
  for (const char* name : {"model.fc1.weight", "optim.fc2.bias.exp_avg_sq"}) {
    CAPTURE(name);
    std::map<std::string, Tensor> tensors = contents.tensors;
    std::vector<float> values = tensors.at(name).to_vector();
    values.back() = std::numeric_limits<float>::infinity();
    tensors[name] = Tensor::from_vector(values, tensors.at(name).shape());
    ta::write_safetensors(path, tensors, contents.metadata);
    refused(std::string("tensor '") + name + "'");
    refused("holds 1 NaN or infinite value; the first is inf");
  }
  // The unedited file loads.
  ta::load_training_checkpoint(good, target.model, target.opt, target.generators());
  CHECK(target.opt.step_count() == 3);
}
