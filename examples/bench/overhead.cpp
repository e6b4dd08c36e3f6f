// Workload "overhead": the fixed cost of one tiny op, y = a + b on float32 tensors of
// shape 1x1 and 16x16 (../shared/bench/README.md, overhead.py), through the
// framework's user API (ta::add via operator+, ta::backward).
//
//   add_fwd            y = a + b, a and b without requires_grad (nothing recorded)
//   add_fwd_grad       y = a + b, a and b requires_grad (a node recorded, no backward)
//   add_fwd_bwd        y = a + b; ta::backward(y, g), g = ones preallocated; a.grad and
//                      b.grad accumulate (never zeroed)
//   add_chain_fwd_bwd  y = a; 100 x (y = y + b); ta::backward(y, g), reported per add
//
// Protocol (overhead.py): one sample = a loop of 10,000 iterations (10,000 adds for
// the chain: 100 chains of 100), time / 10,000; 1 warm-up loop, then 7 samples;
// median and min in microseconds per iteration.
#include <string>
#include <vector>

#include "examples/bench/bench.h"
#include "examples/bench/timing.h"
#include "tinyattn.h"

namespace {

constexpr int kIters = 10000;
constexpr int kSamples = 7;
constexpr int kChain = 100;

// loop() runs kIters iterations; returns microseconds per iteration, median and min.
template <class Loop>
bench::Summary measure(Loop&& loop) {
  loop();  // warm-up
  std::vector<double> us;
  for (int s = 0; s < kSamples; ++s) {
    double t0 = bench::now_s();
    loop();
    us.push_back((bench::now_s() - t0) / kIters * 1e6);
  }
  return bench::summarize(us);
}

// Whether the operands of a timed add require gradients (the op then records a node).
enum class Grad { No, Yes };

struct Operands {
  ta::Tensor a, b;
};

// Fresh copies of a0 and b0, so that each measurement starts without gradients.
Operands operands(const ta::Tensor& a0, const ta::Tensor& b0, Grad grad) {
  Operands o{a0.clone(), b0.clone()};
  if (grad == Grad::Yes) {
    o.a.set_requires_grad();
    o.b.set_requires_grad();
  }
  return o;
}

// y = a + b, kIters times per loop, forward only.
bench::Summary time_add_forward(const Operands& o) {
  return measure([&] {
    for (int i = 0; i < kIters; ++i) {
      ta::Tensor y = o.a + o.b;
      bench::do_not_optimize(y.impl());
    }
  });
}

void run_overhead(const bench::Options& opt, bench::Report& report) {
  for (int64_t side : {1, 16}) {
    const std::string n = std::to_string(side) + "x" + std::to_string(side);
    if (!opt.selected(n)) continue;
    const ta::Shape shape{side, side};
    ta::Generator gen(0);
    const ta::Tensor a0 = ta::Tensor::normal(shape, 0.0f, 1.0f, gen), b0 = ta::Tensor::normal(shape, 0.0f, 1.0f, gen);
    const ta::Tensor g = ta::Tensor::ones(shape);

    auto record = [&](const char* variant, const bench::Summary& s) {
      report.add(variant, n, "us_per_op", s.median, "us");
      report.add(variant, n, "us_per_op_best", s.min, "us");
    };

    record("add_fwd", time_add_forward(operands(a0, b0, Grad::No)));
    record("add_fwd_grad", time_add_forward(operands(a0, b0, Grad::Yes)));
    {
      const Operands o = operands(a0, b0, Grad::Yes);
      record("add_fwd_bwd", measure([&] {
               for (int i = 0; i < kIters; ++i) {
                 ta::Tensor y = o.a + o.b;
                 ta::backward(y, g);
               }
             }));
      // Every iteration added g (ones) into both gradients: 1 + 7 loops of kIters.
      const float expect = static_cast<float>((1 + kSamples) * kIters);
      if (o.a.grad().to_vector()[0] != expect || o.b.grad().to_vector()[0] != expect)
        report.note("WARNING: add_fwd_bwd gradients did not accumulate as expected");
    }
    {
      const Operands o = operands(a0, b0, Grad::Yes);
      record("add_chain_fwd_bwd", measure([&] {
               for (int i = 0; i < kIters / kChain; ++i) {
                 ta::Tensor y = o.a;
                 for (int j = 0; j < kChain; ++j) y = y + o.b;
                 ta::backward(y, g);
               }
             }));
    }
  }
  report.note("us_per_op: median of 7 loops of 10,000 iterations (after 1 warm-up loop); us_per_op_best: the "
              "fastest loop. add_chain_fwd_bwd is per add (one backward per 100 adds).");
}

const bench::RegisterWorkload reg{
    {"overhead", "per-op overhead of y = a + b on 1x1 and 16x16, forward and forward+backward", run_overhead}};

}  // namespace
