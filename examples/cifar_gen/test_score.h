// examples/cifar_gen/test_score.h — the score a user reads: test bits/dim of a
// model on the first test images, timed and printed, as the end of a training run
// and --evaluate report it.
#pragma once

#include <cstdint>

#include "examples/cifar_gen/cifar_data.h"
#include "layers/transformer.h"

namespace ta::cifar {

struct TestScore {
  double bpd = 0, seconds = 0;
  int64_t images = 0;
};

// Bits/dim on the first `images` images of `test` (all of them when `images` is 0
// or more than there are), in batches of `batch`; prints the figure and the time.
TestScore score_test_images(TransformerLM& model, const Dataset& test, int64_t images, int64_t batch);

}  // namespace ta::cifar
