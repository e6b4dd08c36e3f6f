// tests/attention/test_conformance_fixtures.cpp — the conformance suite against
// variants written wrong on purpose, each the way a user really gets it wrong:
//   - a chunked causal linear attention whose prefix includes the current chunk
//     (a leak, only at lengths above the chunk);
//   - its decoding step replacing the running sum when a chunk completes instead of
//     adding to it (only from the third chunk on);
//   - a block-local attention whose key range starts one position early (an
//     off-by-one block mask, only above the block size; no leak, it looks back);
//   - softmax attention scaled by the length of the whole sequence instead of the
//     query's own (only with the length-aware scale; the bug this suite once missed);
//   - the linear attention hiding future and padded keys by multiplying their weights
//     by a 0 mask (0 x NaN = NaN: a NaN there reaches outputs that may not see it).
// Each of the first three passes the suite when it only tries lengths up to its
// boundary, as the old suite did, and fails it at the lengths that straddle the
// boundary, with a message naming the check, the position and both values. The
// correct linear attention passes: the suite fails what is wrong, not what is unusual.
// The correct ones compute on finite inputs and mark the outputs that see a NaN
// (attention/non_finite.h), as every core written from autograd ops must.
//
// Features: softplus(x), positive and smooth (elu(x) + 1 in Katharopoulos et al.
// 2020; any positive feature map shows the same bugs).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "attention/conformance.h"
#include "attention/multi_head.h"
#include "attention/non_finite.h"
#include "attention/softmax.h"
#include "autograd/ops.h"
#include "core/error.h"

using namespace ta;

namespace {

enum class Bug { None, InclusivePrefix, DecodeReplacesSum, BlockStartsEarly, WholeLengthScale, MultipliesByMask };

// attend(q, k, v) on finite inputs, the outputs that may see a NaN or inf marked (the
// pairs `hidden` [.., n_q, n_k] hides are the ones no output may see).
template <class Attend>
Tensor finite_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& hidden, Attend attend) {
  const FiniteInputs f = finite_inputs(q, k, v);
  return mark_seen(attend(f.q, f.k, f.v), f, hidden);
}

// x with the rows of padded keys set to 0, for x [b, h, n, d] and mask [b, n].
Tensor without_padded(const Tensor& x, const Tensor& key_padding_mask) {
  if (!key_padding_mask.defined()) return x;
  return masked_fill(x, reshape(key_padding_mask, Shape{key_padding_mask.size(0), 1, key_padding_mask.size(1), 1}),
                     0.0f);
}

// The [n_q, n_k] matrix of visible pairs (1 = visible) of a causal mask or all ones.
Tensor visible(int64_t n_q, int64_t n_k, Causality causal) {
  std::vector<float> m(n_q * n_k, 1.0f);
  for (int64_t i = 0; i < n_q && causal == Causality::Causal; ++i)
    for (int64_t j = i + 1 + (n_k - n_q); j < n_k; ++j) m[i * n_k + j] = 0.0f;
  return Tensor::from_vector(m, Shape{n_q, n_k});
}

// ---- linear attention ---------------------------------------------------------------

// out_i = sum_j w_ij v_j / sum_j w_ij,  w_ij = phi(q_i).phi(k_j), j <= i when causal.
class LinearReferenceCore : public AttentionCore {
 public:
  explicit LinearReferenceCore(int64_t = 0) : AttentionCore(AttentionScale{}) {}  // no chunks
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal, const Tensor& pad) override {
    return finite_attention(q, k, v, attention_mask(q.size(2), k.size(2), causal, pad),
                            [&](const Tensor& fq, const Tensor& fk, const Tensor& fv) {
                              return attend(fq, fk, fv, causal, pad);
                            });
  }
  // On finite inputs, multiplying by the mask is exact.
  static Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal, const Tensor& pad) {
    Tensor w =
        matmul(softplus(q), without_padded(softplus(k), pad), Transposed::B) * visible(q.size(2), k.size(2), causal);
    return matmul(w, v) / sum(w, {-1}, KeepDims::Yes);
  }
  const char* name() const override { return "linear-reference"; }
};

