// The conformance suite (conformance.h): the cases it runs, the checks, and the
// messages that name where a variant goes wrong.
#include "attention/conformance.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

namespace {

constexpr int64_t kBatch = 2;
constexpr float kInitStd = 0.3f;  // larger than training's 0.02, so attention weights are far from uniform

// One run of the checks: a variant with one option set, mode, scale and length.
struct Case {
  const AttentionVariant& variant;
  const std::map<std::string, std::string>& options;
  bool causal;
  int64_t train_length;  // 0: the plain scale
  int64_t n;
  std::vector<int64_t> sizes;  // the variant's boundaries, for choosing positions to probe

  std::string where() const {
    std::string s = variant.name + " (" + (causal ? "causal" : "bidirectional");
    if (train_length > 0) s += cat(", length-aware scale ", train_length);
    for (const auto& [name, value] : options) s += ", " + name + "=" + value;
    return s + cat("), n = ", n);
  }
};

// ---- comparing values ----------------------------------------------------------------

struct Difference {
  int64_t index;
  float got, want;
};

// The first element where |got - want| > atol + rtol |want| (a NaN anywhere counts);
// atol = rtol = 0 asks for the same bits up to the sign of zero.
std::optional<Difference> first_difference(const std::vector<float>& got, const std::vector<float>& want, float atol,
                                           float rtol) {
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= atol + rtol * std::fabs(want[i])))
      return Difference{static_cast<int64_t>(i), got[i], want[i]};
  return std::nullopt;
}

