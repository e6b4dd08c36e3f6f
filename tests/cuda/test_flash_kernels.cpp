// tests/cuda/test_flash_kernels.cpp — the CUDA backend's FLASH attention and GAU
// scale-offset (core/cuda/attention/kernels/flash.cuh), run under the SIMT emulation, equal the
// CPU backend's kernels of the same name: output and linear state, then the gradients
// of all four qk planes, v and the relative-position bias; causal and bidirectional,
// both row scalings, quadratic only and mixed chunks, a last chunk shorter than the
// others, chunks longer than the kernel's tiles, one token, an empty sequence, and key padding.
#include "tests/cuda/fused_testing.h"

#include <cmath>
#include <vector>

#include "core/cuda/attention/kernels/flash.cuh"

using namespace ta;
using namespace ta::testing;

namespace {

struct FlashCase {
  const char* name;
  FlashDims dims;
  FlashOptions options;
  bool padded;  // pad every 4th key of batch element 0 and the last 3 of element 1
  EmulatedLaunch launch;
};

void check_flash(const FlashCase& c) {
  CAPTURE(c.name);
  const FlashDims& d = c.dims;
  const int64_t planes = d.linear ? 4 : 2, qk_size = planes * d.batch * d.n * d.s, v_size = d.batch * d.n * d.e;
  const int64_t chunks = (d.n + c.options.chunk_length(d.n) - 1) / c.options.chunk_length(d.n);
  const int64_t state_size = d.batch * (c.options.causal ? chunks : 1) * d.s * d.e, bias_size = 2 * d.bias_len - 1;
  const uint64_t seed = 10 * d.n + d.s;
  const std::vector<float> qk = uniform_values(qk_size, seed, -0.7f, 0.7f), v = uniform_values(v_size, seed + 1),
                           d_out = uniform_values(v_size, seed + 2),
                           bias = uniform_values(d.bias_len > 0 ? bias_size : 0, seed + 3, -0.5f, 0.5f);
  std::vector<float> pad(d.batch * d.n, 0.0f);
  for (int64_t j = 0; j < d.n; j += 4) pad[j] = 1.0f;
  for (int64_t j = std::max<int64_t>(0, d.n - 3); j < d.n && d.batch > 1; ++j) pad[d.n + j] = 1.0f;
  const float* key_pad = c.padded ? pad.data() : nullptr;
  const float* rel_bias = d.bias_len > 0 ? bias.data() : nullptr;

  std::vector<float> out_ref(v_size), state_ref(state_size), dqk_ref(qk_size), dv_ref(v_size), dbias_ref(bias.size());
  cpu_backend().flash_forward(d, c.options, qk.data(), v.data(), rel_bias, key_pad, out_ref.data(), state_ref.data());
  cpu_backend().flash_backward(d, c.options, qk.data(), v.data(), rel_bias, key_pad, state_ref.data(), d_out.data(),
                       dqk_ref.data(), dv_ref.data(), rel_bias ? dbias_ref.data() : nullptr);

  std::vector<float> out = nan_buffer(v_size), state = nan_buffer(state_size), dqk = nan_buffer(qk_size),
                     dv = nan_buffer(v_size), dbias = nan_buffer(bias.size());
  cuda_kernels::flash_forward(c.launch, cpu_backend(), d, c.options, qk.data(), v.data(), rel_bias, key_pad, out.data(),
                              state.data());
  cuda_kernels::flash_backward(c.launch, cpu_backend(), d, c.options, qk.data(), v.data(), rel_bias, key_pad,
                               state_ref.data(), d_out.data(), dqk.data(), dv.data(),
                               rel_bias ? dbias.data() : nullptr);
  CHECK(relative_error(out, out_ref) < 1e-5f);
  if (d.linear) CHECK(relative_error(state, state_ref) < 1e-5f);
  CHECK(relative_error(dqk, dqk_ref) < 1e-4f);
  CHECK(relative_error(dv, dv_ref) < 1e-4f);
  if (rel_bias) CHECK(relative_error(dbias, dbias_ref) < 1e-4f);
}

FlashOptions options(int64_t chunk, bool causal, FlashScaling scaling, float score_scale, float lin_scale) {
  FlashOptions o;
  o.chunk = chunk;
  o.causal = causal;
  o.scaling = scaling;
  o.score_scale = score_scale;
  o.lin_scale = lin_scale;
  return o;
}

}  // namespace

