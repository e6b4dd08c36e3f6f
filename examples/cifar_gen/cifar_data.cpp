#include "examples/cifar_gen/cifar_data.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "core/error.h"

namespace ta::cifar {

void Dataset::append(const Dataset& other) {
  tokens.insert(tokens.end(), other.tokens.begin(), other.tokens.end());
  labels.insert(labels.end(), other.labels.begin(), other.labels.end());
}

std::vector<uint8_t> planes_to_tokens(const uint8_t* planes) {
  std::vector<uint8_t> t(kTokens);
  for (int64_t p = 0; p < kPixels; ++p)
    for (int64_t c = 0; c < kChannels; ++c) t[p * kChannels + c] = planes[c * kPixels + p];
  return t;
}

std::vector<uint8_t> tokens_to_planes(const uint8_t* tokens) {
  std::vector<uint8_t> planes(kTokens);
  for (int64_t p = 0; p < kPixels; ++p)
    for (int64_t c = 0; c < kChannels; ++c) planes[c * kPixels + p] = tokens[p * kChannels + c];
  return planes;
}

Dataset load_file(const std::string& path, int64_t records) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  TA_CHECK(in.good(), "cifar: cannot open '", path, "' (expected a CIFAR-10 binary file of 3073-byte records)");
  const int64_t bytes = static_cast<int64_t>(in.tellg());
  TA_CHECK(bytes > 0 && bytes % kRecordBytes == 0, "cifar: '", path, "' has ", bytes,
           " bytes, not a whole number of 3073-byte records (label + 3 x 32 x 32 pixels); truncated or not CIFAR-10?");
  TA_CHECK(records <= 0 || bytes == records * kRecordBytes, "cifar: '", path, "' has ", bytes / kRecordBytes,
           " records (", bytes, " bytes), expected ", records, " (", records * kRecordBytes,
           " bytes) as in the official CIFAR-10 binaries; truncated?");
  in.seekg(0);
  std::vector<uint8_t> raw(bytes);
  in.read(reinterpret_cast<char*>(raw.data()), bytes);
  TA_CHECK(in.good(), "cifar: reading '", path, "' failed");
  Dataset d;
  const int64_t n = bytes / kRecordBytes;
  d.tokens.reserve(n * kTokens);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* record = raw.data() + i * kRecordBytes;
    TA_CHECK(record[0] <= 9, "cifar: '", path, "' record ", i, " has label ", int(record[0]),
             " (expected 0..9); not a CIFAR-10 file?");
    d.labels.push_back(record[0]);
    std::vector<uint8_t> t = planes_to_tokens(record + 1);
    d.tokens.insert(d.tokens.end(), t.begin(), t.end());
  }
  return d;
}

static bool exists(const std::string& path) { return std::ifstream(path).good(); }

Dataset load_split(const std::string& dir, Split split) {
  const bool train = split == Split::Train;
  struct stat st;
  TA_CHECK(stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode), "cifar: data folder '", dir,
           "' not found (expected a folder with train.bin and test.bin, or the official data_batch_1.bin ... ",
           "data_batch_5.bin and test_batch.bin)");
  const std::string bundled = dir + (train ? "/train.bin" : "/test.bin");
  if (exists(bundled)) return load_file(bundled);
  if (!train) {
    TA_CHECK(exists(dir + "/test_batch.bin"), "cifar: no test data in '", dir,
             "' (expected test.bin or the official test_batch.bin)");
    return load_file(dir + "/test_batch.bin", kOfficialRecords);
  }
  Dataset d;
  for (int b = 1; b <= 5; ++b) {
    const std::string path = dir + "/data_batch_" + std::to_string(b) + ".bin";
    TA_CHECK(exists(path), "cifar: no training data in '", dir, "' (expected train.bin, or the official ",
             "data_batch_1.bin ... data_batch_5.bin; missing ", path, ")");
    d.append(load_file(path, kOfficialRecords));
  }
  return d;
}

void make_batch(const Dataset& data, const std::vector<int64_t>& indices, Tensor& inputs, Tensor& targets) {
  const int64_t b = static_cast<int64_t>(indices.size());
  std::vector<float> in(b * kTokens), out(b * kTokens);
  for (int64_t r = 0; r < b; ++r) {
    const uint8_t* img = data.image(indices[r]);
    in[r * kTokens] = static_cast<float>(kStartToken);
    for (int64_t t = 0; t < kTokens; ++t) {
      out[r * kTokens + t] = img[t];
      if (t + 1 < kTokens) in[r * kTokens + t + 1] = img[t];
    }
  }
  inputs = Tensor::from_vector(in, Shape{b, kTokens});
  targets = Tensor::from_vector(out, Shape{b, kTokens});
}

}  // namespace ta::cifar
