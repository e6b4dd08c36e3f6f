#include "layers/feed_forward.h"

#include "autograd/ops.h"

namespace ta {

FeedForward::FeedForward(int64_t d_model, int64_t d_hidden, Generator& gen, Options opt) : options(opt) {
  const Bias bias = bias_if(opt.bias);
  up = register_module("up", std::make_shared<Linear>(d_model, d_hidden, gen, bias, opt.init_std));
  if (opt.gated) gate = register_module("gate", std::make_shared<Linear>(d_model, d_hidden, gen, bias, opt.init_std));
  down = register_module("down", std::make_shared<Linear>(d_hidden, d_model, gen, bias, opt.output_init_std));
}

Tensor FeedForward::forward(const Tensor& x) const {
  Tensor h = up->forward(x, options.activation);  // the activation fused into the product
  if (gate) h = h * gate->forward(x);
  return down->forward(h);
}

}  // namespace ta
