// core/cpu/gemm/isa_region.h — compile a stretch of one file for an instruction set
// the build's own target may lack.
//
//   TA_ISA_REGION_BEGIN("avx2,fma")   ... kernels using AVX2 intrinsics ...   TA_ISA_REGION_END
//
// Every function declared in between is compiled as if with -mavx2 -mfma; the rest of
// the program is not, so nothing there may run before CPUID has said yes. g++ spells
// this `#pragma GCC target`, clang `#pragma clang attribute ... target`; the macros
// hide the difference.
#pragma once

#define TA_ISA_PRAGMA(text) _Pragma(#text)

#if defined(__clang__)
#define TA_ISA_REGION_BEGIN(features) \
  TA_ISA_PRAGMA(clang attribute push(__attribute__((target(features))), apply_to = function))
#define TA_ISA_REGION_END TA_ISA_PRAGMA(clang attribute pop)
#else
#define TA_ISA_REGION_BEGIN(features) TA_ISA_PRAGMA(GCC push_options) TA_ISA_PRAGMA(GCC target(features))
#define TA_ISA_REGION_END TA_ISA_PRAGMA(GCC pop_options)
#endif
