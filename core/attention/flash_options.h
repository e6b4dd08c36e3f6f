// core/attention/flash_options.h — the parameters of FLASH attention (Hua et al. 2022,
// "Transformer Quality in Linear Time"), shared by the kernel (core/attention/backend_ops.h),
// the differentiable op (autograd/ops.h: flash_attention) and the GAU layer (attention/gau.h).
//
// One head. The inputs are the four per-dimension scale-offsets of the shared base Z
// (quadratic q and k, linear q and k, each [n, s]) and the values V [n, e]. Positions
// are cut into chunks of c: chunk g = [g c, min((g + 1) c, n)); the last one may be
// shorter, which is how a length that c does not divide is handled (no padding rows
// exist at all). For a query i in chunk g:
//
//   quad_i = w_i sum_{j in g, visible} relu(score_scale q_i.k_j + bias(j - i))^2 v_j
//   lin_i  = u_i ql_i P_g,   P_g = sum over the summarized chunks h of  Kl_h^T V_h  (s x e)
//   out_i  = quad_i + lin_i
//
// "Visible": j <= i in causal mode (the mask is applied after the activation), and
// never a padded key. Summarized chunks: causal, the chunks strictly before g (an
// EXCLUSIVE prefix: including chunk g itself would hand position i the keys after it
// in its own chunk, the known leak); bidirectional, all chunks. Padded keys are left
// out of P as well.
//
// Weights w_i, u_i (FlashScaling):
//   RowCount (the default of the GAU layer): w_i = 1 / (number of keys row i sees in
//     its chunk), u_i = lin_scale / (number of keys summarized in P_g); 0 when there
//     are none. Each part is an average over the keys it reads, so its size does not
//     depend on the sequence length: a model trained at one length works at another,
//     and a causal output never depends on how long the sequence will get (which is
//     what incremental decoding needs). Bidirectional without padding, w_i = 1/n puts
//     the paper's 1/n outside the square, (1/n) relu(q.k / sqrt(s) + bias)^2, where
//     the paper's pseudocode divides the scores inside it, relu(q.k / n)^2 (that
//     form is Length below): the two are not the same function.
//   Length (the paper's pseudocode and the benchmark's function): w_i = 1,
//     u_i = lin_scale, and the caller sets score_scale = 1/c (1/n for FLASH-Quad) and
//     lin_scale = 1/c. The scale is a property of the length, not of the row: causal
//     rows early in a chunk get tiny sums, and the causal linear part grows with the
//     number of chunks before it.
#pragma once

#include <cstdint>

#include "core/host_device.h"

namespace ta {

enum class FlashScaling { RowCount, Length };

struct FlashOptions {
  int64_t chunk = 256;  // positions per chunk; 0: one chunk over the whole sequence
  bool causal = true;
  FlashScaling scaling = FlashScaling::RowCount;
  float score_scale = 1.0f;  // multiplies q.k inside the relu
  float lin_scale = 1.0f;    // multiplies the linear (cross-chunk) part
  // The chunk length for a sequence of n positions.
  int64_t chunk_length(int64_t n) const { return chunk <= 0 || chunk >= n ? (n > 0 ? n : 1) : chunk; }
};

// The sizes of one call of the kernel. qk holds 4 planes [4, batch, n, s] in the
// order quad q, quad k, linear q, linear k (linear = true), or 2 planes, quad q and
// quad k, for quadratic attention only (FLASH-Quad, or chunks without a global part).
// rel_bias, when given, is a table of 2 bias_len - 1 per-offset biases: entry
// (j - i) + bias_len - 1 is added to the score of query i and key j, so bias_len
// must be at least the chunk length.
struct FlashDims {
  int64_t batch = 1, n = 0, s = 0, e = 0;
  bool linear = true;
  int64_t bias_len = 0;  // 0: no bias table
};

// The row weights above for batch element b: w[b n + i] and u[b n + i], walking its
// sequence once. RowCount counts the unpadded keys each part of row i reads (causal:
// up to i in its chunk, and the chunks before; bidirectional: its chunk, and
// everything); Length gives w = 1 and u = lin_scale. `f` is the backend's view of
// the call: n, G, causal, begin(g), end(g) and padded(b, j). Shared by the CPU
// kernel and the CUDA one (one thread per batch element).
template <class Call>
TA_HOST_DEVICE inline void flash_row_weights(const Call& f, int64_t b, FlashScaling scaling, float lin_scale, float* w,
                                             float* u) {
  const bool row_count = scaling == FlashScaling::RowCount;
  int64_t total = 0, before = 0;  // unpadded keys: in the sequence, in the chunks before g
  for (int64_t j = 0; j < f.n; ++j) total += !f.padded(b, j);
  for (int64_t g = 0; g < f.G; ++g) {
    int64_t in_chunk = 0, seen = 0;
    for (int64_t j = f.begin(g); j < f.end(g); ++j) in_chunk += !f.padded(b, j);
    for (int64_t i = f.begin(g); i < f.end(g); ++i) {
      seen += !f.padded(b, i);
      const int64_t local = f.causal ? seen : in_chunk, global = f.causal ? before : total;
      w[b * f.n + i] = !row_count ? 1.0f : (local > 0 ? 1.0f / static_cast<float>(local) : 0.0f);
      u[b * f.n + i] = !row_count ? lin_scale : (global > 0 ? lin_scale / static_cast<float>(global) : 0.0f);
    }
    before += in_chunk;
  }
}

}  // namespace ta
