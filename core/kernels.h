// core/kernels.h — every tensor-level kernel (no autograd), one header per concern:
// the framework's in core/kernels/, the papers' fused attention in core/attention/.
// Each checks its arguments, allocates the output on the inputs' device and runs the
// device's backend operation (core/backend_ops.h). autograd/ includes the header of
// its concern; the layers above may include this one.
#pragma once

#include "core/attention/block_sparse.h"
#include "core/attention/dense.h"
#include "core/attention/flash.h"
#include "core/attention/performer.h"
#include "core/kernels/common.h"
#include "core/kernels/elementwise.h"
#include "core/kernels/index.h"
#include "core/kernels/loss.h"
#include "core/kernels/matmul.h"
#include "core/kernels/movement.h"
#include "core/kernels/norm.h"
#include "core/kernels/optim.h"
#include "core/kernels/reduce.h"
