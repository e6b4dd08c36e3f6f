// layers/feed_forward.h — the position-wise feed-forward branch of a Transformer.
#pragma once

#include <memory>

#include "layers/activation.h"
#include "layers/linear.h"

namespace ta {

// FFN(x) = W2 act(W1 x + b1) + b2, hidden width typically 4 d_model (Vaswani et al.).
//
// Gated (GLU family, Shazeer 2020): FFN(x) = W2 (act(W1 x) * (V x)). With act = GELU
// it is GEGLU, with SiLU SwiGLU; the gate lets each hidden unit scale itself by a
// second projection, which trains to lower loss at the same parameter count
// (use a hidden width of about 2/3 of the ungated one to match parameters).
class FeedForward : public Module {
 public:
  struct Options {
    Activation activation = Activation::Gelu;
    bool gated = false;
    bool bias = true;
    float init_std = 0.02f;
    float output_init_std = 0.02f;  // the residual-scaled init goes here (layers/init.h)
  };
  FeedForward(int64_t d_model, int64_t d_hidden, Generator& gen, Options options);
  FeedForward(int64_t d_model, int64_t d_hidden, Generator& gen) : FeedForward(d_model, d_hidden, gen, Options()) {}
  Tensor forward(const Tensor& x) const;

  Options options;
  std::shared_ptr<Linear> up, gate, down;  // gate only when gated
};

}  // namespace ta
