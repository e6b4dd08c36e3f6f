// tests/fuzz/fuzz_checkpoint.cpp — the checkpoint loaders (load_model and
// load_training_checkpoint) on arbitrary files, into a small model with an Adam
// optimizer and a generator.
//
// Properties: each load returns or throws ta::Error, and a load that throws left
// the model, the optimizer (step, counts, moments) and the generator exactly as
// they were. Seeds: a model checkpoint and a training checkpoint of this model,
// written into the corpus folder on start, and tests/data/safetensors_malformed/.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "layers/checkpoint.h"
#include "optim/adam.h"
#include "layers/training_checkpoint.h"
#include "tests/fuzz/fuzz_common.h"

using namespace ta;

namespace {

struct Small : Module {
  Small() {
    register_parameter("weight", Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}));
    register_parameter("bias", Tensor::from_vector({-1, -2, -3}, {3}));
    register_buffer("scale", Tensor::from_vector({0.5f}, {1}));
  }
};

// Everything a load could change, as plain values.
struct Snapshot {
  std::map<std::string, std::vector<float>> tensors;
  std::map<std::string, double> counters;
  uint64_t seed = 0, offset = 0;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const Module& m, const Optimizer& opt, const Generator& gen) {
  Snapshot s;
  for (const auto& [name, t] : m.state_dict()) s.tensors["model." + name] = t.to_vector();
  const OptimizerState st = opt.state();
  for (const auto& [name, t] : st.tensors) s.tensors["optim." + name] = t.to_vector();
  s.counters = st.counters;
  s.seed = gen.seed;
  s.offset = gen.offset;
  return s;
}

// One Adam step with a gradient of ones for every parameter, so that the state
// has moments and counts.
void train_one_step(Adam& opt) {
  for (Tensor p : opt.parameters()) p.set_grad(Tensor::ones(p.shape()));
  opt.step(0.1f);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  const std::string model_path = fuzz::scratch_path("seed_model.safetensors"),
                    training_path = fuzz::scratch_path("seed_training.safetensors");
  Small m;
  Adam opt(all_parameters(m.named_parameters()));
  train_one_step(opt);
  Generator gen(7);
  gen.advance(100);
  save_model(model_path, m, {{"d_model", "3"}});
  save_training_checkpoint(training_path, m, opt, {{"dropout", &gen}}, {{"note", "seed"}});
  fuzz::seed_corpus(*argc, *argv,
                    {{"seed_model.safetensors", fuzz::read_file(model_path)},
                     {"seed_training.safetensors", fuzz::read_file(training_path)}});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = fuzz::scratch_path("input.safetensors");
  fuzz::write_file(path, data, size);

  Small m;
  Adam opt(all_parameters(m.named_parameters()));
  Generator gen(3);
  const Snapshot before = snapshot(m, opt, gen);
  try {
    load_model(path, m);
  } catch (const Error&) {
    FUZZ_CHECK(snapshot(m, opt, gen) == before);
  }

  Small m2;
  Adam opt2(all_parameters(m2.named_parameters()));
  train_one_step(opt2);
  Generator gen2(5);
  const Snapshot before2 = snapshot(m2, opt2, gen2);
  try {
    load_training_checkpoint(path, m2, opt2, {{"dropout", &gen2}});
    opt2.step(0.1f);  // a loaded state must be usable
  } catch (const Error&) {
    FUZZ_CHECK(snapshot(m2, opt2, gen2) == before2);
  }
  return 0;
}
