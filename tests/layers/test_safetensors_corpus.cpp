// tests/layers/test_safetensors_corpus.cpp — our safetensors reader against the
// reference implementation, file by file: tests/data/safetensors_malformed/ holds
// malformed and borderline files (bad lengths, JSON and UTF-8 errors, missing,
// repeated and extra fields, bad offsets, overflowing shapes, deep nesting) and
// verdicts.txt what Python's safetensors said of each (generate.py writes both;
// no Python runs here). Every file must get the same verdict from us, except the
// valid files this framework does not hold (kNotHeldHere); a file both accept must
// read to the same metadata, names, shapes and values.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "layers/safetensors.h"

namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path("tests") / "data" / "safetensors_malformed";  // the suite runs from the repository root

// Valid safetensors (the reference accepts them) that this framework refuses, and why.
const std::map<std::string, std::string> kNotHeldHere = {
    {"seven_dims.safetensors", "7 dimensions; at most 6 are supported"},  // tensors have at most 6 dimensions
    {"dtype_i64.safetensors", "has dtype I64; expected F32"},             // float tensors only
};

struct TensorVerdict {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

struct Verdict {
  bool accept = false;
  std::string message;  // the reference's, when it refused
  ta::Metadata metadata;
  std::map<std::string, TensorVerdict> tensors;
};

std::string unhex(const std::string& hex) {
  if (hex == "-") return "";
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// verdicts.txt, as generate.py writes it (its docstring has the format).
std::map<std::string, Verdict> read_verdicts() {
  std::ifstream in(kCorpus / "verdicts.txt");
  REQUIRE_MESSAGE(in.good(), "cannot open ", (kCorpus / "verdicts.txt").string(), " (run the tests from the repository root)");
  std::map<std::string, Verdict> out;
  Verdict* current = nullptr;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind.empty() || kind[0] == '#') continue;
    if (kind == "file") {
      std::string name, verdict;
      words >> name >> verdict;
      current = &out[name];
      current->accept = verdict == "accept";
      std::getline(words, current->message);
    } else if (kind == "meta") {
      std::string k, v;
      words >> k >> v;
      current->metadata[unhex(k)] = unhex(v);
    } else if (kind == "tensor") {
      std::string name;
      TensorVerdict t;
      size_t ndim = 0, count = 0;
      words >> name >> t.dtype >> ndim;
      t.shape.resize(ndim);
      for (int64_t& d : t.shape) words >> d;
      words >> count;
      for (size_t i = 0; i < count; ++i) {
        std::string v;
        words >> v;
        t.values.push_back(static_cast<float>(std::strtod(v.c_str(), nullptr)));
      }
      current->tensors[unhex(name)] = t;
    }
    REQUIRE_MESSAGE(current != nullptr, "verdicts.txt: a line before the first file: ", line);
  }
  return out;
}

bool same_values(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

}  // namespace

TEST_CASE("safetensors corpus: every file has a recorded verdict, and every verdict a file") {
  const std::map<std::string, Verdict> verdicts = read_verdicts();
  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(kCorpus))
    if (entry.path().extension() == ".safetensors") files.insert(entry.path().filename().string());
  std::set<std::string> listed;
  for (const auto& [name, v] : verdicts) listed.insert(name);
  CHECK(files == listed);
  CHECK(files.size() >= 100);
  for (const auto& [name, reason] : kNotHeldHere) CHECK(verdicts.at(name).accept);
}

TEST_CASE("safetensors corpus: our reader's verdict is the reference's on every file") {
  for (const auto& file : read_verdicts()) {
    // Plain references, not structured bindings: INFO's lambdas name them (clang 14).
    const std::string& name = file.first;
    const Verdict& expected = file.second;
    const std::string path = (kCorpus / name).string();
    INFO(name, ": the reference ", expected.accept ? "accepts it" : "refuses it:" + expected.message);
    std::string error, metadata_error;
    ta::SafetensorsContents got;
    try {
      got = ta::read_safetensors(path);
    } catch (const ta::Error& e) {
      error = e.what();
    }
    try {
      (void)ta::read_safetensors_metadata(path);
    } catch (const ta::Error& e) {
      metadata_error = e.what();
    }
    INFO("our error: ", error);
    CHECK(error.empty() == metadata_error.empty());  // the header alone gives the same verdict
    if (!error.empty()) CHECK(error.find(path) != std::string::npos);

    const auto not_held = kNotHeldHere.find(name);
    if (not_held != kNotHeldHere.end()) {
      CHECK(error.find(not_held->second) != std::string::npos);
      continue;
    }
    CHECK(error.empty() == expected.accept);
    if (!expected.accept || !error.empty()) continue;
    CHECK(got.metadata == expected.metadata);
    REQUIRE(got.tensors.size() == expected.tensors.size());
    for (const auto& entry : expected.tensors) {
      const std::string& tensor = entry.first;
      const TensorVerdict& t = entry.second;
      INFO("tensor '", tensor, "'");
      REQUIRE(got.tensors.count(tensor));
      CHECK(got.tensors.at(tensor).shape().vec() == t.shape);
      CHECK(same_values(got.tensors.at(tensor).to_vector(), t.values));
    }
  }
}
