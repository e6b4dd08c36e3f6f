#include "examples/common/shared_flags.h"

#include <omp.h>
#include <cblas.h>

#include <limits>

#include "core/error.h"

namespace ta::examples {

void add_run_flags(Flags& f, const std::string& default_out, const std::string& seed_help) {
  f.begin_section("run");
  f.add(text_flag("out", default_out, "folder for everything the run writes", non_empty_text()));
  f.add(switch_flag("resume", "continue the run in --out from its checkpoint, with the flags it was started with"));
  f.add(switch_flag("overwrite", "start a new run in --out even though it holds one (its files are removed)"));
  f.add(integer_flag("threads", 0, 0, kMaxThreads, "threads (0: OMP_NUM_THREADS or all cores)"));
  f.add(choice_flag("device", "cpu", {"cpu", "cuda"},
                    "cpu, or cuda (a build with the CUDA toolkit, on a machine with a GPU)"));
  f.add(integer_flag("seed", 1, 0, std::numeric_limits<int64_t>::max(), seed_help));
  f.add(choice_flag("check-inputs", "on", {"on", "off"},
                    "stop at the first attention input holding a NaN or inf, naming the layer and position"));
}

void add_model_shape_flags(Flags& f, int64_t previous_tokens) {
  f.begin_section("model");
  f.add(integer_flag("layers", 2, 1, kMaxLayers, "Transformer blocks"));
  f.add(integer_flag("d-model", 64, 1, kMaxWidth, "model width (a multiple of --heads)"));
  f.add(integer_flag("heads", 2, 1, kMaxHeads, "attention heads"));
  f.add(integer_flag("d-ff", 0, 0, 4 * kMaxWidth, "feed-forward width (0: 4 x d-model)"));
  f.add(integer_flag("previous-tokens", previous_tokens, 0, 64,
                     "each position also embeds the K tokens before it, one table per offset (an n-gram input; "
                     "0: none)"));
  f.add(number_flag("dropout", "0", Range{0, 0.95}, "dropout on residual branches and embeddings"));
}

void add_training_flags(Flags& f, const TrainingDefaults& d, const std::string& batch_help) {
  f.begin_section("training");
  f.add(integer_flag("batch", d.batch, 1, kMaxBatch, batch_help + " (of each process, when started by mpirun or srun)"));
  f.add(integer_flag("steps", d.steps, 1, kMaxSteps, "training steps"));
  f.add(number_flag("lr", d.lr, Range{0, 1e30, Endpoint::Excluded}, "peak learning rate (AdamW)"));
  f.add(number_flag("weight-decay", "0.01", Range{0, 1e6},
                    "AdamW decoupled weight decay (not on norms, biases, embeddings)"));
  f.add(number_flag("beta2", d.beta2, Range{0, 0.9999},
                    "AdamW's decay of the squared-gradient average (lower: it follows the gradients' scale faster)"));
  f.add(integer_flag("warmup", d.warmup, 0, kMaxSteps, "linear warmup steps, then the decay to --final-lr"));
  f.add(choice_flag("decay", d.decay, {"cosine", "linear"}, "how the learning rate falls after warmup"));
  f.add(number_flag("final-lr", d.final_lr, Range{0, 1}, "the learning rate at --steps, as a fraction of --lr"));
  f.add(number_flag("clip", "1.0", Range{0, 1e30}, "gradient clipping by global norm (0: none)"));
  f.add(number_flag("time-limit", "0", Range{0, kMaxMinutes},
                    "minutes of training after which the run stops, evaluates and writes everything (0: none); "
                    "the decay then follows the clock when that is further along than --steps"));
  f.add(integer_flag("eval-every", d.eval_every, 1, kMaxSteps, "steps between periodic evaluations"));
  f.add(integer_flag("checkpoint-every", d.checkpoint_every, 1, kMaxSteps,
                     "steps between checkpoints (also saved at the end and when stopped by a signal)"));
  f.add(number_flag("bucket-mb", "25", Range{0.001, 1e6},
                    "started by mpirun or srun: gradients are averaged over the processes in buckets of this many "
                    "MB, each sent as soon as backward has filled it"));
}

RunStart run_start(const Flags& f) {
  TA_CHECK(!(f.boolean("resume") && f.boolean("overwrite")),
           "--resume continues the run in --out and --overwrite replaces it: give one of them");
  if (f.boolean("resume")) return RunStart::Resume;
  return f.boolean("overwrite") ? RunStart::Overwrite : RunStart::New;
}

TrainOptions train_options(const Flags& f) {
  TrainOptions o;
  o.batch = f.integer("batch");
  o.steps = f.integer("steps");
  o.warmup = f.integer("warmup");
  o.decay = f.str("decay") == "linear" ? Decay::Linear : Decay::Cosine;
  o.final_lr = static_cast<float>(f.number("final-lr"));
  o.lr = static_cast<float>(f.number("lr"));
  o.weight_decay = static_cast<float>(f.number("weight-decay"));
  o.beta2 = static_cast<float>(f.number("beta2"));
  o.clip = static_cast<float>(f.number("clip"));
  o.time_limit_s = 60 * f.number("time-limit");
  o.bucket_mb = f.number("bucket-mb");
  return o;
}

void apply_threads(const Flags& f) {
  const int threads = static_cast<int>(f.integer("threads"));
  if (threads == 0) return;
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

std::set<std::string> shared_changeable_flags() {
  // --lr: a run that diverged continues from its last good checkpoint at a lower rate.
  return {"steps",  "time-limit", "lr",        "eval-every",  "checkpoint-every",
          "threads", "device",    "bucket-mb", "check-inputs"};
}

}  // namespace ta::examples
