// tests/fuzz/fuzz_common.h — what the libFuzzer targets share: a scratch file for
// loaders that read paths, seeds written into the corpus folder on start, and the
// check that turns a broken property into a crash libFuzzer reports.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace ta::fuzz {

// A property every input must keep; a failure aborts with the reason, and libFuzzer
// saves the input that caused it.
#define FUZZ_CHECK(cond)                                                             \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

// A file of this process in the temp folder, for loaders that take a path.
inline std::string scratch_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tinyattn_fuzz_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

inline void write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes each (name, bytes) seed into the first corpus folder on the command line
// (the first argument not starting with '-'), unless it is there already, so that
// a target starts from valid inputs without checked-in binaries.
inline void seed_corpus(int argc, char** argv, const std::vector<std::pair<std::string, std::string>>& seeds) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') continue;
    const std::filesystem::path dir = argv[i];
    if (!std::filesystem::is_directory(dir)) return;
    for (const auto& [name, bytes] : seeds)
      if (!std::filesystem::exists(dir / name)) write_file((dir / name).string(), bytes.data(), bytes.size());
    return;
  }
}

}  // namespace ta::fuzz
