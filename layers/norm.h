// layers/norm.h — normalization layers over the last axis.
//
// Pre-norm Transformers normalize each branch's input so that the residual stream
// can grow while every branch still sees inputs of unit scale; this is what lets
// deep stacks train without warmup tricks (Xiong et al. 2020).
#pragma once

#include "layers/module.h"

namespace ta {

// What every normalization layer is: a module that maps x [..., dim] to a tensor of
// the same shape. The Transformer blocks hold their norms by this interface, so the
// config's NormKind picks the class once (make_norm) and forward dispatches.
class Norm : public Module {
 public:
  virtual Tensor forward(const Tensor& x) const = 0;
};

// Whether a LayerNorm learns its gain gamma and offset beta (else y is the plain
// normalized x).
enum class Affine { Yes, No };

// LayerNorm (Ba et al. 2016): y = (x - mean) / sqrt(var + eps) * gamma + beta.
class LayerNorm : public Norm {
 public:
  explicit LayerNorm(int64_t dim, float eps = 1e-5f, Affine affine = Affine::Yes);
  Tensor forward(const Tensor& x) const override;
  float eps;
  Tensor gamma, beta;  // [dim], undefined without affine
};

// RMSNorm (Zhang & Sennrich 2019): y = x / sqrt(mean(x^2) + eps) * gamma. Drops
// the mean subtraction and the bias; as good in practice and cheaper.
class RMSNorm : public Norm {
 public:
  explicit RMSNorm(int64_t dim, float eps = 1e-6f);
  Tensor forward(const Tensor& x) const override;
  float eps;
  Tensor gamma;
};

// ScaleNorm (Nguyen & Salazar 2019), used by FLASH: y = g x / max(||x||, eps) with
// one learned scalar g, initialized to sqrt(dim) so that y starts with unit RMS.
class ScaleNorm : public Norm {
 public:
  explicit ScaleNorm(int64_t dim, float eps = 1e-5f);
  Tensor forward(const Tensor& x) const override;
  float eps;
  Tensor g;  // shape [1]
};

}  // namespace ta
