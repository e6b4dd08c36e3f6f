// core/attention/block_sparse.cpp — block-sparse attention on tensors: the layout and argument checks, then the
// backend.
#include "core/attention/block_sparse.h"

#include <vector>

#include "core/error.h"
#include "core/kernels/common.h"

namespace ta::kernels {

namespace {

// The layout's lists are the kernel's addresses: check every index once here, so
// a malformed layout is an error naming what is wrong, never a wild read.
void check_block_layout(const BlockSparseLayout& layout, int64_t n_q, int64_t n_k) {
  const char* op = "block_sparse_attention";
  const int64_t b = layout.block;
  TA_CHECK(b >= 1 && b <= 64, op, ": block size must be in 1..64 (a mask row is one 64-bit word), got ", b);
  TA_CHECK(layout.n_q == n_q && layout.n_k == n_k, op, ": the layout was built for ", layout.n_q, " queries and ",
           layout.n_k, " keys, the inputs have ", n_q, " and ", n_k, "; build one for these lengths");
  TA_CHECK(!layout.patterns.empty(), op, ": the layout has no pattern");
  std::vector<int64_t> seen(n_q, -1);
  int64_t stamp = 0;
  for (const BlockSparseLayout::Pattern& pattern : layout.patterns)
    for (const BlockSparseLayout::Part& part : pattern.parts) {
      ++stamp;
      const int64_t nq = static_cast<int64_t>(part.queries.size()), nk = static_cast<int64_t>(part.keys.size());
      for (int32_t i : part.queries) {
        TA_CHECK(i >= 0 && i < n_q, op, ": layout part lists query row ", i, ", outside 0..", n_q - 1);
        TA_CHECK(seen[i] != stamp, op, ": layout part lists query row ", i, " twice");
        seen[i] = stamp;
      }
      for (int32_t j : part.keys)
        TA_CHECK(j >= 0 && j < n_k, op, ": layout part lists key ", j, ", outside 0..", n_k - 1);
      const int64_t q_blocks = (nq + b - 1) / b, k_blocks = (nk + b - 1) / b;
      const int64_t active = static_cast<int64_t>(part.col.size());
      const int64_t n_masks = static_cast<int64_t>(part.masks.size()) / b;
      TA_CHECK(static_cast<int64_t>(part.row_begin.size()) == q_blocks + 1 && part.row_begin.front() == 0 &&
                   part.row_begin.back() == active && static_cast<int64_t>(part.mask.size()) == active,
               op, ": layout part has ", part.row_begin.size(), " row starts, ", active, " blocks and ",
               part.mask.size(), " mask ids; expected ", q_blocks + 1,
               " row starts (0 first, the block count last) and one mask id per block");
      for (int64_t I = 0; I < q_blocks; ++I)
        TA_CHECK(part.row_begin[I] <= part.row_begin[I + 1], op, ": layout row starts must not decrease");
      for (int64_t a = 0; a < active; ++a) {
        TA_CHECK(part.col[a] >= 0 && part.col[a] < k_blocks, op, ": layout block column ", part.col[a], " outside 0..",
                 k_blocks - 1);
        TA_CHECK(part.mask[a] >= -1 && part.mask[a] < n_masks, op, ": layout mask id ", part.mask[a], " outside -1..",
                 n_masks - 1);
      }
    }
}

}  // namespace

std::pair<Tensor, Tensor> block_sparse_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                                 const BlockSparseLayout& layout, float scale, const Tensor& key_pad) {
  const char* op = "block_sparse_attention";
  check_defined(q, op, "q");
  check_defined(k, op, "k");
  check_defined(v, op, "v");
  Device dev = common_device({&q, &k, &v}, op);
  TA_CHECK(q.ndim() == 4 && k.ndim() == 4 && v.ndim() == 4, op, ": q, k, v must be [batch, heads, n, d_head], got ",
           q.shape(), ", ", k.shape(), ", ", v.shape());
  const Shape &qs = q.shape(), &ks = k.shape();
  TA_CHECK(ks == v.shape() && qs[0] == ks[0] && qs[1] == ks[1] && qs[3] == ks[3], op, ": shapes q ", qs, ", k ", ks,
           ", v ", v.shape(), " do not agree (k and v equal; batch, heads and d_head as in q)");
  if (key_pad.defined()) {
    common_device({&q, &key_pad}, op);
    TA_CHECK(key_pad.shape() == Shape({ks[0], ks[2]}), op, ": key_padding_mask must be [", ks[0], ", ", ks[2],
             "], got ", key_pad.shape());
  }
  check_block_layout(layout, qs[2], ks[2]);
  Tensor o = Tensor::empty(qs, dev), lse = Tensor::empty(Shape{qs[0], qs[1], qs[2]}, dev);
  backend(dev).block_sparse_attention_forward(q.data(), k.data(), v.data(), o.data(), lse.data(), qs[0] * qs[1],
                                              qs[1], qs[2], ks[2], qs[3], scale, layout,
                                              key_pad.defined() ? key_pad.data() : nullptr);
  return {o, lse};
}

std::vector<Tensor> block_sparse_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                                                    const Tensor& lse, const Tensor& d_o,
                                                    const BlockSparseLayout& layout, float scale,
                                                    const Tensor& key_pad) {
  const Shape &qs = q.shape(), &ks = k.shape();
  TA_CHECK(d_o.shape() == qs, "block_sparse_attention backward: the output gradient has shape ", d_o.shape(),
           ", the output ", qs);
  Tensor dq = Tensor::empty(qs, q.device()), dk = Tensor::empty(ks, q.device()), dv = Tensor::empty(ks, q.device());
  backend_of(q).block_sparse_attention_backward(q.data(), k.data(), v.data(), o.data(), lse.data(), d_o.data(),
                                                dq.data(), dk.data(), dv.data(), qs[0] * qs[1], qs[1], qs[2], ks[2],
                                                qs[3], scale, layout, key_pad.defined() ? key_pad.data() : nullptr);
  return {dq, dk, dv};
}

}  // namespace ta::kernels
