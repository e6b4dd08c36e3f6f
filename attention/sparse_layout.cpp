#include "attention/sparse_layout.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <map>

#include "core/error.h"
#include "core/random.h"

namespace ta {

// ---- factors --------------------------------------------------------------------------

namespace {
std::vector<int32_t> natural_order(int64_t first, int64_t n) {
  std::vector<int32_t> order;
  for (int64_t i = first; i < n; ++i) order.push_back(static_cast<int32_t>(i));
  return order;
}
}  // namespace

std::vector<int32_t> SparseFactor::query_order(int64_t first, int64_t n) const { return natural_order(first, n); }

std::vector<int32_t> SparseFactor::key_order(int64_t n) const { return natural_order(0, n); }

void SparseFactor::key_spans(int64_t, int64_t n, std::vector<KeySpan>& out) const { out.push_back({0, n}); }

namespace {

void check_positive(int64_t v, const char* what, const char* factor) {
  TA_CHECK(v >= 1, factor, ": ", what, " must be at least 1, got ", v);
}

// The w nearest positions: 0 <= i - j < w (causal) or |i - j| < w. Strided A1 is
// this with w = l.
class Window : public SparseFactor {
 public:
  Window(int64_t w, Causality causal, std::string label)
      : w_(w), causal_(causal == Causality::Causal), label_(std::move(label)) {}
  std::string name() const override { return cat(label_, w_, ")"); }
  bool allowed(int64_t i, int64_t j, int64_t) const override {
    return causal_ ? (j <= i && i - j < w_) : (i - j < w_ && j - i < w_);
  }
  void key_spans(int64_t i, int64_t n, std::vector<KeySpan>& out) const override {
    out.push_back({std::max<int64_t>(0, i - w_ + 1), causal_ ? i + 1 : std::min(n, i + w_)});
  }

 private:
  int64_t w_;
  bool causal_;
  std::string label_;
};

// Strided A2: (i - j) mod l == 0. Positions are taken by residue class r = p mod l,
// each class in increasing order: class r holds r, r + l, r + 2l, ... and starts
// at index start(r) = r q + min(r, n mod l) of the order (q = n / l; the first
// n mod l classes have one position more). Within a class the factor is ordinary
// attention (causal: to the earlier members), so the blocks it fills are dense.
class EveryLth : public SparseFactor {
 public:
  EveryLth(int64_t l, Causality causal) : l_(l), causal_(causal == Causality::Causal) {}
  std::string name() const override { return cat("strided A2 (l=", l_, ")"); }
  bool allowed(int64_t i, int64_t j, int64_t) const override { return (i - j) % l_ == 0 && (!causal_ || j <= i); }
  std::vector<int32_t> query_order(int64_t first, int64_t n) const override {
    std::vector<int32_t> order;
    order.reserve(n - first);
    for (int64_t r = 0; r < l_; ++r)
      for (int64_t p = first + ((r - first) % l_ + l_) % l_; p < n; p += l_) order.push_back(static_cast<int32_t>(p));
    return order;
  }
  std::vector<int32_t> key_order(int64_t n) const override { return query_order(0, n); }
  void key_spans(int64_t i, int64_t n, std::vector<KeySpan>& out) const override {
    const int64_t r = i % l_, q = n / l_, rem = n % l_;
    const int64_t start = r * q + std::min(r, rem), size = q + (r < rem ? 1 : 0);
    out.push_back({start, causal_ ? start + i / l_ + 1 : start + size});
  }

 private:
  int64_t l_;
  bool causal_;
};

// Fixed A1: the same block of l positions.
class SameBlock : public SparseFactor {
 public:
  SameBlock(int64_t l, Causality causal) : l_(l), causal_(causal == Causality::Causal) {}
  std::string name() const override { return cat("fixed A1 (l=", l_, ")"); }
  bool allowed(int64_t i, int64_t j, int64_t) const override { return i / l_ == j / l_ && (!causal_ || j <= i); }
  void key_spans(int64_t i, int64_t n, std::vector<KeySpan>& out) const override {
    const int64_t begin = i / l_ * l_;
    out.push_back({begin, causal_ ? i + 1 : std::min(n, begin + l_)});
  }

