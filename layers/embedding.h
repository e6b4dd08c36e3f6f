// layers/embedding.h — a table of learned vectors looked up by integer id.
#pragma once

#include "layers/module.h"

namespace ta {

class Embedding : public Module {
 public:
  // weight ~ N(0, init_std^2), [num_embeddings, dim].
  Embedding(int64_t num_embeddings, int64_t dim, Generator& gen, float init_std = 0.02f);
  // ids of any shape, values in [0, num_embeddings) -> ids.shape + [dim]
  Tensor forward(const Tensor& ids) const;

  int64_t num_embeddings, dim;
  Tensor weight;
};

}  // namespace ta
