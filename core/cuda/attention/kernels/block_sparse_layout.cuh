// core/cuda/attention/kernels/block_sparse_layout.cuh — a BlockSparseLayout (core/attention/types.h) on
// the device: packed on the host into one array of 32-bit words, copied to device
// memory on every call (through the backend's allocate and copy_from_host, which move
// bytes unchanged), and read back by the kernels as one LayoutPart per (pattern, part).
//
// A layout is a few host vectors, O(active blocks + n) words, small next to the
// attention's own work, so it is uploaded per call rather than cached: nothing can go
// stale when a caller builds a new layout at the same address.
//
// Word layout: a header of patterns x max_parts entries of kPartFields words each
// (pattern p, part t at (p max_parts + t) kPartFields), then the part arrays. Header
// fields: query count (-1: pattern p has no part t), key count, and the offsets of
// queries, keys, row_begin, col, mask and masks. A 64-bit mask row is stored as two
// words, low half first.
#pragma once

#include "core/cuda/device_compat.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/backend.h"

namespace ta::cuda_kernels {

constexpr int64_t kPartFields = 8;

struct PackedLayout {
  std::vector<int32_t> words;
  int64_t patterns = 0;
  int64_t max_parts = 0;         // the most parts of any pattern
  int64_t max_query_blocks = 0;  // the most query blocks of any part
};

inline PackedLayout pack_layout(const BlockSparseLayout& layout) {
  using Part = BlockSparseLayout::Part;
  PackedLayout p;
  p.patterns = static_cast<int64_t>(layout.patterns.size());
  for (const auto& pattern : layout.patterns) {
    p.max_parts = std::max(p.max_parts, static_cast<int64_t>(pattern.parts.size()));
    for (const Part& part : pattern.parts)
      p.max_query_blocks = std::max(
          p.max_query_blocks, (static_cast<int64_t>(part.queries.size()) + layout.block - 1) / layout.block);
  }
  p.words.assign(static_cast<size_t>(p.patterns * p.max_parts * kPartFields), -1);
  auto append = [&](const std::vector<int32_t>& list) {
    const auto offset = static_cast<int32_t>(p.words.size());
    p.words.insert(p.words.end(), list.begin(), list.end());
    return offset;
  };
  for (int64_t pi = 0; pi < p.patterns; ++pi) {
    const auto& parts = layout.patterns[pi].parts;
    for (size_t t = 0; t < parts.size(); ++t) {
      const Part& part = parts[t];
      std::vector<int32_t> mask_words;
      for (uint64_t row : part.masks) {
        mask_words.push_back(static_cast<int32_t>(static_cast<uint32_t>(row)));
        mask_words.push_back(static_cast<int32_t>(static_cast<uint32_t>(row >> 32)));
      }
      const int32_t fields[kPartFields] = {static_cast<int32_t>(part.queries.size()),
                                           static_cast<int32_t>(part.keys.size()),
                                           append(part.queries),
                                           append(part.keys),
                                           append(part.row_begin),
                                           append(part.col),
                                           append(part.mask),
                                           append(mask_words)};
      std::copy(fields, fields + kPartFields, p.words.begin() + (pi * p.max_parts + t) * kPartFields);
    }
  }
  return p;
}

// One part of a pattern, read from the packed words (see BlockSparseLayout::Part).
struct LayoutPart {
  const int32_t *queries, *keys, *row_begin, *col, *mask, *masks;
  int64_t n_queries, n_keys, block;

  // Part `slot` of pattern `pattern`; n_queries < 0 when the pattern has no such part.
  __device__ LayoutPart(const int32_t* words, int64_t max_parts, int64_t pattern, int64_t slot, int64_t b) {
    const int32_t* f = words + (pattern * max_parts + slot) * kPartFields;
    auto at = [&](int32_t offset) { return words + (offset < 0 ? 0 : offset); };  // -1: absent part
    n_queries = f[0];
    n_keys = f[1];
    queries = at(f[2]);
    keys = at(f[3]);
    row_begin = at(f[4]);
    col = at(f[5]);
    mask = at(f[6]);
    masks = at(f[7]);
    block = b;
  }

  // Whether active block a lets row r of its query block see column c of its key block.
  __device__ bool allows(int64_t a, int64_t r, int64_t c) const {
    if (mask[a] < 0) return true;
    const int32_t word = masks[2 * (static_cast<int64_t>(mask[a]) * block + r) + c / 32];
    return (static_cast<uint32_t>(word) >> (c % 32)) & 1u;
  }
};

}  // namespace ta::cuda_kernels