 private:
  int64_t l_;
  bool causal_;
};

// Fixed A2: summary keys, the last c positions of every block of l. The key order
// puts the summary positions first (in increasing order), so that every query
// reads one dense strip of them (causal: a prefix, the summaries up to i). When
// bidirectional, summary queries read every key: the other keys follow in the key
// order, and the queries are ordered summaries first too, so that the rows that
// read everything fill whole blocks instead of a few rows of every other block.
class Summaries : public SparseFactor {
 public:
  Summaries(int64_t l, int64_t c, Causality causal) : l_(l), c_(c), causal_(causal == Causality::Causal) {}
  std::string name() const override { return cat("fixed A2 (l=", l_, ", c=", c_, ")"); }
  bool summary(int64_t p) const { return p % l_ >= l_ - c_; }
  bool allowed(int64_t i, int64_t j, int64_t) const override {
    return causal_ ? (j <= i && summary(j)) : (summary(j) || summary(i));
  }
  // Summary positions among 0 .. n - 1.
  int64_t summaries_below(int64_t n) const { return n / l_ * c_ + std::max<int64_t>(0, n % l_ - (l_ - c_)); }
  // Positions first .. n - 1, the summaries first; the others after them (all) or
  // not at all (causal keys, which only summaries are).
  std::vector<int32_t> summaries_first(int64_t first, int64_t n, bool others) const {
    std::vector<int32_t> order;
    for (int64_t p = first; p < n; ++p)
      if (summary(p)) order.push_back(static_cast<int32_t>(p));
    if (others)
      for (int64_t p = first; p < n; ++p)
        if (!summary(p)) order.push_back(static_cast<int32_t>(p));
    return order;
  }
  std::vector<int32_t> query_order(int64_t first, int64_t n) const override {
    return causal_ ? natural_order(first, n) : summaries_first(first, n, true);
  }
  std::vector<int32_t> key_order(int64_t n) const override { return summaries_first(0, n, !causal_); }
  void key_spans(int64_t i, int64_t n, std::vector<KeySpan>& out) const override {
    if (causal_) out.push_back({0, summaries_below(i + 1)});
    else out.push_back({0, summary(i) ? n : summaries_below(n)});
  }

 private:
  int64_t l_, c_;
  bool causal_;
};

// The first g positions are global: they see every position and every position
// sees them (within j <= i when causal).
class Global : public SparseFactor {
 public:
  Global(int64_t g, Causality causal) : g_(g), causal_(causal == Causality::Causal) {}
  std::string name() const override { return cat("global tokens (g=", g_, ")"); }
  bool allowed(int64_t i, int64_t j, int64_t) const override { return (i < g_ || j < g_) && (!causal_ || j <= i); }
  void key_spans(int64_t i, int64_t n, std::vector<KeySpan>& out) const override {
    const int64_t end = causal_ ? i + 1 : n;
    out.push_back({0, i < g_ ? end : std::min(g_, end)});
  }

 private:
  int64_t g_;
  bool causal_;
};

// Random key blocks per query block I = i / block: draw k of them, k < per_row, is
// Philox(seed, I per_row + k) mod (I + 1) when causal (so the draw never depends on
// n), mod the number of blocks otherwise. Inside the chosen blocks every pair is
// allowed (j <= i when causal).
class RandomBlocks : public SparseFactor {
 public:
  RandomBlocks(int64_t block, int64_t per_row, uint64_t seed, Causality causal)
      : block_(block), per_row_(per_row), seed_(seed), causal_(causal == Causality::Causal) {}
  std::string name() const override {
    return cat("random blocks (block=", block_, ", per row=", per_row_, ", seed=", seed_, ")");
  }
  int64_t draw(int64_t I, int64_t k, int64_t n) const {
    const int64_t choices = causal_ ? I + 1 : (n + block_ - 1) / block_;
    const uint32_t w = philox4x32(seed_, static_cast<uint64_t>(I * per_row_ + k))[0];
    return static_cast<int64_t>(w % static_cast<uint32_t>(choices));
  }
  bool allowed(int64_t i, int64_t j, int64_t n) const override {
    if (causal_ && j > i) return false;
    for (int64_t k = 0; k < per_row_; ++k)
      if (draw(i / block_, k, n) == j / block_) return true;
    return false;
  }
  void key_spans(int64_t i, int64_t n, std::vector<KeySpan>& out) const override {
    for (int64_t k = 0; k < per_row_; ++k) {
      const int64_t J = draw(i / block_, k, n);
      out.push_back({J * block_, std::min(n, (J + 1) * block_)});
    }
  }

