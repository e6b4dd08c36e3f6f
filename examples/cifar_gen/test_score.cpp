#include "examples/cifar_gen/test_score.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "examples/cifar_gen/model.h"
#include "examples/common/progress.h"

namespace ta::cifar {

TestScore score_test_images(TransformerLM& model, const Dataset& test, int64_t images, int64_t batch) {
  TestScore s;
  s.images = images > 0 ? std::min(images, test.size()) : test.size();
  std::printf("evaluating on %lld test images...\n", static_cast<long long>(s.images));
  const auto start = std::chrono::steady_clock::now();
  s.bpd = evaluate_bpd(model, test, s.images, batch);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("test bits/dim: %.4f on %lld test images (uniform model: 8.0), %s to evaluate\n", s.bpd,
              static_cast<long long>(s.images), examples::format_duration(s.seconds).c_str());
  return s;
}

}  // namespace ta::cifar
