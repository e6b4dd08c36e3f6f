// core/cuda/cuda_backend.h — the CUDA implementation of the kernel list in core/backend.h.
//
// Built only when nvcc is found (see the Makefile; otherwise core/cuda/cuda_stub.cpp
// stands in). Kernel bodies live in core/cuda/kernels/<topic>.cuh, each with its
// launch plan (which kernels, what grid), so that the tests run the same plans
// under the SIMT emulation of tests/cuda/simt.h; a .cu file only hands each plan the
// checked launcher of launch.h. The .cu files group several topics, because every
// nvcc unit costs build time:
//   device.cpp       memory (caching allocator over cudaMalloc), host/device copies,
//                    copy_rows, device detection and the backend object
//   gemm.cpp         cuBLAS (the row-major convention is stated there)
//   elementwise.cu   one thread per element: creation.cuh (fill, arange, Philox
//                    random numbers), elementwise.cuh, optim.cuh (optimizer updates),
//                    gemm_epilogue.cuh (bias and activation after cuBLAS)
//   reduce.cu        along an axis: reduce.cuh (reductions, softmax, cumsum, sum of
//                    squares), loss.cuh (cross-entropy), norm.cuh (layer / RMS norm)
//   index.cu         index.cuh: index_select / index_add / gather / scatter_add, permute
//   attention.cu, block_sparse_attention.cu, flash.cu (with the GAU's scale-offset),
//   performer.cu     the fused attention cores
// All work goes to the default stream, in order; copies to the host wait for it.
#pragma once

#include "core/allocator.h"
#include "core/backend.h"

namespace ta::cuda {

// The device memory cache behind CudaBackend::allocate (blocks reused by size).
CachingAllocator& device_allocator();

class CudaBackend final : public Backend {
 public:
  Device device() const override { return Device::CUDA; }

  float* allocate(int64_t n) override;
  void deallocate(float* p, int64_t n) override;
  void copy_from_host(const float* host, float* dst, int64_t n) override;
  void copy_to_host(const float* src, float* host, int64_t n) override;
  void synchronize() override;

  void fill(float* out, int64_t n, float value) override;
  void copy(const float* src, float* dst, int64_t n) override;
  void arange(float* out, int64_t n, float start, float step) override;
  void random_uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) override;
  void random_normal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) override;

  void unary(UnaryOp op, const float* x, float* y, int64_t n, float param) override;
  void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n,
                      float param) override;
  void binary(BinaryOp op, const float* a, const float* b, float* out, const BroadcastPlan& plan) override;
  void where(const float* mask, const float* a, const float* b, float* out, const BroadcastPlan& plan) override;
  void broadcast_to(const float* x, float* out, const BroadcastPlan& plan) override;

  void reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner) override;
  void softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool log) override;
  void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t n, int64_t inner,
                        bool log) override;
  void cumsum(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool reverse) override;
  void index_select(const float* x, const float* index, float* y, int64_t outer, int64_t n_src, int64_t n_index,
                    int64_t inner) override;
  void index_add(const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst, int64_t n_index,
                 int64_t inner) override;
  void gather(const float* x, const float* index, float* y, int64_t outer, int64_t n_src, int64_t n_index,
              int64_t inner) override;
  void scatter_add(const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst, int64_t n_index,
                   int64_t inner) override;

  void permute(const float* x, float* y, const Shape& x_shape, const int* perm) override;
  void copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t rows,
                 int64_t row_len) override;
  void accumulate_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t rows,
                       int64_t row_len) override;

  void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
            int64_t stride_a, const float* B, int64_t stride_b, float beta, float* C, int64_t stride_c,
            int64_t batch) override;
  void gemm_epilogue(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                     int64_t stride_a, const float* B, int64_t stride_b, float beta, float* C, int64_t stride_c,
                     int64_t batch, const GemmEpilogue& epilogue) override;

  void attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh,
                         int64_t heads, int64_t n_q, int64_t n_k, int64_t d, float scale, bool causal,
                         const float* key_pad) override;
  void attention_backward(const float* q, const float* k, const float* v, const float* o, const float* lse,
                          const float* d_o, float* dq, float* dk, float* dv, int64_t bh, int64_t heads, int64_t n_q,
                          int64_t n_k, int64_t d, float scale, bool causal, const float* key_pad) override;

  // block-sparse attention (Sparse Transformer): block_sparse_attention.cu
  void block_sparse_attention_forward(const float* q, const float* k, const float* v, float* o, float* lse,
                                      int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d, float scale,
                                      const BlockSparseLayout& layout, const float* key_pad) override;
  void block_sparse_attention_backward(const float* q, const float* k, const float* v, const float* o,
                                       const float* lse, const float* d_o, float* dq, float* dk, float* dv,
                                       int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d, float scale,
                                       const BlockSparseLayout& layout, const float* key_pad) override;

  // FLASH attention and the GAU's scale-offset: flash.cu
  void flash_forward(const FlashDims& dims, const FlashOptions& options, const float* qk, const float* v,
                     const float* rel_bias, const float* key_pad, float* out, float* state) override;
  void flash_backward(const FlashDims& dims, const FlashOptions& options, const float* qk, const float* v,
                      const float* rel_bias, const float* key_pad, const float* state, const float* d_out, float* dqk,
                      float* dv, float* drel_bias) override;
  void scale_offset(const float* z, const float* gamma, const float* beta, float* y, int64_t rows, int64_t planes,
                    int64_t s) override;
  void scale_offset_backward(const float* z, const float* gamma, const float* dy, float* dz, float* dgamma,
                             float* dbeta, int64_t rows, int64_t planes, int64_t s) override;

  // causal FAVOR+ (Performer): performer.cu
  void favor_causal_forward(const float* q, const float* k, const float* v, const float* w, float* o, float* den,
                            float* kmax, int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d, int64_t m,
                            float scale, FavorKernel kernel, const float* key_pad) override;
  void favor_causal_backward(const float* q, const float* k, const float* v, const float* w, const float* o,
                             const float* den, const float* kmax, const float* d_o, float* dq, float* dk, float* dv,
                             int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d, int64_t m, float scale,
                             FavorKernel kernel, const float* key_pad) override;

  void layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                  int64_t rows, int64_t dim, float eps, bool subtract_mean) override;
  void layer_norm_backward(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                           float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t dim,
                           bool subtract_mean) override;

  void sgd_update(float* p, const float* g, float* buf, int64_t n, float lr, float momentum, float weight_decay,
                  bool nesterov, bool first_step) override;
  void adam_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                   float eps, float weight_decay, bool decoupled, float c1, float c2) override;
  double sum_of_squares(const float* x, int64_t n) override;

  void cross_entropy(const float* logits, const float* targets, float* loss, float* lse, int64_t rows,
                     int64_t classes, int64_t ignore_index) override;
  void cross_entropy_backward(const float* logits, const float* targets, const float* lse, const float* scale,
                              float* dlogits, int64_t rows, int64_t classes, int64_t ignore_index) override;
};

}  // namespace ta::cuda
