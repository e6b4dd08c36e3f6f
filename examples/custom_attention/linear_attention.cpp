// examples/custom_attention/linear_attention.cpp — a new attention variant written
// outside the library, against its installed headers only, and registered as
// "linear": the linear attention of Katharopoulos, Vyas, Pappas and Fleuret (2020),
// "Transformers are RNNs: fast autoregressive Transformers with linear attention".
//
// Softmax attention weighs value j for query i by exp(q_i . k_j / sqrt(d)). Linear
// attention replaces the exponential by a kernel sim(q, k) = phi(q) . phi(k) with a
// positive feature map, phi(x) = elu(x) + 1, so that
//
//   out_i = sum_j (phi(q_i) . phi(k_j)) v_j / sum_j phi(q_i) . phi(k_j)                 (A)
//         = phi(q_i)^T S / phi(q_i)^T z,  S = sum_j phi(k_j) v_j^T,  z = sum_j phi(k_j)   (B)
//
// The second line regroups the first by associativity: S [d, d] and z [d] are
// computed once for all queries, so the cost is O(n d^2) instead of O(n^2 d). In
// causal attention j runs up to i only, so S and z become prefix sums S_i, z_i;
// kept as running sums they turn decoding into an RNN whose step costs O(d^2)
// whatever the length (the paper's title: "Transformers are RNNs").
//
// The same function is written four times below:
//   1. the reference: (A) as an n x n masked product (what the others are held to);
//   2. bidirectional: (B);
//   3. causal, by chunks of c positions: (A) inside each chunk (a masked c x c
//      product) plus (B) with the sums over the earlier chunks only, so memory is
//      O(n c + (n / c) d^2), linear in n;
//   4. decoding: the running sums S_i, z_i, one token at a time.
// Like the authors' code, every form adds eps = 1e-6 to the denominator: a query
// whose keys are all padding then gives 0 instead of 0 / 0.
//
// A NaN or inf in a key or value that a query may not see (a later position, a padded
// one) must not reach that query's output, but 0 x NaN is NaN: a mask that multiplies
// lets it through. So the forward forms compute on the inputs made finite and then set
// to NaN exactly the outputs that may see a non-finite input (attention/non_finite.h);
// which ones those are is itself a linear attention, of the "bad" indicator, in O(n).
//
// Nothing else in the program refers to this file: the registration at the bottom
// makes "linear" a variant like the built-in ones, found by name.
#include <tinyattn.h>

#include <memory>
#include <vector>

using namespace ta;

namespace {

constexpr float kEps = 1e-6f;

// phi(x) = elu(x) + 1: positive, so every weight phi(q) . phi(k) is.
Tensor phi(const Tensor& x) { return elu(x) + 1.0f; }

// phi(k) for k [b, h, n, d], with the rows of padded keys (key_padding_mask [b, n],
// 1 = padded) set to 0, so that they drop out of every sum.
Tensor key_features(const Tensor& k, const Tensor& key_padding_mask) {
  if (!key_padding_mask.defined()) return phi(k);
  const Tensor padded = reshape(key_padding_mask, Shape{k.size(0), 1, k.size(2), 1});
  return masked_fill(phi(k), padded, 0.0f);
}

// [n_q, n_k] with 1 where query i may see key j: j <= i + (n_k - n_q) (the queries are
// the last n_q positions, as AttentionCore::forward says).
Tensor causal_mask(int64_t n_q, int64_t n_k, Device device) {
  std::vector<float> m(n_q * n_k, 0.0f);
  for (int64_t i = 0; i < n_q; ++i)
    for (int64_t j = 0; j <= i + (n_k - n_q); ++j) m[i * n_k + j] = 1.0f;
  return Tensor::from_vector(m, Shape{n_q, n_k}, device);
}

// attend(q, k, v) on the inputs made finite, then NaN in every output that may see a
// non-finite query, key or value. Whether output i sees one is the same attention
// with phi = 1 (q = k = 0) over the indicator of the bad positions as values: it is
// positive exactly when a visible key or value held a NaN or inf.
template <class Attend>
Tensor with_non_finite_marked(const Tensor& q, const Tensor& k, const Tensor& v, Attend attend) {
  const FiniteInputs f = finite_inputs(q, k, v);
  const Tensor out = attend(f.q, f.k, f.v);
  const Tensor q0 = Tensor::zeros(Shape{q.size(0), q.size(1), q.size(2), 1}, q.device());
  const Tensor k0 = Tensor::zeros(Shape{k.size(0), k.size(1), k.size(2), 1}, k.device());
  const Tensor seen = attend(q0, k0, f.bad_kv);
  return mark_non_finite(out, f.bad_q + seen);
}

// 1. The reference, (A): w_ij = phi(q_i) . phi(k_j) (times the causal mask),
// out_i = sum_j w_ij v_j / (sum_j w_ij + eps). Quadratic in n; short and plainly the
// paper's formula, so the conformance suite holds the fast forms to it.
class LinearAttentionReference : public AttentionCore {
 public:
  LinearAttentionReference() : AttentionCore(AttentionScale{}) {}
  const char* name() const override { return "linear-reference"; }

  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                 const Tensor& key_padding_mask) override {
    return with_non_finite_marked(q, k, v, [&](const Tensor& qq, const Tensor& kk, const Tensor& vv) {
      Tensor w = matmul(phi(qq), key_features(kk, key_padding_mask), Transposed::B);  // [b, h, n_q, n_k]
      if (causal == Causality::Causal) w = w * causal_mask(qq.size(2), kk.size(2), qq.device());
      return matmul(w, vv) / (sum(w, {-1}, KeepDims::Yes) + kEps);
    });
  }
};