struct LinearState : MixerState {
  Tensor keys, values;  // the current chunk: phi(k) and v [b, h, t, d]
  Tensor kv, z;         // over the completed chunks: sum phi(k)^T v [b, h, d, d], sum phi(k) [b, h, 1, d]
};

// The same function by chunks of c: quadratic within a chunk, and the sums
// P_g = sum_{chunks h < g} phi(K_h)^T V_h (and z_g of phi(K_h)) across chunks, an
// exclusive prefix of the cumulative sum over chunks.
class ChunkedLinearCore : public AttentionCore {
 public:
  ChunkedLinearCore(int64_t chunk, Bug bug) : AttentionCore(AttentionScale{}), chunk_(chunk), bug_(bug) {}
  const char* name() const override { return "linear"; }

  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal, const Tensor& pad) override {
    // The bug: the masks below multiply the raw inputs, so a NaN behind a 0 leaks.
    if (bug_ == Bug::MultipliesByMask) return attend(q, k, v, causal, pad);
    return finite_attention(q, k, v, attention_mask(q.size(2), k.size(2), causal, pad),
                            [&](const Tensor& fq, const Tensor& fk, const Tensor& fv) {
                              return attend(fq, fk, fv, causal, pad);
                            });
  }

  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal, const Tensor& pad) const {
    // No prefix sums to get wrong.
    if (causal == Causality::Bidirectional) return LinearReferenceCore::attend(q, k, v, causal, pad);
    const int64_t b = q.size(0), h = q.size(1), n = q.size(2), d = q.size(3), c = chunk_;
    const int64_t g = (n + c - 1) / c, n_pad = g * c;
    auto chunks = [&](Tensor x) {  // [b, h, n, d] -> [b h, G, c, d], zero rows past n (after every real one)
      if (n_pad > n) x = concat({x, Tensor::zeros(Shape{b, h, n_pad - n, d})}, 2);
      return reshape(x, Shape{b * h, g, c, d});
    };
    Tensor padded = pad;
    if (pad.defined() && n_pad > n) padded = concat({pad, Tensor::zeros(Shape{b, n_pad - n})}, 1);
    const Tensor qf = softplus(chunks(q)), vc = chunks(v);
    const Tensor kf = reshape(without_padded(reshape(softplus(chunks(k)), Shape{b, h, n_pad, d}), padded),
                              Shape{b * h, g, c, d});
    const Tensor local = matmul(qf, kf, Transposed::B) * visible(c, c, Causality::Causal);  // [bh, G, c, c]
    Tensor num = matmul(local, vc), den = sum(local, {-1}, KeepDims::Yes);
    if (g > 1) {
      const Tensor kv = cumsum(matmul(kf, vc, Transposed::A), 1), z = cumsum(sum(kf, {2}, KeepDims::Yes), 1);
      // Chunk g reads the sum through chunk g - 1. The bug reads through chunk g itself.
      const int64_t first = bug_ == Bug::InclusivePrefix ? 1 : 0;
      auto prefix = [&](const Tensor& s) {
        return concat({Tensor::zeros(Shape{b * h, 1, s.size(2), s.size(3)}), narrow(s, 1, first, g - 1)}, 1);
      };
      num = num + matmul(qf, prefix(kv));
      den = den + matmul(qf, prefix(z), Transposed::B);
    }
    return narrow(reshape(num / den, Shape{b, h, n_pad, d}), 2, 0, n);
  }

  std::unique_ptr<MixerState> start_decoding(int64_t) const override { return std::make_unique<LinearState>(); }

  Tensor step(const Tensor& q, const Tensor& k, const Tensor& v, MixerState& state) override {
    auto& s = dynamic_cast<LinearState&>(state);
    if (s.position > 0 && s.position % chunk_ == 0) {  // a chunk is complete: into the sums
      const Tensor kv = matmul(s.keys, s.values, Transposed::A), z = sum(s.keys, {2}, KeepDims::Yes);
      const bool add = s.kv.defined() && bug_ != Bug::DecodeReplacesSum;
      s.kv = add ? s.kv + kv : kv;
      s.z = add ? s.z + z : z;
      s.keys = s.values = Tensor();
    }
    s.keys = s.keys.defined() ? concat({s.keys, softplus(k)}, 2) : softplus(k);
    s.values = s.values.defined() ? concat({s.values, v}, 2) : v;
    const Tensor qf = softplus(q), w = matmul(qf, s.keys, Transposed::B);
    Tensor num = matmul(w, s.values), den = sum(w, {-1}, KeepDims::Yes);
    if (s.kv.defined()) {
      num = num + matmul(qf, s.kv);
      den = den + matmul(qf, s.z, Transposed::B);
    }
    return num / den;
  }

 private:
  int64_t chunk_;
  Bug bug_;
};

