// core/cpu/gemm/dispatch.h — which GEMM runs a product: the project's own or OpenBLAS.
#pragma once

#include <cstdint>
#include <optional>

namespace ta::cpu::gemm {

enum class GemmEngine { Own, OpenBlas };

// The engine for a product of this shape (per product of a batch). The environment
// variable TA_GEMM=own or TA_GEMM=openblas forces one for every product, to compare
// them; unset (or auto) means the policy in dispatch.cpp, measured with build/bench gemm.
// Throws ta::Error naming the variable for any other value.
GemmEngine engine_for(int64_t M, int64_t N, int64_t K);

// The engine a value of TA_GEMM forces: "own", "openblas"; none for null, "" or "auto".
std::optional<GemmEngine> forced_engine(const char* value);

}  // namespace ta::cpu::gemm