// The decoding state: S = sum_j phi(k_j) v_j^T [b, h, d, d] and z = sum_j phi(k_j)
// [b, h, 1, d] over the tokens so far (undefined before the first).
struct RunningSums : MixerState {
  Tensor s, z;
};

class LinearAttention : public AttentionCore {
 public:
  explicit LinearAttention(int64_t chunk) : AttentionCore(AttentionScale{}), chunk_(chunk) {}
  const char* name() const override { return "linear"; }

  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                 const Tensor& key_padding_mask) override {
    TA_CHECK(q.size(2) == k.size(2), "linear attention: ", q.size(2), " queries for ", k.size(2),
             " keys; it expects one query per key (decoding goes through step())");
    return with_non_finite_marked(q, k, v, [&](const Tensor& qq, const Tensor& kk, const Tensor& vv) {
      return causal == Causality::Causal ? chunked_causal(qq, kk, vv, key_padding_mask)
                                         : bidirectional(qq, kk, vv, key_padding_mask);
    });
  }

  // 2. Bidirectional, (B): S = phi(K)^T V and z = the column sums of phi(K), once
  // for all queries; out = phi(Q) S / (phi(Q) z + eps).
  Tensor bidirectional(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask) const {
    const Tensor qf = phi(q), kf = key_features(k, key_padding_mask);
    const Tensor s = matmul(kf, v, Transposed::A), z = sum(kf, {2}, KeepDims::Yes);  // [b, h, d, d], [b, h, 1, d]
    return matmul(qf, s) / (matmul(qf, z, Transposed::B) + kEps);
  }

  // 3. Causal, by chunks of c. For the queries of chunk g:
  //   inside the chunk:  W_g = (phi(Q_g) phi(K_g)^T) * M, M the causal c x c mask;
  //                      numerator W_g V_g, denominator the row sums of W_g;
  //   earlier chunks:    S_g = sum_{h < g} phi(K_h)^T V_h, z_g = sum_{h < g} phi(K_h),
  //                      numerator + phi(Q_g) S_g, denominator + phi(Q_g) z_g.
  // S_g is the cumulative sum over chunks shifted by one (an exclusive prefix): chunk
  // g must not read its own keys through S_g, or a query would see keys after it.
  Tensor chunked_causal(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask) const {
    const int64_t b = q.size(0), h = q.size(1), n = q.size(2), d = q.size(3), c = chunk_;
    const int64_t chunks = (n + c - 1) / c;
    // [b, h, n, d] -> [b h, chunks, c, d], with zero rows after position n when c does
    // not divide it: a zero key feature adds nothing to any sum, and the outputs of
    // those rows are cut off at the end.
    auto by_chunks = [&](Tensor x) {
      if (chunks * c > n) x = concat({x, Tensor::zeros(Shape{b, h, chunks * c - n, d}, x.device())}, 2);
      return reshape(x, Shape{b * h, chunks, c, d});
    };
    const Tensor qf = by_chunks(phi(q)), kf = by_chunks(key_features(k, key_padding_mask)), vc = by_chunks(v);

    const Tensor w = matmul(qf, kf, Transposed::B) * causal_mask(c, c, q.device());  // [b h, chunks, c, c]
    Tensor numerator = matmul(w, vc), denominator = sum(w, {-1}, KeepDims::Yes);
    if (chunks > 1) {
      const Tensor s = exclusive_prefix(matmul(kf, vc, Transposed::A));  // [b h, chunks, d, d]
      const Tensor z = exclusive_prefix(sum(kf, {2}, KeepDims::Yes));    // [b h, chunks, 1, d]
      numerator = numerator + matmul(qf, s);
      denominator = denominator + matmul(qf, z, Transposed::B);
    }
    const Tensor out = reshape(numerator / (denominator + kEps), Shape{b, h, chunks * c, d});
    return narrow(out, 2, 0, n);
  }

  // 4. Decoding, the RNN: S += phi(k_t) v_t^T, z += phi(k_t), then
  // out_t = phi(q_t) S / (phi(q_t) z + eps). q, k, v [b, h, 1, d].
  std::unique_ptr<MixerState> start_decoding(int64_t) const override { return std::make_unique<RunningSums>(); }

  Tensor step(const Tensor& q, const Tensor& k, const Tensor& v, MixerState& state) override {
    auto& sums = dynamic_cast<RunningSums&>(state);
    const Tensor kf = phi(k), kv = matmul(kf, v, Transposed::A);
    sums.s = sums.s.defined() ? sums.s + kv : kv;
    sums.z = sums.z.defined() ? sums.z + kf : kf;
    const Tensor qf = phi(q);
    return matmul(qf, sums.s) / (matmul(qf, sums.z, Transposed::B) + kEps);
  }

 private:
  // x [b h, chunks, r, d] -> the sum of x over the chunks before each one: chunk 0
  // gets zeros, chunk g the cumulative sum through chunk g - 1.
  static Tensor exclusive_prefix(const Tensor& x) {
    const int64_t chunks = x.size(1);
    const Tensor zeros = Tensor::zeros(Shape{x.size(0), 1, x.size(2), x.size(3)}, x.device());
    return concat({zeros, narrow(cumsum(x, 1), 1, 0, chunks - 1)}, 1);
  }

  int64_t chunk_;
};