BACKEND_OP_CASE("cuda flash kernels (emulated): forward and backward equal the CPU backend",
                "flash_forward", "flash_backward") {
  const FlashScaling rows = FlashScaling::RowCount, length = FlashScaling::Length;
  // s = 128 gives forward tiles of 32 rows and backward tiles of 16: chunks of 40
  // span several tiles. s = 16 takes a chunk in one tile.
  const FlashCase cases[] = {
      {"mixed chunks, causal, row counts, bias, padding", {2, 37, 16, 24, true, 16},
       options(16, true, rows, 0.25f, 1.0f), true, quick},
      {"mixed chunks, causal (reverse turns)", {1, 37, 16, 24, true, 16}, options(16, true, rows, 0.25f, 1.0f), false,
       reverse},
      {"mixed chunks, bidirectional, length scaling, padding", {2, 37, 16, 8, true, 0},
       options(16, false, length, 1.0f / 16, 1.0f / 16), true, quick},
      {"quadratic only, one chunk, causal, bias", {2, 45, 8, 12, false, 45}, options(0, true, rows, 0.5f, 1.0f), true,
       quick},
      {"chunks longer than tiles, causal, bias", {1, 50, 128, 16, true, 40}, options(40, true, rows, 0.1f, 0.5f),
       false, quick},
      {"chunks longer than tiles, bidirectional", {2, 50, 128, 16, true, 0}, options(40, false, rows, 0.1f, 1.0f),
       true, full},
      {"one token", {1, 1, 8, 4, true, 1}, options(16, true, rows, 1.0f, 1.0f), false, quick},
      {"empty sequence", {1, 0, 8, 4, true, 4}, options(4, true, rows, 1.0f, 1.0f), false, quick},
  };
  for (const FlashCase& c : cases) check_flash(c);
}

BACKEND_OP_CASE("cuda flash kernels (emulated): scale-offset and its backward equal the CPU backend",
                "scale_offset", "scale_offset_backward") {
  const int64_t rows = 37, planes = 4, s = 13;
  const std::vector<float> z = uniform_values(rows * s, 1), gamma = uniform_values(planes * s, 2),
                           beta = uniform_values(planes * s, 3), dy = uniform_values(planes * rows * s, 4);
  std::vector<float> y_ref(planes * rows * s), dz_ref(rows * s), dgamma_ref(planes * s), dbeta_ref(planes * s);
  cpu_backend().scale_offset(z.data(), gamma.data(), beta.data(), y_ref.data(), rows, planes, s);
  cpu_backend().scale_offset_backward(z.data(), gamma.data(), dy.data(), dz_ref.data(), dgamma_ref.data(), dbeta_ref.data(),
                              rows, planes, s);
  std::vector<float> y = nan_buffer(y_ref.size()), dz = nan_buffer(dz_ref.size()), dgamma = nan_buffer(planes * s),
                     dbeta = nan_buffer(planes * s);
  const EmulatedLaunch launch{32};
  cuda_kernels::scale_offset(launch, z.data(), gamma.data(), beta.data(), y.data(), rows, planes, s);
  cuda_kernels::scale_offset_backward(launch, z.data(), gamma.data(), dy.data(), dz.data(), dgamma.data(),
                                      dbeta.data(), rows, planes, s);
  CHECK(relative_error(y, y_ref) < 1e-6f);
  CHECK(relative_error(dz, dz_ref) < 1e-6f);
  CHECK(relative_error(dgamma, dgamma_ref) < 1e-5f);
  CHECK(relative_error(dbeta, dbeta_ref) < 1e-5f);
}
