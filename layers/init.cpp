#include "layers/init.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels.h"

namespace ta::init {

void normal_(const Tensor& t, float std, Generator& gen) {
  kernels::assign(t, Tensor::normal(t.shape(), 0.0f, std, gen, t.device()));
}

void xavier_uniform_(const Tensor& weight, Generator& gen, float gain) {
  TA_CHECK(weight.ndim() == 2, "xavier_uniform_: expected a [fan_out, fan_in] weight, got shape ", weight.shape());
  const float a = gain * std::sqrt(6.0f / static_cast<float>(weight.size(0) + weight.size(1)));
  kernels::assign(weight, Tensor::uniform(weight.shape(), -a, a, gen, weight.device()));
}

void fill_(const Tensor& t, float value) { kernels::assign(t, Tensor::full(t.shape(), value, t.device())); }
void zeros_(const Tensor& t) { fill_(t, 0.0f); }
void ones_(const Tensor& t) { fill_(t, 1.0f); }

void scale_(const Tensor& t, float factor) {
  kernels::assign(t, kernels::unary(UnaryOp::MulScalar, t, factor, "scale_"));
}

}  // namespace ta::init
