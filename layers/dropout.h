// layers/dropout.h — inverted dropout (Srivastava et al. 2014).
#pragma once

#include "layers/module.h"

namespace ta {

// In training, each element is zeroed with probability p and the survivors are
// scaled by 1/(1 - p), so the expected output equals the input and evaluation needs
// no rescaling. In eval mode (or p = 0) it is the identity. The mask comes from
// `gen`, so a seeded run drops the same elements every time.
class Dropout : public Module {
 public:
  Dropout(float p, Generator& gen);
  Tensor forward(const Tensor& x) const;
  float p;

 private:
  Generator* gen_;
};

}  // namespace ta
