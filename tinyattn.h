// tinyattn.h — everything a program needs, in one include: tensors and ops with
// autograd, layers and the Transformer language models, optimizers, and what an
// attention variant's author needs (the registry with its options, multi-head
// attention around a core of one's own, the conformance suite).
//
// In the repository it is found with -I at the repository root; installed (`make
// install`), it is PREFIX/include/tinyattn/tinyattn.h and pkg-config's Cflags put
// that folder on the include path: `#include <tinyattn.h>`.
#pragma once

#include "attention/attention_core.h"
#include "attention/conformance.h"
#include "attention/multi_head.h"
#include "attention/non_finite.h"
#include "attention/registry.h"
#include "attention/variant_options.h"
#include "autograd/checkpoint.h"
#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/random.h"
#include "core/tensor.h"
#include "layers/checkpoint.h"
#include "layers/module.h"
#include "layers/token_mixer.h"
#include "layers/training_checkpoint.h"
#include "layers/transformer.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
