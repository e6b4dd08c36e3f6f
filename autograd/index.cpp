// Indexing: index_select, gather and embedding. Their backwards scatter-add the
// gradient back to the rows that were read (a row read twice gets both).
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/kernels/index.h"
#include "core/kernels/movement.h"

namespace ta {

namespace {
const OpInfo kIndexSelect("index_select"), kGather("gather"), kEmbedding("embedding");

using ReadKernel = Tensor (*)(const Tensor& x, int axis, const Tensor& index);
using AddBackKernel = Tensor (*)(const Tensor& g, int axis, const Tensor& index, const Shape& x_shape);

// y = read(x, axis, index), whose gradient add_back scatter-adds to the places read.
Tensor read_along(const OpInfo& op, ReadKernel read, AddBackKernel add_back, const Tensor& x, int axis,
                  const Tensor& index) {
  Tensor y = read(x, axis, index);
  axis = normalize_axis(axis, x.ndim(), op.name);
  record(op, y, {&x}, [add_back, xs = x.shape(), axis, index](const Tensor& g) -> Grads {
    return {add_back(g, axis, index, xs)};
  });
  return y;
}

}  // namespace

// y = x[..., index[j], ...];  dx[..., index[j], ...] += g[..., j, ...].
Tensor index_select(const Tensor& x, int axis, const Tensor& index) {
  return read_along(kIndexSelect, kernels::index_select, kernels::index_add, x, axis, index);
}

// y[i] = x[i with its axis coordinate replaced by index[i]];  dx scatter-adds g.
Tensor gather(const Tensor& x, int axis, const Tensor& index) {
  return read_along(kGather, kernels::gather, kernels::scatter_add, x, axis, index);
}

// out[..., :] = weight[ids[...], :]: index_select on the flattened ids.
Tensor embedding(const Tensor& weight, const Tensor& ids) {
  check_defined(weight, "embedding", "weight");
  check_defined(ids, "embedding", "ids");
  TA_CHECK(weight.ndim() == 2, "embedding: weight must be [vocab, dim], got shape ", weight.shape());
  kernels::check_indices(ids, weight.shape()[0], "embedding");
  const Tensor flat_ids = kernels::reshape(ids, Shape{ids.numel()});
  Tensor rows = kernels::index_select(weight, 0, flat_ids);
  Tensor y = kernels::reshape(rows, ids.shape().inserted(ids.ndim(), weight.shape()[1]));
  record(kEmbedding, y, {&weight}, [ws = weight.shape(), flat_ids](const Tensor& g) -> Grads {
    return {kernels::index_add(kernels::reshape(g, Shape{flat_ids.numel(), ws[1]}), 0, flat_ids, ws)};
  });
  return y;
}

}  // namespace ta
