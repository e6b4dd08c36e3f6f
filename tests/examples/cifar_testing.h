// tests/examples/cifar_testing.h — the options of a tiny CIFAR-10 pixel model, shared by
// the cifar example's tests.
#pragma once

#include <string>

#include "examples/cifar_gen/model.h"
#include "tests/examples/tiny_models.h"

namespace ta::testing {

inline cifar::ModelOptions tiny_image_model(const std::string& attention) {
  return tiny_options<cifar::ModelOptions>(attention, 5);
}

}  // namespace ta::testing
