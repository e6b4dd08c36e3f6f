// attention/builtin_variants.h — the registrations of the variants that ship with
// the library, each defined in the variant's own file like a user's registration.
// They are declared here only so that registry.cpp can refer to them, which keeps
// them in programs that link the static library (registry.cpp says why).
#pragma once

#include "attention/registry.h"

namespace ta {

extern const AttentionRegistration softmax_registration, softmax_reference_registration;  // softmax.cpp
extern const AttentionRegistration nystrom_registration;                                 // nystrom.cpp
extern const AttentionRegistration sparse_strided_registration, sparse_fixed_registration,
    sparse_registration;                                                                  // sparse.cpp
extern const AttentionRegistration flash_registration, flash_quad_registration;          // gau.cpp
extern const AttentionRegistration performer_registration, performer_relu_registration,
    performer_reference_registration;                                                     // performer.cpp

}  // namespace ta
