// examples/cifar_gen/cifar_data.h — CIFAR-10 images as token sequences.
//
// The official binary format: fixed 3073-byte records, a label byte (0..9) then
// the red, green and blue 32x32 planes, row-major. For autoregressive modelling an
// image becomes 3072 tokens in raster order with the three channel values of a
// pixel next to each other: token (row * 32 + col) * 3 + channel. Each token is a
// value 0..255, predicted with a 256-way softmax.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace ta::cifar {

constexpr int64_t kSide = 32, kChannels = 3, kPixels = kSide * kSide, kTokens = kPixels * kChannels;
constexpr int64_t kRecordBytes = 1 + kTokens;

struct Dataset {
  std::vector<uint8_t> tokens;  // size() * kTokens, each image in token order
  std::vector<uint8_t> labels;
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  const uint8_t* image(int64_t i) const { return tokens.data() + i * kTokens; }
  void append(const Dataset& other);
};

// One file of records. Errors name the file and what was expected: missing, empty,
// a size that is not a whole number of 3073-byte records (or, with `records` > 0,
// not exactly that many records), or a label outside 0..9.
Dataset load_file(const std::string& path, int64_t records = 0);

// Records in each official file (data_batch_1..5.bin, test_batch.bin).
constexpr int64_t kOfficialRecords = 10000;

// The training or test split of a folder: the bundled train.bin / test.bin (any
// number of records), or the official data_batch_1..5.bin / test_batch.bin
// (10,000 records each), whichever the folder holds.
enum class Split { Train, Test };
Dataset load_split(const std::string& dir, Split split);

// Record layout (label, R plane, G plane, B plane) <-> token order.
std::vector<uint8_t> planes_to_tokens(const uint8_t* planes);
std::vector<uint8_t> tokens_to_planes(const uint8_t* tokens);

// A batch for next-token training: inputs [batch, 3072] = a start token (256)
// followed by the first 3071 tokens of each image, targets [batch, 3072] = the
// 3072 tokens. Token values are stored as floats (core/tensor.h).
constexpr int64_t kStartToken = 256, kVocab = 257;
void make_batch(const Dataset& data, const std::vector<int64_t>& indices, Tensor& inputs, Tensor& targets);

}  // namespace ta::cifar
