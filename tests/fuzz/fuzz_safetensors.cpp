// tests/fuzz/fuzz_safetensors.cpp — the safetensors reader on arbitrary bytes.
//
// Properties: it returns or throws ta::Error (anything else, a crash or a
// sanitizer report is a finding); the header-only reader gives the same verdict
// and metadata; and what it reads, the writer writes and the reader reads back
// bit for bit (tensor names it cannot write, the empty one, left out).
// Seeds: tests/data/safetensors_malformed/ (given by `make fuzz`).
#include <cstdint>
#include <cstring>
#include <map>
#include <string>

#include "core/error.h"
#include "layers/safetensors.h"
#include "tests/fuzz/fuzz_common.h"

using namespace ta;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = fuzz::scratch_path("input.safetensors"), copy = fuzz::scratch_path("copy.safetensors");
  fuzz::write_file(path, data, size);
  SafetensorsContents contents;
  bool read = true, header_read = true;
  Metadata metadata;
  try {
    contents = read_safetensors(path);
  } catch (const Error&) {
    read = false;
  }
  try {
    metadata = read_safetensors_metadata(path);
  } catch (const Error&) {
    header_read = false;
  }
  FUZZ_CHECK(read == header_read);
  if (!read) return 0;
  FUZZ_CHECK(metadata == contents.metadata);

  std::map<std::string, Tensor> writable;
  for (const auto& [name, t] : contents.tensors)
    if (!name.empty()) writable[name] = t;
  write_safetensors(copy, writable, contents.metadata);
  const SafetensorsContents back = read_safetensors(copy);
  FUZZ_CHECK(back.metadata == contents.metadata);
  FUZZ_CHECK(back.tensors.size() == writable.size());
  for (const auto& [name, t] : writable) {
    const Tensor& u = back.tensors.at(name);
    FUZZ_CHECK(u.shape() == t.shape());
    const std::vector<float> a = t.to_vector(), b = u.to_vector();
    FUZZ_CHECK(a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0));
  }
  return 0;
}