float largest(const std::vector<float>& v) {
  float m = 0.0f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

// Element `index` of a [batch, n, d] tensor, in words.
std::string position_of(int64_t index, int64_t n, int64_t d) {
  return cat("position ", (index / d) % n, " (sample ", index / (n * d), ", channel ", index % d, ")");
}

std::string values(float got, float want, const char* got_name, const char* want_name) {
  std::ostringstream os;
  os.precision(7);
  os << got_name << " " << got << " vs " << want_name << " " << want << " (|diff| " << std::fabs(got - want) << ")";
  return os.str();
}

// ---- inputs and runs -------------------------------------------------------------------

Tensor random_input(int64_t n, int64_t d, uint64_t seed) {
  Generator g(seed);
  return Tensor::normal(Shape{kBatch, n, d}, 0.0f, 1.0f, g);
}

// x with the positions in [from, to) of the samples in `samples` replaced by fresh values.
Tensor replaced(const Tensor& x, const std::vector<int64_t>& samples, const std::vector<int64_t>& positions,
                uint64_t seed) {
  std::vector<float> v = x.to_vector();
  Generator g(seed);
  const int64_t n = x.size(1), d = x.size(2);
  for (int64_t b : samples)
    for (int64_t p : positions)
      for (int64_t c = 0; c < d; ++c) v[(b * n + p) * d + c] = 3.0f * (g.next_uniform() - 0.5f);
  return Tensor::from_vector(v, x.shape());
}

// x with non-finite values at `positions` of the samples in `samples`: the first
// position all NaN, the next -inf and +inf in alternate channels, and so on.
Tensor with_non_finite(const Tensor& x, const std::vector<int64_t>& samples, const std::vector<int64_t>& positions) {
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN(), kInf = std::numeric_limits<float>::infinity();
  std::vector<float> v = x.to_vector();
  const int64_t n = x.size(1), d = x.size(2);
  for (int64_t b : samples)
    for (size_t k = 0; k < positions.size(); ++k)
      for (int64_t c = 0; c < d; ++c)
        v[(b * n + positions[k]) * d + c] = k % 2 == 0 ? kNaN : (c % 2 == 0 ? -kInf : kInf);
  return Tensor::from_vector(v, x.shape());
}

std::vector<int64_t> range(int64_t from, int64_t to) {
  std::vector<int64_t> r;
  for (int64_t i = from; i < to; ++i) r.push_back(i);
  return r;
}

struct Gradients {
  std::vector<float> output, input;
  std::map<std::string, std::vector<float>> params;
};

// Forward with `mask`, then backward of sum(y * g): the output and every gradient.
Gradients run_backward(TokenMixer& mixer, const Tensor& x, const Tensor& mask, const Tensor& g) {
  mixer.zero_grad();
  Tensor leaf = x.detach().set_requires_grad();
  Tensor y = mixer.forward(leaf, mask);
  backward(sum(y * g));
  Gradients r;
  r.output = y.to_vector();
  r.input = leaf.grad().defined() ? leaf.grad().to_vector() : std::vector<float>(x.numel(), 0.0f);
  for (const auto& [name, p] : mixer.named_parameters())
    r.params[name] = p.grad().defined() ? p.grad().to_vector() : std::vector<float>(p.numel(), 0.0f);
  return r;
}

// sum(y * g) in double, without recording.
double projected(TokenMixer& mixer, const Tensor& x, const std::vector<float>& g) {
  NoGradGuard no_grad;
  const std::vector<float> y = mixer.forward(x).to_vector();
  double s = 0.0;
  for (size_t i = 0; i < y.size(); ++i) s += static_cast<double>(y[i]) * g[i];
  return s;
}

// ---- the suite -----------------------------------------------------------------------

class Suite {
 public:
  Suite(const AttentionVariant& variant, const ConformanceOptions& options, ConformanceReport& report)
      : variant_(variant), o_(options), report_(report) {}

  void run(const Case& c) {
    report_.cases += 1;
    const Tensor x = random_input(c.n, o_.d_model, o_.seed + static_cast<uint64_t>(c.n));
    std::shared_ptr<TokenMixer> mixer;
    Tensor y;
    try {
      mixer = build(c, Form::Declared);
      y = mixer->forward(x);
    } catch (const std::exception& e) {
      fail("shape", c, cat("building or running it threw: ", e.what()));
      return;
    }
    if (!shape(c, y)) return;
    guarded("determinism", c, [&] { determinism(c, *mixer, x, y); });
    guarded("batch independence", c, [&] { batch_independence(c, *mixer, x, y); });
    guarded("padding", c, [&] { padding(c, *mixer, x); });
    guarded("non-finite", c, [&] { non_finite(c, *mixer, x); });
    if (c.causal) {
      guarded("no leak", c, [&] { no_leak(c, *mixer, x, y); });
      guarded("decoding", c, [&] { decoding(c, *mixer, x, y); });
    }
    guarded("gradient", c, [&] { gradient(c, *mixer, x); });
    if (variant_.reference) guarded("reference", c, [&] { reference(c, *mixer, x); });
  }

 private:
  std::shared_ptr<TokenMixer> build(const Case& c, Form form) const {
    AttentionConfig config{.name = variant_.name, .d_model = o_.d_model, .heads = o_.heads, .causal = c.causal,
                           .init_std = kInitStd, .train_length = c.train_length, .options = c.options};
    Generator gen(o_.seed);
    std::shared_ptr<TokenMixer> m = make_attention(variant_, config, gen, form);
    m->eval();
    return m;
  }

  void fail(const std::string& check, const Case& c, const std::string& detail) {
    if (report_.failures.size() < ConformanceReport::kMaxFailures)
      report_.failures.push_back({check, c.where(), detail});
    else
      report_.more_failures += 1;
  }

  // Runs one check; an exception is that check's failure.
  template <class F>
  void guarded(const std::string& check, const Case& c, F&& f) {
    report_.checks += 1;
    try {
      f();
    } catch (const std::exception& e) {
      fail(check, c, cat("threw: ", e.what()));
    }
  }

  // Probe positions in [first, n): the first and last, and those around each size.
  std::vector<int64_t> probes(const Case& c, int64_t first) const {
    std::set<int64_t> p;
    for (int64_t q : {first, c.n - 1}) p.insert(q);
    for (int64_t s : c.sizes)
      for (int64_t q : {s - 1, s, s + 1}) p.insert(q);
    std::vector<int64_t> inside;
    for (int64_t q : p)
      if (q >= first && q < c.n) inside.push_back(q);
    return inside;
  }

  bool shape(const Case& c, const Tensor& y) {
    report_.checks += 1;
    if (y.shape() != Shape({kBatch, c.n, o_.d_model})) {
      fail("shape", c, cat("output shape ", y.shape(), " for input [", kBatch, ", ", c.n, ", ", o_.d_model, "]"));
      return false;
    }
    const std::vector<float> v = y.to_vector();
    for (size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i])) {
        fail("shape", c, cat("output ", position_of(static_cast<int64_t>(i), c.n, o_.d_model), " is ", v[i]));
        return false;
      }
    return true;
  }

  void determinism(const Case& c, TokenMixer& mixer, const Tensor& x, const Tensor& y) {
    const std::vector<float> want = y.to_vector();
    if (auto d = first_difference(mixer.forward(x).to_vector(), want, 0, 0))
      return fail("determinism", c, cat("a second call differs at ", position_of(d->index, c.n, o_.d_model), ": ",
                                        values(d->got, d->want, "second", "first")));
    if (auto d = first_difference(build(c, Form::Declared)->forward(x).to_vector(), want, 0, 0))
      fail("determinism", c, cat("a second build from the same seed differs at ",
                                 position_of(d->index, c.n, o_.d_model), ": ", values(d->got, d->want, "second", "first")));
  }

  void batch_independence(const Case& c, TokenMixer& mixer, const Tensor& x, const Tensor& y) {
    const std::vector<float> changed = mixer.forward(replaced(x, {1}, {0, c.n - 1}, 5)).to_vector();
    const std::vector<float> want = y.to_vector();
    const size_t half = want.size() / 2;
    if (auto d = first_difference({changed.begin(), changed.begin() + half}, {want.begin(), want.begin() + half}, 0, 0))
      fail("batch independence", c, cat("changing sample 1 moved sample 0 at ", position_of(d->index, c.n, o_.d_model),
                                        ": ", values(d->got, d->want, "now", "before")));
  }

  // Sample 1 padded at position 1, at the sizes below n - 1 and at the end.
  std::vector<int64_t> padded_positions(const Case& c) const {
    std::set<int64_t> p = {1, c.n - 1};
    for (int64_t s : c.sizes)
      if (s < c.n - 1) p.insert(s);
    p.erase(0);
    return {p.begin(), p.end()};
  }

  Tensor padding_mask(const Case& c) const {
    std::vector<float> m(kBatch * c.n, 0.0f);
    for (int64_t p : padded_positions(c)) m[c.n + p] = 1.0f;
    return Tensor::from_vector(m, Shape{kBatch, c.n});
  }

  void padding(const Case& c, TokenMixer& mixer, const Tensor& x) {
    if (c.n < 2) return;
    const Tensor mask = padding_mask(c);
    const std::vector<int64_t> padded = padded_positions(c);
    const std::vector<float> before = mixer.forward(x, mask).to_vector();
    const std::vector<float> after = mixer.forward(replaced(x, {1}, padded, 6), mask).to_vector();
    const float atol = 1e-6f * largest(before);
    std::set<int64_t> skip(padded.begin(), padded.end());
    for (size_t i = 0; i < before.size(); ++i) {
      const int64_t p = (static_cast<int64_t>(i) / o_.d_model) % c.n;
      if (!std::isfinite(before[i]))
        return fail("padding", c, cat("with sample 1 padded, output ", position_of(i, c.n, o_.d_model), " is ",
                                      before[i]));
      if (i >= before.size() / 2 && skip.count(p)) continue;
      if (!(std::fabs(after[i] - before[i]) <= atol + 1e-5f * std::fabs(before[i])))
        return fail("padding", c, cat("changing the padded positions of sample 1 moved ",
                                      position_of(i, c.n, o_.d_model), ": ", values(after[i], before[i], "now", "before")));
    }
  }

  // For each t: the inputs at t.. of both samples changed, the gradients of the
  // outputs before t (weights g, 0 from t on) compared bit for bit.
  void no_leak(const Case& c, TokenMixer& mixer, const Tensor& x, const Tensor& y) {
    const int64_t d = o_.d_model;
    Generator gen(o_.seed + 3);
    const std::vector<float> weights = Tensor::normal(Shape{kBatch, c.n, d}, 0.0f, 1.0f, gen).to_vector();
    for (int64_t t : probes(c, 1)) {
      std::vector<float> g = weights;
      for (int64_t b = 0; b < kBatch; ++b)
        for (int64_t i = t * d; i < c.n * d; ++i) g[b * c.n * d + i] = 0.0f;
      const Tensor gt = Tensor::from_vector(g, y.shape());
      const Gradients a = run_backward(mixer, x, Tensor(), gt);
      const Gradients b = run_backward(mixer, replaced(x, {0, 1}, range(t, c.n), 100 + t), Tensor(), gt);
      const std::string changed = cat("changing the inputs at positions >= ", t, " ");
      auto before_t = [&](size_t i) { return (static_cast<int64_t>(i) / d) % c.n < t; };
      for (size_t i = 0; i < a.output.size(); ++i)  // the outputs first: the leak itself
        if (before_t(i) && !(a.output[i] == b.output[i]))
          return fail("no leak", c, cat(changed, "moved output ", position_of(i, c.n, d), ": ",
                                        values(b.output[i], a.output[i], "now", "before")));
      for (size_t i = 0; i < a.input.size(); ++i) {
        if (before_t(i) && !(a.input[i] == b.input[i]))
          return fail("no leak", c, cat(changed, "moved the input gradient at ", position_of(i, c.n, d), ": ",
                                        values(b.input[i], a.input[i], "now", "before")));
        if (!before_t(i) && (a.input[i] != 0.0f || b.input[i] != 0.0f))
          return fail("no leak", c, cat("the gradient of the outputs before ", t, " reaches ", position_of(i, c.n, d),
                                        ": ", a.input[i] != 0.0f ? a.input[i] : b.input[i], " (must be 0)"));
      }
      for (const auto& [name, ga] : a.params)
        if (auto diff = first_difference(b.params.at(name), ga, 0, 0))
          return fail("no leak", c, cat(changed, "moved the gradient of parameter ", name, " element ", diff->index,
                                        ": ", values(diff->got, diff->want, "now", "before")));
    }
  }

  // A NaN or inf where an output may not look: (causal) at position t, with -inf and
  // +inf at the last position, in both samples, for the outputs before t; and at the
  // padded positions of sample 1 (NaN, then +-inf, alternating), for every unpadded
  // output. Those outputs and the whole input gradient of the loss over them must be
  // what the same run with finite values there gives, bit for bit (the gradient is 0
  // at the hidden positions). Parameter gradients are not compared: a weight's
  // gradient sums over every position, the hidden ones too (the projection's
  // dW = sum_i dy_i^T x_i reads x_i itself), and IEEE arithmetic makes 0 x NaN = NaN.
  void non_finite(const Case& c, TokenMixer& mixer, const Tensor& x) {
    const int64_t d = o_.d_model;
    Generator gen(o_.seed + 6);
    const std::vector<float> weights = Tensor::normal(x.shape(), 0.0f, 1.0f, gen).to_vector();
    // Loss weights 0 at the flat positions `hidden` of `samples`; the runs with x and
    // with `bad`; the outputs outside `hidden` and all input gradients compared.
    auto compare = [&](const std::string& placed, const std::vector<int64_t>& samples,
                       const std::vector<int64_t>& hidden, const Tensor& bad, const Tensor& mask) -> bool {
      std::vector<bool> unseen(kBatch * c.n, false);
      for (int64_t b : samples)
        for (int64_t p : hidden) unseen[b * c.n + p] = true;
      std::vector<float> g = weights;
      for (size_t i = 0; i < g.size(); ++i)
        if (unseen[i / d]) g[i] = 0.0f;
      const Tensor gt = Tensor::from_vector(g, x.shape());
      const Gradients want = run_backward(mixer, x, mask, gt), got = run_backward(mixer, bad, mask, gt);
      for (size_t i = 0; i < want.output.size(); ++i)
        if (!unseen[i / d] && !(got.output[i] == want.output[i])) {
          fail("non-finite", c, cat(placed, " moved output ", position_of(i, c.n, d), ": ",
                                    values(got.output[i], want.output[i], "now", "finite there")));
          return false;
        }
      for (size_t i = 0; i < want.input.size(); ++i)
        if (!(got.input[i] == want.input[i])) {
          fail("non-finite", c, cat(placed, " moved the input gradient at ", position_of(i, c.n, d), ": ",
                                    values(got.input[i], want.input[i], "now", "finite there")));
          return false;
        }
      return true;
    };
    if (c.causal)
      for (int64_t t : probes(c, 1)) {
        const std::vector<int64_t> at = t < c.n - 1 ? std::vector<int64_t>{t, c.n - 1} : std::vector<int64_t>{t};
        if (!compare(cat("a NaN at position ", t, (t < c.n - 1 ? " and +-inf at the end" : ""), " of both samples"),
                     {0, 1}, range(t, c.n), with_non_finite(x, {0, 1}, at), Tensor()))
          return;
      }
    if (c.n >= 2) {
      const std::vector<int64_t> padded = padded_positions(c);
      compare(cat("NaN and +-inf at the padded positions of sample 1 (", padded.front(), " first)"), {1}, padded,
              with_non_finite(x, {1}, padded), padding_mask(c));
    }
  }

  void decoding(const Case& c, TokenMixer& mixer, const Tensor& x, const Tensor& y) {
    NoGradGuard no_grad;
    const std::vector<float> full = y.to_vector();
    // Each output sums terms of about the largest output's size, which a recurrent
    // state adds in another order than the full pass: rounding differs at about 1e-7
    // of that size, so the tolerance has a floor that scales with it.
    const float atol = 1e-5f * largest(full);
    auto state = mixer.start_decoding(kBatch);
    const int64_t d = o_.d_model;
    for (int64_t t = 0; t < c.n; ++t) {
      const std::vector<float> step = mixer.step(narrow(x, 1, t, 1), *state).to_vector();
      for (int64_t b = 0; b < kBatch; ++b)
        for (int64_t ch = 0; ch < d; ++ch) {
          const float got = step[b * d + ch], want = full[(b * c.n + t) * d + ch];
          if (!(std::fabs(got - want) <= atol + 1e-4f * std::fabs(want)))
            return fail("decoding", c, cat("step ", position_of((b * c.n + t) * d + ch, c.n, d), ": ",
                                           values(got, want, "decoded", "full pass")));
        }
    }
  }

  // Central differences of sum(y * g) along random unit directions u, against
  // <u, gradient>: u over the inputs of one position (each probe), over all inputs,
  // over each parameter tensor.
  void gradient(const Case& c, TokenMixer& mixer, const Tensor& x) {
    const int64_t d = o_.d_model;
    const float h = variant_.smoothness == Smoothness::Smooth ? 1e-2f : 1e-3f;
    Generator gen(o_.seed + 4);
    const Tensor g = Tensor::normal(x.shape(), 0.0f, 1.0f, gen);
    const std::vector<float> gv = g.to_vector();
    const Gradients grads = run_backward(mixer, x, Tensor(), g);
    // The float32 rounding of the outputs (a few ulps each) over the half step.
    double squares = 0.0;
    for (size_t i = 0; i < grads.output.size(); ++i) squares += std::pow(grads.output[i] * gv[i], 2.0);
    const double noise = 16 * 6e-8 * std::sqrt(squares) / h;

    // `grad` read at the flat indices `support`, against f(step * u) = sum(y * g) with
    // those elements moved by step * u.
    using Moved = std::function<double(float step, const std::vector<int64_t>& support, const std::vector<float>& u)>;
    auto agrees = [&](const std::string& what, const std::vector<float>& grad, const std::vector<int64_t>& support,
                      const Moved& f) {
      std::vector<float> u(support.size());
      double norm = 0.0, analytic = 0.0, grad_norm = 0.0;
      for (float& e : u) norm += std::pow(e = gen.next_uniform() - 0.5f, 2.0);
      for (size_t k = 0; k < u.size(); ++k) {
        u[k] = static_cast<float>(u[k] / std::sqrt(norm));
        analytic += static_cast<double>(u[k]) * grad[support[k]];
        grad_norm += std::pow(grad[support[k]], 2.0);
      }
      // The quotient at steps h and h/2: their difference bounds the truncation error
      // (large where a step crosses kinks: ReLU features, FLASH's squared ReLU).
      const double coarse = (f(h, support, u) - f(-h, support, u)) / (2.0 * h);
      const double numeric = (f(h / 2, support, u) - f(-h / 2, support, u)) / h;
      const double typical = std::sqrt(grad_norm / static_cast<double>(u.size()));  // |<u, grad>| for a random u
      const double tol = 2e-2 * std::fabs(numeric) + 5e-2 * typical + noise + std::fabs(coarse - numeric);
      if (std::fabs(analytic - numeric) <= tol) return true;
      fail("gradient", c, cat("along a random direction of ", what, ": ",
                              values(static_cast<float>(analytic), static_cast<float>(numeric), "analytic",
                                     "finite difference"),
                              " > tolerance ", static_cast<float>(tol)));
      return false;
    };
    const Moved move_inputs = [&](float step, const std::vector<int64_t>& support, const std::vector<float>& u) {
      std::vector<float> v = x.to_vector();
      for (size_t k = 0; k < support.size(); ++k) v[support[k]] += step * u[k];
      return projected(mixer, Tensor::from_vector(v, x.shape()), gv);
    };
    for (int64_t p : probes(c, 0)) {
      std::vector<int64_t> support;
      for (int64_t b = 0; b < kBatch; ++b)
        for (int64_t ch = 0; ch < d; ++ch) support.push_back((b * c.n + p) * d + ch);
      if (!agrees(cat("the inputs at position ", p), grads.input, support, move_inputs)) return;
    }
    if (!agrees("all inputs", grads.input, range(0, x.numel()), move_inputs)) return;
    for (const auto& [name, param] : mixer.named_parameters()) {
      const std::string param_name = name;
      const Tensor original = param.clone();
      const Moved move_param = [&](float step, const std::vector<int64_t>&, const std::vector<float>& u) {
        std::vector<float> v = original.to_vector();
        for (size_t k = 0; k < v.size(); ++k) v[k] += step * u[k];
        std::map<std::string, Tensor> state = mixer.state_dict();
        state[param_name] = Tensor::from_vector(v, original.shape(), original.device());
        mixer.load_state_dict(state);
        const double f = projected(mixer, x, gv);
        state[param_name] = original;
        mixer.load_state_dict(state);
        return f;
      };
      if (!agrees("parameter " + name, grads.params.at(name), range(0, param.numel()), move_param)) return;
    }
  }

  // With sample 1 padded; the outputs at padded positions are left unspecified (a
  // query whose keys are all padded has nothing to attend to), so they are neither
  // compared nor weighted in the loss.
  void reference(const Case& c, TokenMixer& mixer, const Tensor& x) {
    const std::shared_ptr<TokenMixer> ref = build(c, Form::Reference);
    const Tensor mask = c.n >= 2 ? padding_mask(c) : Tensor();
    const std::vector<int64_t> padded = c.n >= 2 ? padded_positions(c) : std::vector<int64_t>();
    Generator gen(o_.seed + 5);
    std::vector<float> weights = Tensor::normal(x.shape(), 0.0f, 1.0f, gen).to_vector();
    const int64_t d = o_.d_model;
    for (int64_t p : padded)
      for (int64_t ch = 0; ch < d; ++ch) weights[(c.n + p) * d + ch] = 0.0f;
    const Tensor g = Tensor::from_vector(weights, x.shape());
    Gradients got = run_backward(mixer, x, mask, g), want = run_backward(*ref, x, mask, g);
    for (int64_t p : padded)
      for (int64_t ch = 0; ch < d; ++ch) got.output[(c.n + p) * d + ch] = want.output[(c.n + p) * d + ch] = 0.0f;
    auto compare = [&](const std::string& what, const std::vector<float>& a, const std::vector<float>& b,
                       bool positions) {
      const float atol = 1e-5f * largest(b) + 1e-7f;
      if (auto diff = first_difference(a, b, atol, 1e-4f)) {
        fail("reference", c, cat(what, positions ? position_of(diff->index, c.n, d) : cat("element ", diff->index),
                                 ": ", values(diff->got, diff->want, variant_.name.c_str(), "reference")));
        return false;
      }
      return true;
    };
    if (!compare("output ", got.output, want.output, true)) return;
    if (!compare("input gradient at ", got.input, want.input, true)) return;
    for (const auto& [name, grad] : got.params) {
      const auto it = want.params.find(name);
      if (it == want.params.end())
        return fail("reference", c, cat("the reference has no parameter ", name, " (it must draw the same weights)"));
      if (!compare("gradient of parameter " + name + " ", grad, it->second, false)) return;
    }
  }

  const AttentionVariant& variant_;
  const ConformanceOptions& o_;
  ConformanceReport& report_;
};

