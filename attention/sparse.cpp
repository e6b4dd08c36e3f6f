#include "attention/sparse.h"

#include <limits>
#include <vector>

#include "attention/builtin_variants.h"
#include "attention/multi_head.h"
#include "attention/non_finite.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

void check_mode(const SparseCoreOptions& o, Causality causal) {
  TA_CHECK(causal == causality_if(o.causal), o.name, ": its pattern was built ", causality_name(causality_if(o.causal)),
           " but forward() was asked for ", causality_name(causal), " attention; build the variant ",
           "with the mode you use (AttentionConfig::causal)");
}

void check_options(const SparseCoreOptions& o) {
  TA_CHECK(!o.patterns.empty(), o.name, ": no pattern given");
  for (const SparsePattern& p : o.patterns) TA_CHECK(!p.factors.empty(), o.name, ": a pattern has no factor");
}

// The weights of query row i over all keys, [batch, heads, n_k]: the exact softmax
// over the keys its head's pattern allows (the picture of a sparse head).
Tensor pattern_row_weights(const SparseCoreOptions& o, const AttentionScale& scale, const Tensor& q, const Tensor& k,
                           int64_t i, Causality causal) {
  check_mode(o, causal);
  NoGradGuard no_grad;
  const int64_t n_q = q.size(2), n_k = k.size(2), heads = q.size(1);
  TA_CHECK(i >= 0 && i < n_q, o.name, ": query ", i, " is outside 0..", n_q - 1);
  // The mask of row i alone, [1, P, 1, n_k] (P = 1 or heads, as in sparse_token_mask).
  const int64_t P = o.patterns.size() == 1 ? 1 : heads, position = i + n_k - n_q;
  std::vector<float> m(P * n_k);
  for (int64_t h = 0; h < P; ++h)
    for (int64_t j = 0; j < n_k; ++j)
      m[h * n_k + j] = o.patterns[h % static_cast<int64_t>(o.patterns.size())].allowed(position, j, n_k) ? 0.0f : 1.0f;
  const Tensor row_mask = Tensor::from_vector(m, Shape{1, P, 1, n_k});
  const Tensor qi = narrow(scale.scale_queries(q, n_k, causal, Tensor()), 2, i, 1);
  Tensor scores = matmul(qi, k, Transposed::B) * scale.base;  // [b, h, 1, n_k]
  scores = masked_fill(scores, row_mask.to(q.device()), -kInf);
  return reshape(softmax(scores, -1), Shape{q.size(0), heads, n_k});
}

}  // namespace

SparseReferenceCore::SparseReferenceCore(SparseCoreOptions options)
    : AttentionCore(options.scale), options_(std::move(options)) {
  check_options(options_);
}

Tensor SparseReferenceCore::forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                                    const Tensor& key_padding_mask) {
  check_mode(options_, causal);
  const int64_t n_q = q.size(-2), n_k = k.size(-2);
  const FiniteInputs f = finite_inputs(q, k, v);  // a NaN in a hidden key must not meet its weight of 0
  const Tensor q_scaled = scale_.scale_queries(f.q, n_k, causal, key_padding_mask);
  Tensor scores = matmul(q_scaled, f.k, Transposed::B) * scale_.base;  // [b, h, n_q, n_k]
  Tensor mask = sparse_token_mask(options_.patterns, q.size(1), n_q, n_k).to(q.device());
  if (key_padding_mask.defined()) {
    TA_CHECK(key_padding_mask.ndim() == 2 && key_padding_mask.size(1) == n_k, options_.name,
             ": key_padding_mask must be [batch, ", n_k, "], got ", key_padding_mask.shape());
    mask = maximum(mask, reshape(key_padding_mask, Shape{key_padding_mask.size(0), 1, 1, n_k}));
  }
  return mark_seen(matmul(softmax(masked_fill(scores, mask, -kInf), -1), f.v), f, mask);
}

Tensor SparseReferenceCore::query_weights(const Tensor& q, const Tensor& k, int64_t i, Causality causal) {
  return pattern_row_weights(options_, scale_, q, k, i, causal);
}

SparseFusedCore::SparseFusedCore(SparseCoreOptions options, int64_t block)
    : AttentionCore(options.scale), options_(std::move(options)), block_(block) {
  check_options(options_);
  TA_CHECK(block >= 1 && block <= 64, options_.name, ": the block size must be in 1..64, got ", block);
}

std::shared_ptr<const BlockSparseLayout> SparseFusedCore::layout(int64_t n_q, int64_t n_k) {
  if (!layout_ || layout_->n_q != n_q || layout_->n_k != n_k)
    layout_ = build_block_layout(options_.patterns, n_q, n_k, block_);
  return layout_;
}

Tensor SparseFusedCore::forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                                const Tensor& key_padding_mask) {
  check_mode(options_, causal);
  TA_CHECK(q.ndim() == 4 && k.ndim() == 4, options_.name, ": q and k must be [batch, heads, n, d_head], got ",
           q.shape(), " and ", k.shape());
  const int64_t n_k = k.size(2);
  return block_sparse_attention(scale_.scale_queries(q, n_k, causal, key_padding_mask), k, v, layout(q.size(2), n_k),
                                scale_.base, key_padding_mask);
}

Tensor SparseFusedCore::query_weights(const Tensor& q, const Tensor& k, int64_t i, Causality causal) {
  return pattern_row_weights(options_, scale_, q, k, i, causal);
}

