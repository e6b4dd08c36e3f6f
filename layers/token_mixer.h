// layers/token_mixer.h — what any attention implements: mixing information across
// the positions of a sequence.
//
// A TokenMixer maps x [batch, n, d_model] to the same shape. Causal mixers let
// position i see positions <= i only; bidirectional ones see everything. An
// optional key padding mask [batch, n] (1 = padding) hides padded positions as
// keys. For autoregressive generation a causal mixer also decodes incrementally:
// step() takes one new token and a state carried from the previous steps (for
// softmax attention, the cache of past keys and values) and returns that token's
// output, equal to what the full causal pass gives at that position.
//
// Implementations live in attention/ (which depends on layers/, never the reverse);
// the Transformer blocks here take any TokenMixer object.
#pragma once

#include <memory>
#include <vector>

#include "core/causality.h"
#include "layers/module.h"

namespace ta {

// The state a mixer carries between decoding steps; each mixer defines its own.
struct MixerState {
  virtual ~MixerState() = default;
  int64_t position = 0;  // tokens consumed so far
};

class TokenMixer : public Module {
 public:
  virtual bool causal() const = 0;
  // x [batch, n, d_model] -> [batch, n, d_model].
  virtual Tensor forward(const Tensor& x, const Tensor& key_padding_mask = Tensor()) = 0;
  // A fresh decoding state for `batch` sequences; throws for mixers that cannot decode.
  virtual std::unique_ptr<MixerState> start_decoding(int64_t batch) const;
  // x_t [batch, 1, d_model] at position state.position -> [batch, 1, d_model]; advances the state.
  virtual Tensor step(const Tensor& x_t, MixerState& state);
  virtual const char* name() const = 0;
  // The weights that write into the residual stream (the output projection), which
  // deep models scale at init by 1/sqrt(2N) (layers/init.h). None by default.
  virtual std::vector<Tensor> residual_output_weights() const { return {}; }
};

}  // namespace ta
