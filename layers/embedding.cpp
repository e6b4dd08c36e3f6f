#include "layers/embedding.h"

#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

Embedding::Embedding(int64_t n, int64_t d, Generator& gen, float init_std) : num_embeddings(n), dim(d) {
  TA_CHECK(n > 0 && d > 0, "Embedding: sizes must be positive, got ", n, " x ", d);
  weight = register_parameter("weight", Tensor::normal(Shape{n, d}, 0.0f, init_std, gen));
}

Tensor Embedding::forward(const Tensor& ids) const { return embedding(weight, ids); }

}  // namespace ta
