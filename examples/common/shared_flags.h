// examples/common/shared_flags.h — the flags both example programs have: where the
// run goes and how it starts, the model's shape, the training. Each program gives
// its own defaults and adds its own flags (cifar_gen/settings.h,
// protein_lm/settings.h); the limits are here, once.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "examples/common/flags.h"
#include "examples/common/run_folder.h"
#include "examples/common/trainer.h"

namespace ta::examples {

// Upper limits of the shared flags: far beyond what these programs can train on
// one machine, and small enough that no product of them overflows.
constexpr int64_t kMaxSteps = 1'000'000'000;
constexpr int64_t kMaxLayers = 1024, kMaxWidth = 65536, kMaxHeads = 4096, kMaxBatch = 1 << 20;
constexpr int64_t kMaxThreads = 4096;
constexpr double kMaxMinutes = 1e6;  // about two years

struct TrainingDefaults {
  int64_t batch, steps, warmup, eval_every, checkpoint_every;
  std::string lr, decay = "cosine", final_lr = "0.1", beta2 = "0.999";
};

// --out, --resume, --overwrite, --threads, --device, --seed.
void add_run_flags(Flags& flags, const std::string& default_out, const std::string& seed_help);
// --layers, --d-model, --heads, --d-ff, --previous-tokens (default given), --dropout.
void add_model_shape_flags(Flags& flags, int64_t previous_tokens);
// --batch, --steps, --lr, --weight-decay, --beta2, --warmup, --decay, --final-lr,
// --clip, --time-limit, --eval-every, --checkpoint-every, --bucket-mb.
void add_training_flags(Flags& flags, const TrainingDefaults& defaults, const std::string& batch_help);

// Whether to start anew, over an earlier run, or continue one.
RunStart run_start(const Flags& flags);
TrainOptions train_options(const Flags& flags);
// --threads > 0: OpenMP's and OpenBLAS's thread count.
void apply_threads(const Flags& flags);
// Of the shared flags, those that may change when a run resumes (run_config.h).
std::set<std::string> shared_changeable_flags();

}  // namespace ta::examples
