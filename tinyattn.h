// tinyattn.h — everything a program needs, in one include.
#pragma once

#include "attention/registry.h"
#include "autograd/checkpoint.h"
#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/random.h"
#include "core/tensor.h"
#include "layers/checkpoint.h"
#include "layers/transformer.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "optim/training_checkpoint.h"