// ---- block-local softmax attention --------------------------------------------------

// Query i sees the keys of its own block of b (j <= i when causal), exact softmax.
constexpr float kHidden = -1e30f;  // finite, so a padded query whose block is all padding stays finite

Tensor block_mask(int64_t n, int64_t block, Causality causal) {
  std::vector<float> m(n * n, 1.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (j / block == i / block && (causal == Causality::Bidirectional || j <= i)) m[i * n + j] = 0.0f;
  return Tensor::from_vector(m, Shape{n, n});
}

Tensor padded_keys(const Tensor& pad, int64_t from, int64_t count) {
  return reshape(narrow(pad, 1, from, count), Shape{pad.size(0), 1, 1, count});
}

// The pairs of a block-local attention that no output sees: outside its block (later
// keys, causally) or padded.
Tensor block_hidden(int64_t n, int64_t n_k, int64_t block, Causality causal, const Tensor& pad) {
  const int64_t shift = n_k - n;
  std::vector<float> m(n * n_k, 1.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n_k; ++j)
      if (j / block == (i + shift) / block && (causal == Causality::Bidirectional || j <= i + shift))
        m[i * n_k + j] = 0.0f;
  const Tensor hidden = Tensor::from_vector(m, Shape{n, n_k});
  return pad.defined() ? maximum(hidden, padded_keys(pad, 0, n_k)) : hidden;
}

class BlockLocalReferenceCore : public AttentionCore {
 public:
  explicit BlockLocalReferenceCore(int64_t block) : AttentionCore(AttentionScale{0.5f}), block_(block) {}
  const char* name() const override { return "block-local-reference"; }
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal, const Tensor& pad) override {
    const int64_t n = q.size(2);
    return finite_attention(
        q, k, v, block_hidden(n, n, block_, causal, pad), [&](const Tensor& fq, const Tensor& fk, const Tensor& fv) {
          Tensor s = masked_fill(matmul(fq, fk, Transposed::B) * scale_.base, block_mask(n, block_, causal), kHidden);
          if (pad.defined()) s = masked_fill(s, padded_keys(pad, 0, n), kHidden);
          return matmul(softmax(s, -1), fv);
        });
  }

 private:
  int64_t block_;
};

