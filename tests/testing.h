// tests/testing.h — helpers shared by the test files: a temporary folder removed at
// the end of the test, and the message of an error.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/error.h"

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

}  // namespace ta::testing
