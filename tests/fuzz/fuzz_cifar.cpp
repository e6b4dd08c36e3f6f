// tests/fuzz/fuzz_cifar.cpp — the CIFAR-10 example's binary reader on arbitrary
// files, and the batches made from what it reads.
//
// Properties: load_file returns or throws ta::Error; what it returns has one label
// 0..9 and 3072 tokens per 3073-byte record; token order and plane order convert
// into each other exactly; a batch holds the start token then the image's tokens.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "examples/cifar_gen/cifar_data.h"
#include "tests/fuzz/fuzz_common.h"

using namespace ta;

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  std::string two(2 * cifar::kRecordBytes, '\0');
  for (size_t i = 0; i < two.size(); ++i) two[i] = static_cast<char>((i * 37) % 251);
  two[0] = 3;
  two[cifar::kRecordBytes] = 9;
  fuzz::seed_corpus(*argc, *argv, {{"two_records.bin", two}});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = fuzz::scratch_path("records.bin");
  fuzz::write_file(path, data, size);
  cifar::Dataset d;
  try {
    d = cifar::load_file(path);
  } catch (const Error&) {
    return 0;
  }
  FUZZ_CHECK(d.size() > 0 && static_cast<size_t>(d.size() * cifar::kRecordBytes) == size);
  FUZZ_CHECK(d.tokens.size() == static_cast<size_t>(d.size() * cifar::kTokens));
  for (int64_t i = 0; i < d.size(); ++i) {
    FUZZ_CHECK(d.labels[i] <= 9 && d.labels[i] == data[i * cifar::kRecordBytes]);
    const std::vector<uint8_t> planes = cifar::tokens_to_planes(d.image(i));
    FUZZ_CHECK(std::equal(planes.begin(), planes.end(), data + i * cifar::kRecordBytes + 1));
  }
  Tensor inputs, targets;
  cifar::make_batch(d, {d.size() - 1, 0}, inputs, targets);
  const std::vector<float> in = inputs.to_vector(), out = targets.to_vector();
  FUZZ_CHECK(in[0] == static_cast<float>(cifar::kStartToken) && out[0] == d.image(d.size() - 1)[0]);
  FUZZ_CHECK(in[cifar::kTokens] == static_cast<float>(cifar::kStartToken) && in[cifar::kTokens + 1] == d.image(0)[0]);
  return 0;
}
