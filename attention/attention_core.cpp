#include "attention/attention_core.h"

#include <cmath>

namespace ta {

float AttentionScale::operator()(int64_t n) const {
  if (train_length < 2 || n < 2) return base;
  return base * static_cast<float>(std::log(static_cast<double>(n)) / std::log(static_cast<double>(train_length)));
}

}  // namespace ta
