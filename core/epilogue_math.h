// core/epilogue_math.h — the activation of a GEMM epilogue (Backend::gemm_epilogue) on
// one value, written once for the CPU GEMM's tile writer (core/cpu/gemm/epilogue.h) and
// the CUDA epilogue kernel (core/cuda/kernels/matmul.cuh): each activation is
// the element-wise op of core/elementwise_math.h of the same name, so a fused
// epilogue equals the unfused GEMM followed by that op.
#pragma once

#include "core/backend.h"
#include "core/elementwise_math.h"
#include "core/host_device.h"

namespace ta {

// The element-wise op behind each activation (None has none: the identity).
TA_HOST_DEVICE constexpr UnaryOp unary_op_of(EpilogueActivation act) {
  switch (act) {
    case EpilogueActivation::Relu: return UnaryOp::Relu;
    case EpilogueActivation::GeluErf: return UnaryOp::GeluErf;
    case EpilogueActivation::GeluTanh: return UnaryOp::GeluTanh;
    case EpilogueActivation::Silu: return UnaryOp::Silu;
    case EpilogueActivation::None: break;
  }
  return UnaryOp::AddScalar;  // never used: None returns v itself below
}

TA_HOST_DEVICE inline float epilogue_activation(EpilogueActivation act, float v) {
  return act == EpilogueActivation::None ? v : unary_value(unary_op_of(act), v, 0.0f);
}

}  // namespace ta
