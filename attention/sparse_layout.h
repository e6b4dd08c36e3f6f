// attention/sparse_layout.h — the attention patterns of the Sparse Transformer
// (Child et al. 2019, "Generating Long Sequences with Sparse Transformers") and the
// block-sparse layouts its kernel runs on.
//
// Full attention lets query i see every key j (every j <= i when causal): n^2 pairs.
// The Sparse Transformer factorizes it into two small sets of about sqrt(n) keys
// per query, A1 and A2, chosen so that any position still reaches any earlier one in
// two steps (i reads k through one set, k read j through the other): stacked
// layers keep full connectivity at O(n sqrt n) cost. With i the query position, j
// the key position, l the stride (about sqrt(n)) and c the summary width:
//
//   strided  A1: the previous l positions       0 <= i - j < l
//            A2: every l-th position back        (i - j) mod l == 0, j <= i
//   fixed    A1: the same block of l positions   floor(j / l) == floor(i / l), j <= i
//            A2: the last c of every block       j mod l >= l - c, j <= i
//
// Strided suits data with a period l (the rows of an image); fixed suits data
// without one (text): the summary positions carry each block's content forward.
// The strided pattern is BOTH factors; beware that the paper's public reference
// code names the mask of A2 alone "strided".
//
// Bidirectional versions (for encoders) drop j <= i and are symmetric,
// allowed(i, j) == allowed(j, i):
//   strided A1 |i - j| < l;   strided A2 (i - j) mod l == 0;   fixed A1 the same block;
//   fixed A2: i or j is a summary position (mod l >= l - c): summary positions read
//   and are read by every position.
//
// For users' own layouts: sliding_window, global_tokens and random_blocks (the
// three parts of BigBird, Zaheer et al. 2020), as factors of a SparsePattern that
// may also hold the factors above.
//
// Three ways to use a factorized pattern (the paper's section 4.3; SparseCombine):
//   Merged           every head attends to A1 ∪ A2 (one softmax over the union);
//   SplitHeads       head h attends to factor h mod 2 (the heads split between them);
//   AlternateLayers  layer r attends to factor r mod 2 in all its heads.
//
// From patterns to blocks (build_block_layout). The kernel computes b x b blocks of
// the score matrix, so each pattern is cut into disjoint parts, one per factor: the
// factor minus the factors before it, so that no pair is counted twice in a row's
// softmax. Each part takes the positions in the order that makes its factor dense.
// Strided A2 in natural order is a set of diagonal stripes that touch a whole
// block for every b pairs they use; grouping positions by residue mod l (the
// paper's reshape of the sequence into an n/l x l matrix, read by columns) turns it
// into plain causal attention within each group of about n/l positions. Fixed A2
// takes the summary keys first, so that all queries read one dense strip of them.
// A block is active when an allowed pair falls in it; a partially covered block
// carries a bit mask of its pairs (masks repeat, and are stored once).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/tensor.h"

namespace ta {

// Indices [begin, end) into a factor's key order.
struct KeySpan {
  int64_t begin, end;
};

// One set of allowed (query, key) pairs over absolute positions 0 .. n - 1.
// A causal factor must not depend on n (decoding sees growing n and must find the
// same pattern as the full pass).
class SparseFactor {
 public:
  virtual ~SparseFactor() = default;
  virtual std::string name() const = 0;
  // May the query at position i attend to the key at position j (0 <= i, j < n)?
  virtual bool allowed(int64_t i, int64_t j, int64_t n) const = 0;
  // The order in which the kernel takes the queries (positions first .. n - 1) and
  // the keys (positions 0 .. n - 1) when it cuts them into blocks. Natural order by
  // default; the key order may leave out keys that no query of the factor sees.
  virtual std::vector<int32_t> query_order(int64_t first, int64_t n) const;
  virtual std::vector<int32_t> key_order(int64_t n) const;
  // Where in key_order(n) the keys query i may see lie: spans that cover them all
  // (more is allowed, only slower to build). Default: everything, fine for small n.
  virtual void key_spans(int64_t i, int64_t n, std::vector<KeySpan>& out) const;
};
using Factor = std::shared_ptr<const SparseFactor>;

// The paper's factors (stride l >= 1, summary width 1 <= c <= l).
Factor strided_a1(int64_t l, Causality causal);
Factor strided_a2(int64_t l, Causality causal);
Factor fixed_a1(int64_t l, Causality causal);
Factor fixed_a2(int64_t l, int64_t c, Causality causal);
// Users' layouts: the w nearest positions (0 <= i - j < w causal, |i - j| < w not);
// the first g positions as global tokens (they see and are seen by every position,
// within j <= i when causal); and per query block of `block` positions, `per_row`
// key blocks drawn at random from the seed (among the blocks up to its own when
// causal, every block otherwise), the same draw whatever n when causal.
Factor sliding_window(int64_t w, Causality causal);
Factor global_tokens(int64_t g, Causality causal);
Factor random_blocks(int64_t block, int64_t per_row, uint64_t seed, Causality causal);

// One head's pattern: the union of its factors, with one softmax over all of them.
struct SparsePattern {
  std::vector<Factor> factors;
  bool allowed(int64_t i, int64_t j, int64_t n) const;  // any factor allows (i, j)
  std::string name() const;                             // "strided A1 (l=64) + strided A2 (l=64)"
};
SparsePattern strided_pattern(int64_t l, Causality causal);  // {A1, A2}
SparsePattern fixed_pattern(int64_t l, int64_t c, Causality causal);

enum class SparseCombine { Merged, SplitHeads, AlternateLayers };
// "merged", "heads", "layers" (for command-line flags); other strings are an error.
SparseCombine parse_sparse_combine(const std::string& s);
// The patterns of one layer's heads (head h uses patterns[h % size]) from a
// factorized pattern: Merged -> {the union}; SplitHeads -> one pattern per factor;
// AlternateLayers -> {factor layer mod (number of factors)}.
std::vector<SparsePattern> combine_factors(const SparsePattern& factorized, SparseCombine how, int64_t layer);

// The block layout (core/attention/types.h) of `patterns` for n_q queries that are the last
// n_q of n_k positions (n_q < n_k continues a key/value cache), in blocks of b <= 64.
// Time and memory proportional to the candidate blocks the factors' key spans name
// (times b^2 predicate calls each), never n_q x n_k.
std::shared_ptr<const BlockSparseLayout> build_block_layout(const std::vector<SparsePattern>& patterns, int64_t n_q,
                                                            int64_t n_k, int64_t block);

struct LayoutStats {
  int64_t active_blocks = 0;
  int64_t computed_pairs = 0;  // pairs inside active blocks: what the kernel multiplies
  int64_t allowed_pairs = 0;   // pairs the pattern allows: the useful part of it
};
LayoutStats layout_stats(const BlockSparseLayout& layout, int64_t pattern = 0);

// The token mask of `patterns` as the reference core uses it: [1, P, n_q, n_k] with
// 1 where query row i (position i + n_k - n_q) may NOT see key j; P = 1 when there
// is one pattern, else `heads` (head h gets patterns[h % size]). n_q x n_k memory.
Tensor sparse_token_mask(const std::vector<SparsePattern>& patterns, int64_t heads, int64_t n_q, int64_t n_k);

}  // namespace ta
