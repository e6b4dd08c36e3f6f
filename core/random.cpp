#include "core/random.h"

namespace ta {

Generator& default_generator() {
  static Generator g(0x5EED);
  return g;
}

void manual_seed(uint64_t seed) { default_generator() = Generator(seed); }

}  // namespace ta
