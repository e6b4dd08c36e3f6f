// tinyattn.h — everything a program needs, in one include.
#pragma once

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/random.h"
#include "core/tensor.h"
