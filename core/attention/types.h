// core/attention/types.h — what the backend operations of the papers' fused attention
// kernels (core/attention/backend_ops.h) take besides buffers and sizes: which FAVOR+
// kernel, causal or not (core/causality.h), and a block-sparse layout. (FLASH's
// parameters: core/attention/flash_options.h.)
#pragma once

#include <cstdint>
#include <vector>

#include "core/causality.h"

namespace ta {

// The kernel of fused FAVOR+ attention (Performer): the softmax kernel's positive
// random features, or the ReLU kernel (see favor_causal_forward in backend_ops.h).
enum class FavorKernel { Softmax, Relu };

// --- block-sparse attention layouts (Sparse Transformer, Child et al. 2019) ---
// Which (query, key) pairs each head may attend to, as a list of b x b blocks;
// attention/sparse_layout.h builds them from token patterns, and the
// block_sparse_attention kernels visit only the listed blocks.
//
// A head's pattern is cut into disjoint parts. Each part puts some query rows and
// some keys in an order of its own (strided attention's "every l-th key" becomes
// dense when positions are grouped by residue mod l), cuts both lists into blocks
// of b, and lists per query block the active key blocks, row by row (CSR). A block
// is either full or carries a bit mask of the pairs it allows. All the parts of a
// pattern share one softmax per query row, so the row's weights are exact over the
// union of its allowed keys.
struct BlockSparseLayout {
  struct Part {
    std::vector<int32_t> queries;    // query rows (0 .. n_q - 1, each at most once), in block order
    std::vector<int32_t> keys;       // keys (0 .. n_k - 1), in block order
    std::vector<int32_t> row_begin;  // [query blocks + 1]: block row I is col[row_begin[I] .. row_begin[I + 1])
    std::vector<int32_t> col;        // [active blocks] the key block J of each
    std::vector<int32_t> mask;       // [active blocks] index of its mask, or -1: every pair allowed
    std::vector<uint64_t> masks;     // [masks * b] word r of a mask: bit c set <=> row r may see column c
  };
  struct Pattern {
    std::vector<Part> parts;
  };
  int64_t block = 32;  // b, at most 64 (a mask row is one 64-bit word)
  int64_t n_q = 0;     // query rows: the last n_q of the n_k positions
  int64_t n_k = 0;
  std::vector<Pattern> patterns;  // head h uses patterns[h % patterns.size()]
};

}  // namespace ta
