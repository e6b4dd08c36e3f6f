// tests/testing.h — helpers shared by the test files: a temporary folder removed at
// the end of the test, the message of an error, the files of tests/data/, and
// next-byte batches cut from a text.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include <vector>

#include "core/error.h"
#include "core/tensor.h"

namespace ta::testing {

// A fresh folder under the system's temp directory, named by the process id and a
// counter, removed with everything in it when the object goes.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("tinyattn_" + prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// The message of the ta::Error that f() throws, or "" when it does not throw.
template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const ta::Error& e) {
    return e.what();
  }
  return "";
}

// The bytes of tests/data/<name>, found next to this header (tests run from the
// repository root, where __FILE__ is the relative path the Makefile compiled);
// throws, failing the test, when it cannot be read.
inline std::string read_test_data(const std::string& name) {
  namespace fs = std::filesystem;
  for (const fs::path& p : {fs::path(__FILE__).parent_path() / "data" / name, fs::path("tests") / "data" / name}) {
    std::ifstream in(p, std::ios::binary);
    if (in) return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  throw std::runtime_error("cannot open tests/data/" + name + " (run the tests from the repository root)");
}

// Next-byte prediction on `rows` consecutive pieces of `text`, each `n` bytes long:
// ids [rows, n] and targets [rows, n] (the same bytes shifted by one).
struct ByteBatch {
  Tensor ids, targets;
};

inline ByteBatch byte_batch(const std::string& text, int64_t rows, int64_t n) {
  if (static_cast<int64_t>(text.size()) < rows * n + 1)
    throw std::runtime_error("byte_batch: the text has " + std::to_string(text.size()) + " bytes, " +
                             std::to_string(rows) + " rows of " + std::to_string(n) + " need " +
                             std::to_string(rows * n + 1));
  std::vector<float> ids, targets;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < n; ++t) {
      ids.push_back(static_cast<unsigned char>(text[r * n + t]));
      targets.push_back(static_cast<unsigned char>(text[r * n + t + 1]));
    }
  return {Tensor::from_vector(ids, Shape{rows, n}), Tensor::from_vector(targets, Shape{rows, n})};
}

}  // namespace ta::testing
