// layers/finite_check.h — finding a NaN or an infinity where it enters, and saying
// where it is.
//
// A non-finite activation is the trace of a run that diverged (weights or a
// learning rate that blew up) or of an input that was never meant to be read. Left
// alone it spreads and surfaces steps later as a NaN loss blamed on "a gradient".
// check_finite stops the run at the tensor where it first shows, naming it.
//
// One pass over x: its sum, on x's device (a NaN or inf anywhere makes the sum
// non-finite). Only then is x read on the host to find the first bad value; a
// finite tensor whose sum overflows is read too, and passes.
#pragma once

#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace ta {

enum class FiniteCheck { Off, On };

// What check_finite throws: a ta::Error like any other, its own type so that a
// training loop can tell a run that blew up from a wrong argument.
struct NonFiniteError : Error {
  using Error::Error;
};

// Throws a NonFiniteError unless every value of x is finite, naming `what`, x's shape, how
// many values are NaN or infinite, the first one and its index ([sample, position,
// channel] for an activation [batch, n, d]).
void check_finite(const Tensor& x, const std::string& what);

}  // namespace ta
