// The block-sparse attention op (Sparse Transformer): forward and hand-written
// backward are kernels (core/cpu/attention/block_sparse.cpp); this file only
// records the node. The layout is shared with the node, so the backward visits
// exactly the blocks the forward did.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/attention/block_sparse.h"
#include "core/error.h"

namespace ta {

namespace {
const OpInfo kBlockSparseAttention("block_sparse_attention");
}

// Saved for the backward: q, k, v, the output and the per-row log-sum-exps
// (O(n d)), and the layout (O(active blocks)); never a score matrix.
Tensor block_sparse_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                              std::shared_ptr<const BlockSparseLayout> layout, float scale,
                              const Tensor& key_padding_mask) {
  TA_CHECK(layout != nullptr, "block_sparse_attention: no layout given (build one with ta::build_block_layout)");
  auto [o, lse] = kernels::block_sparse_attention(q, k, v, *layout, scale, key_padding_mask);
  record(kBlockSparseAttention, o, {&q, &k, &v},
         [q, k, v, o_saved = o.detach(), lse = lse, layout, scale, key_padding_mask](const Tensor& g) -> Grads {
           return whole_grads(kernels::block_sparse_attention_backward(q, k, v, o_saved, lse, g, *layout, scale,
                                                                       key_padding_mask));
         });
  return o;
}

}  // namespace ta