 private:
  int64_t block_, per_row_;
  uint64_t seed_;
  bool causal_;
};

}  // namespace

Factor strided_a1(int64_t l, Causality causal) {
  check_positive(l, "the stride l", "strided A1");
  return std::make_shared<Window>(l, causal, "strided A1 (l=");
}
Factor strided_a2(int64_t l, Causality causal) {
  check_positive(l, "the stride l", "strided A2");
  return std::make_shared<EveryLth>(l, causal);
}
Factor fixed_a1(int64_t l, Causality causal) {
  check_positive(l, "the block length l", "fixed A1");
  return std::make_shared<SameBlock>(l, causal);
}
Factor fixed_a2(int64_t l, int64_t c, Causality causal) {
  check_positive(l, "the block length l", "fixed A2");
  TA_CHECK(c >= 1 && c <= l, "fixed A2: the summary width c must be in 1..l (l = ", l, "), got ", c);
  return std::make_shared<Summaries>(l, c, causal);
}
Factor sliding_window(int64_t w, Causality causal) {
  check_positive(w, "the window w", "sliding window");
  return std::make_shared<Window>(w, causal, "sliding window (w=");
}
Factor global_tokens(int64_t g, Causality causal) {
  check_positive(g, "the number of global tokens g", "global tokens");
  return std::make_shared<Global>(g, causal);
}
Factor random_blocks(int64_t block, int64_t per_row, uint64_t seed, Causality causal) {
  check_positive(block, "the block size", "random blocks");
  check_positive(per_row, "the blocks per row", "random blocks");
  return std::make_shared<RandomBlocks>(block, per_row, seed, causal);
}

// ---- patterns ---------------------------------------------------------------------------

bool SparsePattern::allowed(int64_t i, int64_t j, int64_t n) const {
  for (const Factor& f : factors)
    if (f->allowed(i, j, n)) return true;
  return false;
}

std::string SparsePattern::name() const {
  std::string s;
  for (const Factor& f : factors) s += (s.empty() ? "" : " + ") + f->name();
  return s;
}

SparsePattern strided_pattern(int64_t l, Causality causal) { return {{strided_a1(l, causal), strided_a2(l, causal)}}; }
SparsePattern fixed_pattern(int64_t l, int64_t c, Causality causal) {
  return {{fixed_a1(l, causal), fixed_a2(l, c, causal)}};
}

SparseCombine parse_sparse_combine(const std::string& s) {
  if (s == "merged") return SparseCombine::Merged;
  if (s == "heads") return SparseCombine::SplitHeads;
  if (s == "layers") return SparseCombine::AlternateLayers;
  throw Error(cat("sparse attention: unknown way to combine the factors '", s, "' (expected merged, heads or layers)"));
}

std::vector<SparsePattern> combine_factors(const SparsePattern& factorized, SparseCombine how, int64_t layer) {
  TA_CHECK(!factorized.factors.empty(), "sparse attention: a pattern needs at least one factor");
  switch (how) {
    case SparseCombine::Merged:
      return {factorized};
    case SparseCombine::SplitHeads: {
      std::vector<SparsePattern> out;
      for (const Factor& f : factorized.factors) out.push_back({{f}});
      return out;
    }
    case SparseCombine::AlternateLayers:
      TA_CHECK(layer >= 0, "sparse attention: the layer index must be >= 0, got ", layer);
      return {{{factorized.factors[layer % static_cast<int64_t>(factorized.factors.size())]}}};
  }
  return {factorized};
}

// ---- from patterns to blocks ----------------------------------------------------------

namespace {

// Part f of a pattern: the pairs factor f allows and no earlier factor does.
bool in_part(const SparsePattern& pattern, size_t f, int64_t i, int64_t j, int64_t n) {
  if (!pattern.factors[f]->allowed(i, j, n)) return false;
  for (size_t e = 0; e < f; ++e)
    if (pattern.factors[e]->allowed(i, j, n)) return false;
  return true;
}

// For each query block: the candidate key blocks are those the rows' key spans
// touch; each is tested pair by pair, kept when some pair is in the part, stored
// without a mask when all are, else with its (shared) mask.
BlockSparseLayout::Part build_part(const SparsePattern& pattern, size_t f, int64_t first, int64_t n, int64_t b) {
  const SparseFactor& factor = *pattern.factors[f];
  BlockSparseLayout::Part part;
  const std::vector<int32_t> positions = factor.query_order(first, n);
  part.keys = factor.key_order(n);
  for (int32_t p : positions) part.queries.push_back(static_cast<int32_t>(p - first));
  const int64_t n_rows = static_cast<int64_t>(positions.size()), n_cols = static_cast<int64_t>(part.keys.size());
  const int64_t q_blocks = (n_rows + b - 1) / b, k_blocks = (n_cols + b - 1) / b;
  std::vector<int64_t> seen(k_blocks, -1), candidates;
  std::vector<KeySpan> spans;
  std::vector<uint64_t> words(b);
  std::map<std::vector<uint64_t>, int32_t> mask_ids;
  part.row_begin.push_back(0);
  for (int64_t I = 0; I < q_blocks; ++I) {
    const int64_t rows = std::min(b, n_rows - I * b);
    candidates.clear();
    for (int64_t r = 0; r < rows; ++r) {
      spans.clear();
      factor.key_spans(positions[I * b + r], n, spans);
      for (const KeySpan& s : spans) {
        const int64_t lo = std::max<int64_t>(0, s.begin), hi = std::min(n_cols, s.end);
        if (lo >= hi) continue;
        for (int64_t J = lo / b; J <= (hi - 1) / b; ++J)
          if (seen[J] != I) {
            seen[J] = I;
            candidates.push_back(J);
          }
      }
    }
    std::sort(candidates.begin(), candidates.end());
    for (int64_t J : candidates) {
      const int64_t cols = std::min(b, n_cols - J * b);
      const uint64_t all = cols == 64 ? ~uint64_t{0} : (uint64_t{1} << cols) - 1;
      bool any = false, full = true;
      std::fill(words.begin(), words.end(), 0);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = positions[I * b + r];
        uint64_t w = 0;
        for (int64_t c = 0; c < cols; ++c)
          if (in_part(pattern, f, i, part.keys[J * b + c], n)) w |= uint64_t{1} << c;
        words[r] = w;
        any = any || w != 0;
        full = full && w == all;
      }
      if (!any) continue;
      part.col.push_back(static_cast<int32_t>(J));
      if (full) {
        part.mask.push_back(-1);
        continue;
      }
      auto [it, added] = mask_ids.try_emplace(words, static_cast<int32_t>(mask_ids.size()));
      if (added) part.masks.insert(part.masks.end(), words.begin(), words.end());
      part.mask.push_back(it->second);
    }
    part.row_begin.push_back(static_cast<int32_t>(part.col.size()));
  }
  return part;
}

}  // namespace