// The boundaries of a variant with `options`: its Size options and fixed sizes.
std::vector<int64_t> sizes_of(const AttentionVariant& v, const std::map<std::string, std::string>& options) {
  const VariantOptions values(v.name, v.options, options);
  std::set<int64_t> s(v.fixed_sizes.begin(), v.fixed_sizes.end());
  for (const OptionSpec& spec : v.options)
    if (spec.role == OptionRole::Size) s.insert(values.integer(spec.name));
  s.erase(0);
  return {s.begin(), s.end()};
}

// 1, 2, 3, 17, 40 and around each size s: s - 1, s, s + 1, 2s, 3s + 1.
std::vector<int64_t> lengths_of(const std::vector<int64_t>& sizes) {
  std::set<int64_t> n = {1, 2, 3, 17, 40};
  for (int64_t s : sizes)
    for (int64_t l : {s - 1, s, s + 1, 2 * s, 3 * s + 1})
      if (l >= 1) n.insert(l);
  return {n.begin(), n.end()};
}

}  // namespace

bool ConformanceReport::failed(const std::string& check) const {
  return std::any_of(failures.begin(), failures.end(), [&](const ConformanceFailure& f) { return f.check == check; });
}

std::string ConformanceReport::str() const {
  std::string s = cat("conformance of '", variant, "': ", ok() ? "passed" : "FAILED", " (", cases, " cases, ", checks,
                      " checks", ok() ? "" : cat(", ", failures.size() + more_failures, " failures"), ")");
  for (const ConformanceFailure& f : failures) s += "\n  " + f.str();
  if (more_failures > 0) s += cat("\n  ... and ", more_failures, " more");
  for (const std::string& n : notes) s += "\n  note: " + n;
  return s;
}

ConformanceReport check_conformance(const AttentionVariant& variant, const ConformanceOptions& options) {
  ConformanceReport report;
  report.variant = variant.name;
  Suite suite(variant, options, report);
  for (const std::map<std::string, std::string>& option_set : variant.test_options) {
    const std::vector<int64_t> sizes = sizes_of(variant, option_set);
    std::set<int64_t> left_out;
    for (bool causal : {true, false}) {
      if (!(causal ? variant.supports_causal : variant.supports_bidirectional)) continue;
      for (int64_t train_length : {int64_t{0}, options.train_length}) {
        if (train_length > 0 && variant.length_scale != LengthScale::Applies) continue;
        for (int64_t n : lengths_of(sizes)) {
          if (n > options.max_length) {
            left_out.insert(n);
            continue;
          }
          suite.run({variant, option_set, causal, train_length, n, sizes});
        }
      }
    }
    if (!left_out.empty())
      report.notes.push_back(cat("lengths above max_length ", options.max_length, " left out: ", *left_out.begin(),
                                 left_out.size() > 1 ? cat(" and ", left_out.size() - 1, " more") : ""));
  }
  return report;
}

}  // namespace ta
