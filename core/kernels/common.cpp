// core/kernels/common.cpp — what the tensor-level kernels share: the device check.
#include "core/kernels/common.h"

#include "core/error.h"

namespace ta::kernels {

Device common_device(std::initializer_list<const Tensor*> ts, const char* op) {
  Device d = (*ts.begin())->device();
  for (const Tensor* t : ts)
    TA_CHECK(t->device() == d, op, ": tensors are on different devices (", d, " and ", t->device(),
             "); move them with .to(device) first");
  return d;
}

}  // namespace ta::kernels