// Block by block: the queries of a block against the keys of that block. The n_q
// queries are the last of the n_k positions (a decoding step: one query, every key).
class BlockLocalCore : public AttentionCore {
 public:
  BlockLocalCore(int64_t block, Bug bug) : AttentionCore(AttentionScale{0.5f}), block_(block), bug_(bug) {}
  const char* name() const override { return "block-local"; }
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal, const Tensor& pad) override {
    return finite_attention(q, k, v, block_hidden(q.size(2), k.size(2), block_, causal, pad),
                            [&](const Tensor& fq, const Tensor& fk, const Tensor& fv) {
                              return attend(fq, fk, fv, causal, pad);
                            });
  }

 private:
  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal, const Tensor& pad) const {
    const int64_t n_k = k.size(2), shift = n_k - q.size(2);
    std::vector<Tensor> out;
    for (int64_t start = shift / block_ * block_; start < n_k; start += block_) {
      const int64_t q_from = std::max(start, shift), q_to = std::min(start + block_, n_k), rows = q_to - q_from;
      // The bug: the keys of block g start one position early (g > 0).
      const int64_t first = bug_ == Bug::BlockStartsEarly && start > 0 ? start - 1 : start;
      const int64_t keys = (causal == Causality::Causal ? q_to : std::min(start + block_, n_k)) - first;
      Tensor s = matmul(narrow(q, 2, q_from - shift, rows), narrow(k, 2, first, keys), Transposed::B) * scale_.base;
      s = masked_fill(s, 1.0f - visible(rows, keys, causal), kHidden);
      if (pad.defined()) s = masked_fill(s, padded_keys(pad, first, keys), kHidden);
      out.push_back(matmul(softmax(s, -1), narrow(v, 2, first, keys)));
    }
    return concat(out, 2);
  }

  int64_t block_;
  Bug bug_;
};

// A fixture: Core(size, bug) in multi-head attention, held to Reference(size); one
// size option, `test_size` in the suite's runs.
template <class Core, class Reference>
AttentionVariant fixture(const std::string& name, const std::string& size_option, int64_t test_size, Bug bug) {
  return {.name = name,
          .description = "a conformance fixture",
          .options = {integer_option(size_option, 16, "positions per chunk or block", 1, 1 << 20, OptionRole::Size)},
          .build = [=](const AttentionConfig& c, const VariantOptions& o, Generator& g) -> std::shared_ptr<TokenMixer> {
            return multi_head_attention(c, std::make_shared<Core>(o.integer(size_option), bug), g);
          },
          .reference = [=](const AttentionConfig& c, const VariantOptions& o, Generator& g) -> std::shared_ptr<TokenMixer> {
            return multi_head_attention(c, std::make_shared<Reference>(o.integer(size_option)), g);
          },
          .test_options = {{{size_option, std::to_string(test_size)}}},
          .length_scale = LengthScale::NotApplicable};
}

AttentionVariant linear_attention(Bug bug) {
  return fixture<ChunkedLinearCore, LinearReferenceCore>("linear", "linear-chunk", 5, bug);
}

AttentionVariant block_local_attention(Bug bug) {
  return fixture<BlockLocalCore, BlockLocalReferenceCore>("block-local", "block-local-size", 6, bug);
}

// ---- softmax scaled by the whole length -----------------------------------------------

// Every query's scores times log(n_k) / log(L): n_k is the length of the whole
// sequence in the full pass, but only the tokens so far when decoding.
class WholeLengthScaleCore : public AttentionCore {
 public:
  explicit WholeLengthScaleCore(AttentionScale scale) : AttentionCore(scale) {}
  const char* name() const override { return "whole-length-scale"; }
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal, const Tensor& pad) override {
    const int64_t n_q = q.size(2), n_k = k.size(2);
    const float length = scale_.length_aware() && n_k > 1 ? static_cast<float>(std::log(n_k) /
                                                                              std::log(scale_.train_length))
                                                          : 1.0f;
    return finite_attention(
        q, k, v, attention_mask(n_q, n_k, causal, pad), [&](const Tensor& fq, const Tensor& fk, const Tensor& fv) {
          Tensor s = masked_fill(matmul(fq, fk, Transposed::B) * (scale_.base * length),
                                 1.0f - visible(n_q, n_k, causal), -std::numeric_limits<float>::infinity());
          if (pad.defined()) s = masked_fill(s, padded_keys(pad, 0, n_k), -std::numeric_limits<float>::infinity());
          return matmul(softmax(s, -1), fv);
        });
  }
};

AttentionVariant whole_length_scale_attention() {
  return {.name = "whole-length-scale",
          .description = "softmax attention, length-aware scale from the whole sequence's length",
          .build = [](const AttentionConfig& c, const VariantOptions&, Generator& g) -> std::shared_ptr<TokenMixer> {
            return multi_head_attention(c, std::make_shared<WholeLengthScaleCore>(attention_scale(c)), g);
          }};
}

