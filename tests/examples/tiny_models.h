// tests/examples/tiny_models.h — the size of the models the example tests build and
// train: one layer of width 16 with 2 heads.
#pragma once

#include <cstdint>
#include <string>

namespace ta::testing {

// Options of type Options (an example's ModelOptions, which extend
// examples::LanguageModelOptions) for a tiny model with the given attention and seed.
template <class Options>
Options tiny_options(const std::string& attention, uint64_t seed) {
  Options o;
  o.attention = attention;
  o.layers = 1;
  o.d_model = 16;
  o.heads = 2;
  o.seed = seed;
  return o;
}

}  // namespace ta::testing