std::shared_ptr<const BlockSparseLayout> build_block_layout(const std::vector<SparsePattern>& patterns, int64_t n_q,
                                                            int64_t n_k, int64_t block) {
  TA_CHECK(block >= 1 && block <= 64, "sparse layout: the block size must be in 1..64 (a mask row is one 64-bit ",
           "word), got ", block);
  TA_CHECK(n_q >= 0 && n_q <= n_k && n_k < std::numeric_limits<int32_t>::max(), "sparse layout: need 0 <= n_q <= ",
           "n_k < 2^31 (the queries are the last n_q of the n_k positions), got n_q ", n_q, ", n_k ", n_k);
  TA_CHECK(!patterns.empty(), "sparse layout: no pattern given");
  auto layout = std::make_shared<BlockSparseLayout>();
  layout->block = block;
  layout->n_q = n_q;
  layout->n_k = n_k;
  for (const SparsePattern& pattern : patterns) {
    TA_CHECK(!pattern.factors.empty(), "sparse layout: a pattern needs at least one factor");
    BlockSparseLayout::Pattern out;
    for (size_t f = 0; f < pattern.factors.size(); ++f)
      out.parts.push_back(build_part(pattern, f, n_k - n_q, n_k, block));
    layout->patterns.push_back(std::move(out));
  }
  return layout;
}

LayoutStats layout_stats(const BlockSparseLayout& layout, int64_t pattern) {
  TA_CHECK(pattern >= 0 && pattern < static_cast<int64_t>(layout.patterns.size()), "layout_stats: pattern ", pattern,
           " outside 0..", static_cast<int64_t>(layout.patterns.size()) - 1);
  const int64_t b = layout.block;
  LayoutStats st;
  for (const BlockSparseLayout::Part& part : layout.patterns[pattern].parts) {
    const int64_t n_rows = static_cast<int64_t>(part.queries.size()), n_cols = static_cast<int64_t>(part.keys.size());
    for (int64_t I = 0; I + 1 < static_cast<int64_t>(part.row_begin.size()); ++I)
      for (int64_t a = part.row_begin[I]; a < part.row_begin[I + 1]; ++a) {
        const int64_t rows = std::min(b, n_rows - I * b), cols = std::min(b, n_cols - part.col[a] * b);
        st.active_blocks += 1;
        st.computed_pairs += rows * cols;
        if (part.mask[a] < 0) {
          st.allowed_pairs += rows * cols;
          continue;
        }
        for (int64_t r = 0; r < rows; ++r) st.allowed_pairs += std::popcount(part.masks[part.mask[a] * b + r]);
      }
  }
  return st;
}

Tensor sparse_token_mask(const std::vector<SparsePattern>& patterns, int64_t heads, int64_t n_q, int64_t n_k) {
  TA_CHECK(!patterns.empty(), "sparse token mask: no pattern given");
  const int64_t P = patterns.size() == 1 ? 1 : heads, first = n_k - n_q;
  std::vector<float> m(P * n_q * n_k);
  for (int64_t h = 0; h < P; ++h) {
    const SparsePattern& pattern = patterns[h % static_cast<int64_t>(patterns.size())];
    for (int64_t r = 0; r < n_q; ++r)
      for (int64_t j = 0; j < n_k; ++j) m[(h * n_q + r) * n_k + j] = pattern.allowed(r + first, j, n_k) ? 0.0f : 1.0f;
  }
  return Tensor::from_vector(m, Shape{1, P, n_q, n_k});
}

}  // namespace ta