// The first failure of `check`, which must name a position and two values.
void check_failure_names_position_and_values(const ConformanceReport& report, const std::string& check) {
  CAPTURE(report.str());
  REQUIRE(report.failed(check));
  for (const ConformanceFailure& f : report.failures)
    if (f.check == check) {
      CHECK(f.str().rfind(check + ": ", 0) == 0);
      CHECK(f.where.find(", n = ") != std::string::npos);
      CHECK(f.detail.find("position ") != std::string::npos);
      CHECK(f.detail.find(" vs ") != std::string::npos);
      CHECK(f.detail.find("{?}") == std::string::npos);
      return;
    }
}

ConformanceOptions up_to(int64_t max_length) {
  ConformanceOptions o;
  o.max_length = max_length;
  return o;
}

}  // namespace

TEST_CASE("conformance fixtures: the correct chunked linear attention passes") {
  const ConformanceReport report = check_conformance(linear_attention(Bug::None));
  CHECK_MESSAGE(report.ok(), report.str());
  const ConformanceReport block = check_conformance(block_local_attention(Bug::None));
  CHECK_MESSAGE(block.ok(), block.str());
}

TEST_CASE("conformance fixtures: a prefix sum that includes the current chunk leaks, above the chunk size") {
  const AttentionVariant broken = linear_attention(Bug::InclusivePrefix);
  CHECK_MESSAGE(check_conformance(broken, up_to(5)).ok(), "below and at the chunk (5) the leak does not show");
  const ConformanceReport report = check_conformance(broken);
  check_failure_names_position_and_values(report, "no leak");
  CHECK(report.failed("reference"));
}

TEST_CASE("conformance fixtures: a decoding step that forgets to accumulate fails from the third chunk on") {
  const AttentionVariant broken = linear_attention(Bug::DecodeReplacesSum);
  CHECK_MESSAGE(check_conformance(broken, up_to(10)).ok(), "two chunks of 5 decode right");
  const ConformanceReport report = check_conformance(broken);
  check_failure_names_position_and_values(report, "decoding");
  CHECK(!report.failed("no leak"));
}

TEST_CASE("conformance fixtures: an off-by-one block mask differs from the reference above the block size") {
  const AttentionVariant broken = block_local_attention(Bug::BlockStartsEarly);
  CHECK_MESSAGE(check_conformance(broken, up_to(6)).ok(), "one block has no block before it");
  const ConformanceReport report = check_conformance(broken);
  check_failure_names_position_and_values(report, "reference");
  CHECK(!report.failed("no leak"));  // it reads an earlier key: wrong, but no leak
}

TEST_CASE("conformance fixtures: hiding keys by multiplying with a 0 mask lets a NaN through, and only that fails") {
  const ConformanceReport report = check_conformance(linear_attention(Bug::MultipliesByMask));
  check_failure_names_position_and_values(report, "non-finite");
  for (const ConformanceFailure& f : report.failures) CHECK_MESSAGE(f.check == "non-finite", f.str());
  // Both ways in: a NaN in a later key, and one in a padded key.
  const auto has = [&](const std::string& text) {
    for (const ConformanceFailure& f : report.failures)
      if (f.detail.find(text) != std::string::npos) return true;
    return false;
  };
  CHECK_MESSAGE(has("a NaN at position "), report.str());
  CHECK_MESSAGE(has("at the padded positions of sample 1"), report.str());
  CHECK(report.str().find("nan") != std::string::npos);
}

TEST_CASE("conformance fixtures: a length-aware scale from the whole length fails decoding") {
  const ConformanceReport report = check_conformance(whole_length_scale_attention());
  check_failure_names_position_and_values(report, "decoding");
  for (const ConformanceFailure& f : report.failures) {
    CAPTURE(f.str());
    CHECK(f.where.find("length-aware scale") != std::string::npos);  // the plain scale is right
  }
}
