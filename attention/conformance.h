// attention/conformance.h — the conformance suite: what every attention variant,
// the library's or a user's own, must satisfy, checked from its registration alone.
//
//   ta::ConformanceReport r = ta::check_conformance(my_variant);
//   if (!r.ok()) std::cerr << r.str();   // each failure: check, variant/mode/length, position, values
//
// The variant is run with each of its test_options sets (small sizes), in each mode
// it supports, with the plain scale and (if it takes it) the length-aware scale, at
// lengths that straddle every size it declares (each OptionRole::Size option and its
// fixed_sizes): 1, 2, 3, 17, 40 and for each size s: s - 1, s, s + 1, 2s and 3s + 1. At each
// length, in eval mode, on a batch of 2:
//   shape          the output is [batch, n, d_model] and finite;
//   determinism    two builds from one seed, and two calls, agree bit for bit;
//   batch independence  changing sample 1 leaves sample 0's outputs unchanged, bit for bit;
//   padding        with sample 1 padded (position 1, the sizes, the end), every output is
//                  finite and changing the padded inputs leaves the other outputs unchanged;
//   no leak        (causal) changing the inputs at positions >= t leaves every output,
//                  input gradient and parameter gradient before t unchanged, bit for bit
//                  (the gradients of sum_{i<t} g_i . y_i), and that gradient is 0 at >= t;
//   non-finite     a NaN or inf where an output may not look ((causal) at t and after, for
//                  the outputs before t; at the padded positions of sample 1, for every
//                  other output) leaves those outputs, and the whole input gradient of the
//                  loss over them, bit for bit as with finite values there (so the gradient
//                  is 0 at the hidden positions). Parameter gradients are not compared: a
//                  weight's gradient sums over all positions (dW = sum_i dy_i^T x_i reads
//                  the hidden x_i too), and in IEEE arithmetic 0 x NaN is NaN;
//   decoding       (causal) start_decoding / step token by token equals the full pass;
//   gradient       the gradient of sum(g * y) along random directions (the inputs of one
//                  position, at the boundaries; all inputs; each parameter tensor) equals
//                  central finite differences (steps h and h/2, whose difference widens
//                  the tolerance where a step crosses kinks);
//   reference      (when the variant declares one) the output and gradients, with
//                  padding, equal the reference form's (outputs at padded positions
//                  are left unspecified: neither compared nor in the loss).
// A failure names the check, the variant, mode, scale, options and length, the first
// position (sample, channel) that differs, and both values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attention/registry.h"

namespace ta {

struct ConformanceOptions {
  int64_t d_model = 8, heads = 2;
  int64_t train_length = 16;  // of the length-aware runs
  int64_t max_length = 800;   // lengths above are left out (the report says which)
  uint64_t seed = 11;         // of the weights and the inputs
};

struct ConformanceFailure {
  std::string check;   // "no leak", "decoding", ...
  std::string where;   // "performer (causal, length-aware scale 16, performer-features=16), n = 65"
  std::string detail;  // the first differing position and both values
  std::string str() const { return check + ": " + where + ": " + detail; }
};

struct ConformanceReport {
  std::string variant;
  std::vector<ConformanceFailure> failures;  // the first of each check in each case, up to kMaxFailures
  int64_t more_failures = 0;                 // not listed
  int64_t cases = 0, checks = 0;             // what ran
  std::vector<std::string> notes;            // e.g. lengths left out
  static constexpr size_t kMaxFailures = 12;

  bool ok() const { return failures.empty(); }
  bool failed(const std::string& check) const;
  // A summary line, then one line per failure and note.
  std::string str() const;
};

// Runs the suite on `variant` (registered or not).
ConformanceReport check_conformance(const AttentionVariant& variant, const ConformanceOptions& options = {});

}  // namespace ta