// ---- the registered variants ----------------------------------------------------------

namespace {

// The stride l is an option rather than derived from n at each call: a pattern that
// changed with n would differ between the full pass and incremental decoding. The
// paper takes l about sqrt(n); 64 suits n = 3072 (CIFAR-10) to 4096.
const OptionSpec kBlock = integer_option("sparse-block", 32, "b, the block size of the block-sparse kernel", 1, 64,
                                         OptionRole::Size);
const OptionSpec kStride = integer_option("sparse-stride", 64, "l, the stride of the strided and fixed patterns "
                                          "(about sqrt(n))", 1, 1 << 20, OptionRole::Size);
const OptionSpec kCombine = choice_option("sparse-combine", "merged", {"merged", "heads", "layers"},
                                          "how the two factors share the heads: both in every head, split by head, "
                                          "or alternating by layer");

// The patterns of one variant for a config and its options.
using Patterns = std::function<std::vector<SparsePattern>(const AttentionConfig&, const VariantOptions&)>;

// Multi-head attention whose core runs the block-sparse kernel (Form::Declared) or
// the masked dense reference over the same patterns.
AttentionVariant::Builder sparse_builder(Patterns patterns, bool fused) {
  return [patterns, fused](const AttentionConfig& c, const VariantOptions& o, Generator& g) -> std::shared_ptr<TokenMixer> {
    std::vector<SparsePattern> p = patterns(c, o);
    TA_CHECK(static_cast<int64_t>(p.size()) <= c.heads, "attention '", c.name, "': ", p.size(),
             " patterns split across heads need at least that many heads, got ", c.heads);
    SparseCoreOptions core{std::move(p), c.causal, attention_scale(c), o.variant()};
    if (fused) return multi_head_attention(c, std::make_shared<SparseFusedCore>(core, o.integer("sparse-block")), g);
    return multi_head_attention(c, std::make_shared<SparseReferenceCore>(core), g);
  };
}

// A registration of Sparse Transformer attention over `patterns`.
AttentionVariant sparse_variant(std::string name, std::string description, std::vector<OptionSpec> options,
                                const Patterns& patterns, std::map<std::string, std::string> test_options,
                                std::vector<int64_t> fixed_sizes = {}) {
  return {.name = std::move(name),
          .description = std::move(description),
          .options = std::move(options),
          .build = sparse_builder(patterns, true),
          .reference = sparse_builder(patterns, false),
          .fixed_sizes = std::move(fixed_sizes),
          .test_options = {std::move(test_options)}};
}

}  // namespace

const AttentionRegistration sparse_strided_registration(
    sparse_variant("sparse-strided", "Sparse Transformer, strided: previous l + every l-th, block-sparse kernel",
                   {kStride, kBlock, kCombine},
                   [](const AttentionConfig& c, const VariantOptions& o) {
                     return combine_factors(strided_pattern(o.integer("sparse-stride"), c.causality()),
                                            parse_sparse_combine(o.choice("sparse-combine")), c.layer);
                   },
                   {{"sparse-stride", "5"}, {"sparse-block", "4"}}));

const AttentionRegistration sparse_fixed_registration(sparse_variant(
    "sparse-fixed", "Sparse Transformer, fixed: own block of l + c summaries of each, block-sparse",
    {kStride, integer_option("sparse-summary", 8, "c, the summary positions at the end of each block of l (1..l)", 1),
     kBlock, kCombine},
    [](const AttentionConfig& c, const VariantOptions& o) {
      return combine_factors(fixed_pattern(o.integer("sparse-stride"), o.integer("sparse-summary"), c.causality()),
                             parse_sparse_combine(o.choice("sparse-combine")), c.layer);
    },
    {{"sparse-stride", "6"}, {"sparse-summary", "2"}, {"sparse-block", "4"}}));

// The union of a sliding window, global tokens and random key blocks per query
// block (0: none of that kind); a layout of one's own is a variant of one's own.
const AttentionRegistration sparse_registration(sparse_variant(
    "sparse", "block-sparse attention: sliding window (default), global tokens, random blocks",
    {integer_option("sparse-window", 64, "w, the sliding window of each query (0: none)", 0, 1 << 20, OptionRole::Size),
     integer_option("sparse-global", 0, "g, the first positions that see and are seen by all (0: none)", 0),
     integer_option("sparse-random", 0, "random key blocks per query block (0: none)", 0),
     integer_option("sparse-seed", 0, "seed of the random blocks", 0), kBlock},
    [](const AttentionConfig& c, const VariantOptions& o) {
      SparsePattern p;
      if (const int64_t w = o.integer("sparse-window"); w > 0) p.factors.push_back(sliding_window(w, c.causality()));
      if (const int64_t n = o.integer("sparse-global"); n > 0) p.factors.push_back(global_tokens(n, c.causality()));
      if (const int64_t r = o.integer("sparse-random"); r > 0)
        p.factors.push_back(random_blocks(o.integer("sparse-block"), r, o.integer("sparse-seed"), c.causality()));
      TA_CHECK(!p.factors.empty(), "attention 'sparse': no layout given (set sparse-window, sparse-global or ",
               "sparse-random above 0)");
      return std::vector<SparsePattern>{p};
    },
    {{"sparse-window", "6"}, {"sparse-global", "2"}, {"sparse-random", "1"}, {"sparse-block", "4"}},
    {128}));  // the kernel computes runs of active blocks in strips of up to 128 keys (a global row is one long run)

}  // namespace ta