// The registration: the variant's name, its own option (the chunk size, declared a
// Size: the conformance suite tests lengths just below, at, just above and several
// times above it), how to build it, the reference it must equal, the option values
// the suite runs (chunks of 5 and 1, so that short sequences span many, and the
// default), and that it takes no length-aware scale (it has no softmax).
// multi_head_attention() puts the core between the projections that all multi-head
// variants share; the reference is built with the same generator calls, so both
// draw the same weights.
const AttentionRegistration linear_attention_registration({
    .name = "linear",
    .description = "linear attention, elu(x) + 1 features (Katharopoulos et al. 2020), chunked causal form",
    .options = {integer_option("linear-chunk", 64, "positions per chunk of the causal form", 1, 1 << 16,
                               OptionRole::Size)},
    .build = [](const AttentionConfig& c, const VariantOptions& o, Generator& g) -> std::shared_ptr<TokenMixer> {
      return multi_head_attention(c, std::make_shared<LinearAttention>(o.integer("linear-chunk")), g);
    },
    .reference = [](const AttentionConfig& c, const VariantOptions&, Generator& g) -> std::shared_ptr<TokenMixer> {
      return multi_head_attention(c, std::make_shared<LinearAttentionReference>(), g);
    },
    .test_options = {{{"linear-chunk", "5"}}, {{"linear-chunk", "1"}}, {{"linear-chunk", "64"}}},
    .length_scale = LengthScale::NotApplicable});

}  // namespace
