// layers/training_checkpoint.cpp — a model, its optimizer and the generators in
// one safetensors file, and back.
#include "layers/training_checkpoint.h"

#include <charconv>
#include <optional>

#include "core/error.h"
#include "layers/checkpoint.h"

namespace ta {

namespace {

const std::string kModel = "model.", kOptim = "optim.", kHyper = "optim.hyper.", kCount = "optim.count.",
                  kRng = "rng.";

bool reserved(const std::string& key) { return key == "step" || key.starts_with(kOptim) || key.starts_with(kRng); }

// The shortest decimal text that reads back as the same double.
std::string to_text(double x) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, end);
}

template <class T>
std::optional<T> from_text(const std::string& s) {
  T x{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return x;
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw Error(cat("load_training_checkpoint: '", path, "': ", problem));
}

// The metadata value `key` parsed as T, or a failure naming the file and the key.
template <class T>
T number(const std::string& path, const Metadata& meta, const std::string& key) {
  auto it = meta.find(key);
  if (it == meta.end()) fail(path, cat("no \"", key, "\" in the metadata: not a training checkpoint, or an incomplete one"));
  std::optional<T> x = from_text<T>(it->second);
  if (!x) fail(path, cat("metadata \"", key, "\" is \"", it->second, "\", expected a number"));
  return *x;
}

}  // namespace

void save_training_checkpoint(const std::string& path, const Module& model, const Optimizer& optimizer,
                              const NamedGenerators& generators, const Metadata& metadata) {
  std::map<std::string, Tensor> tensors;
  for (const auto& [name, t] : model.state_dict()) tensors[kModel + name] = t;
  Metadata meta;
  for (const auto& [key, value] : metadata) {
    TA_CHECK(!reserved(key), "save_training_checkpoint: metadata key \"", key,
             "\" is reserved (\"step\", \"optim.*\", \"rng.*\")");
    meta[key] = value;
  }
  const OptimizerState s = optimizer.state();
  for (const auto& [name, t] : s.tensors) tensors[kOptim + name] = t;
  meta["optim.kind"] = s.kind;
  for (const auto& [k, v] : s.hyper) meta[kHyper + k] = to_text(v);
  for (const auto& [k, v] : s.counters) meta[k == "step" ? "step" : kCount + k] = to_text(v);
  for (const auto& [name, gen] : generators) {
    TA_CHECK(gen != nullptr, "save_training_checkpoint: generator '", name, "' is null");
    meta[cat(kRng, name, ".seed")] = std::to_string(gen->seed);
    meta[cat(kRng, name, ".offset")] = std::to_string(gen->offset);
  }
  write_safetensors(path, tensors, meta);
}

Metadata load_training_checkpoint(const std::string& path, Module& model, Optimizer& optimizer,
                                  const NamedGenerators& generators) {
  SafetensorsContents file = read_safetensors(path);
  const Metadata& meta = file.metadata;

  // 1. Rebuild the model's state dict and the optimizer's state from the file.
  std::map<std::string, Tensor> model_state;
  OptimizerState opt_state;
  for (const auto& [name, t] : file.tensors) {
    if (name.starts_with(kModel)) model_state[name.substr(kModel.size())] = t;
    else if (name.starts_with(kOptim)) opt_state.tensors[name.substr(kOptim.size())] = t;
    else fail(path, cat("unexpected tensor '", name, "' (expected model.* or optim.*)"));
  }
  auto kind = meta.find("optim.kind");
  if (kind == meta.end()) fail(path, "no \"optim.kind\" in the metadata: not a training checkpoint");
  opt_state.kind = kind->second;
  opt_state.counters["step"] = number<double>(path, meta, "step");
  Metadata user;
  for (const auto& [key, value] : meta) {
    if (key.starts_with(kHyper)) opt_state.hyper[key.substr(kHyper.size())] = number<double>(path, meta, key);
    else if (key.starts_with(kCount)) opt_state.counters[key.substr(kCount.size())] = number<double>(path, meta, key);
    else if (!reserved(key)) user[key] = value;
  }

  // 2. The generators: exactly the saved names.
  std::map<std::string, Generator> restored;
  for (const auto& [name, gen] : generators) {
    TA_CHECK(gen != nullptr, "load_training_checkpoint: generator '", name, "' is null");
    Generator g(number<uint64_t>(path, meta, cat(kRng, name, ".seed")));
    g.offset = number<uint64_t>(path, meta, cat(kRng, name, ".offset"));
    restored.emplace(name, g);
  }
  for (const auto& [key, value] : meta) {
    if (!key.starts_with(kRng)) continue;
    std::string name = key.substr(kRng.size());
    for (const char* field : {".seed", ".offset"})
      if (name.ends_with(field)) name.resize(name.size() - std::string(field).size());
    if (!generators.count(name))
      fail(path, cat("metadata \"", key, "\" holds a generator's state, but no generator '", name, "' was passed in"));
  }

  // 3. Check everything against the objects, and every value finite, then change them.
  check_model_state("load_training_checkpoint", path, model, model_state);
  check_finite("load_training_checkpoint", path, file.tensors);
  try {
    optimizer.check_state(opt_state);
  } catch (const Error& e) {
    fail(path, e.what());
  }
  model.load_state_dict(model_state);
  optimizer.load_state(opt_state);
  for (const auto& [name, gen] : generators) *gen = restored.at(name);
  return user;
}

Metadata load_training_checkpoint_model(const std::string& path, Module& model) {
  SafetensorsContents file = read_safetensors(path);
  number<double>(path, file.metadata, "step");  // a training checkpoint, not any safetensors file
  std::map<std::string, Tensor> model_state;
  for (const auto& [name, t] : file.tensors)
    if (name.starts_with(kModel)) model_state[name.substr(kModel.size())] = t;
  check_model_state("load_training_checkpoint_model", path, model, model_state);
  check_finite("load_training_checkpoint_model", path, model_state);
  model.load_state_dict(model_state);
  return file.metadata;
}

}  // namespace ta
