#include "layers/token_mixer.h"

#include "core/error.h"

namespace ta {

std::unique_ptr<MixerState> TokenMixer::start_decoding(int64_t) const {
  throw Error(cat(name(), ": this token mixer has no incremental decoding",
                  causal() ? "" : " (it is bidirectional: each output depends on later tokens)"));
}

Tensor TokenMixer::step(const Tensor&, MixerState&) {
  throw Error(cat(name(), ": this token mixer has no incremental decoding"));
}

}  // namespace ta
