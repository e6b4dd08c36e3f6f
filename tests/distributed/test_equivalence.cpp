// tests/distributed/test_equivalence.cpp — the promise of data parallelism, on the
// example programs' own models: 2 ranks with batch B each train like 1 process with
// batch 2B from the same seed. Each rank runs both side by side, step by step: the
// one-process reference on the global batch, and its replica on its share of it
// (dist::batch_share) with gradients reduced by GradientReducer (small buckets, so
// several are in flight during backward). Checked every step: the replicas' mean
// loss equals the reference's, and the replicas are bit-identical across ranks;
// after the last step, the parameters equal the reference's to float tolerance.
//
// Models and optimizers as the programs build them with their default flags
// (examples/*/main.cpp), dropout off: the CIFAR-10 model (sparse-strided attention,
// tied value embeddings, AdamW lr 0.004, clip 1.0) and the protein LM (FAVOR+
// attention, AdamW lr 0.001, clip 1.0) on bundled real data. The protein batches
// score different numbers of tokens per rank (padding), so each rank weighs its loss
// by dist::mean_weight, and the test also shows that without the reducer the ranks
// drift apart far beyond the tolerance.
//
// Tolerances: the reference sums its batch's gradients in another order than the
// ranks (each half, then the two halves), so the gradients agree to float rounding
// (about 1e-7 relative). Adam divides by the root of the second moment, which for
// parameters with tiny gradients turns that rounding into differences of order
// lr * (rounding / |g|); over a few steps the parameters stay within 1e-5 of each
// other (measured: 2.5e-6 and 1.6e-6; 1.2e-6 to 2.3e-6 in the sanitizer build),
// and the losses, computed from those parameters, within 1e-5 relative (measured:
// below 1e-6; up to 3e-6 in the sanitizer build, whose -O1 kernels round
// differently). Without the reduction the protein parameters differ by 8e-3.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "distributed/reducer.h"
#include "distributed/replicas.h"
#include "distributed/shard.h"
#include "distributed/world.h"
#include "examples/cifar_gen/cifar_data.h"
#include "examples/cifar_gen/model.h"
#include "examples/cifar_gen/training.h"
#include "examples/protein_lm/data.h"
#include "examples/protein_lm/fasta.h"
#include "examples/protein_lm/model.h"
#include "examples/protein_lm/vocab.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "tests/distributed/dist_testing.h"

namespace {

using ta::Tensor;
namespace dist = ta::dist;
namespace cifar = ta::cifar;
namespace protein = ta::protein;
using ta::testing::max_abs_difference;
using ta::testing::two_ranks;

constexpr double kParamTolerance = 1e-5, kLossTolerance = 1e-5;
constexpr double kBucketMb = 0.1;  // 25,000 floats: several buckets for these models

std::vector<Tensor> state_tensors(const ta::Module& model) {
  std::vector<Tensor> out;
  for (const auto& [name, t] : model.state_dict()) out.push_back(t);
  return out;
}

dist::ReducerOptions small_buckets() {
  dist::ReducerOptions o;
  o.bucket_mb = kBucketMb;
  return o;
}

// ---- CIFAR-10 ----------------------------------------------------------------------

// The defaults of examples/cifar_gen/main.cpp's flags.
cifar::ModelOptions cifar_default_model() {
  cifar::ModelOptions o;
  o.attention = "sparse-strided";
  o.attention_options = {{"sparse-stride", "96"}};
  o.layers = 2;
  o.d_model = 64;
  o.heads = 2;
  o.dropout = 0.0f;
  o.tie_embeddings = true;
  o.smooth_values = true;
  o.factorized_positions = true;
  o.seed = 1;
  return o;
}

cifar::TrainOptions cifar_default_training(int64_t batch, int64_t steps) {
  return {.batch = batch, .steps = steps, .warmup = 100, .lr = 0.004f, .weight_decay = 0.01f, .clip = 1.0f};
}

// One step of cifar::Trainer::step on the given images, its backward through the
// reducer when there is one. Returns the loss (over all ranks with a reducer).
double cifar_step(cifar::Trainer& t, const cifar::Dataset& data, const std::vector<int64_t>& images,
                  dist::GradientReducer* reducer) {
  Tensor inputs, targets;
  cifar::make_batch(data, images, inputs, targets);
  const float lr = t.lr(0);
  Tensor loss = cifar::pixel_loss(t.model->forward(inputs), targets);
  t.optimizer.zero_grad();
  if (reducer) reducer->backward(loss);
  else ta::backward(loss);
  ta::clip_grad_norm(t.optimizer.parameters(), t.options.clip);
  t.optimizer.step(lr);
  return reducer ? dist::mean_over_ranks(loss.item()) : loss.item();
}

// ---- protein LM --------------------------------------------------------------------

// Rows [begin, begin + count) of a batch (views: the leading axis).
protein::Batch rows_of(const protein::Batch& b, dist::RowRange r) {
  protein::Batch out;
  out.inputs = ta::narrow(b.inputs, 0, r.begin, r.count);
  out.targets = ta::narrow(b.targets, 0, r.begin, r.count);
  if (b.padding.defined()) out.padding = ta::narrow(b.padding, 0, r.begin, r.count);
  for (float t : out.targets.to_vector()) out.scored += t != protein::kIgnore ? 1 : 0;
  return out;
}

// protein::train_step with the loss weighted by `weight` and backward through the
// reducer when there is one. Returns the unweighted loss of these rows.
double protein_step(ta::TransformerLM& model, ta::Optimizer& opt, const protein::Batch& b, float lr, float clip,
                    dist::GradientReducer* reducer, double weight) {
  Tensor loss = ta::cross_entropy(model.forward(b.inputs, b.padding), b.targets, protein::kIgnore);
  opt.zero_grad();
  Tensor weighted = loss * static_cast<float>(weight);
  if (reducer) reducer->backward(weighted);
  else ta::backward(weighted);
  ta::clip_grad_norm(opt.parameters(), clip);
  opt.step(lr);
  return loss.item();
}

}  // namespace

TEST_CASE("equivalence: CIFAR-10 model, 2 ranks x 2 images = 1 process x 4 images, replicas identical") {
  if (!two_ranks()) return;
  const int64_t kSteps = 4, kGlobal = 4;
  const cifar::Dataset data = cifar::load_file("examples/data/cifar10/test.bin");
  cifar::Trainer reference(cifar_default_model(), cifar_default_training(kGlobal, kSteps));
  cifar::Trainer replica(cifar_default_model(), cifar_default_training(kGlobal / 2, kSteps));
  dist::broadcast_from_root(state_tensors(*replica.model));
  dist::GradientReducer reducer(replica.model->parameters(), small_buckets());
  CHECK(reducer.bucket_count() > 5);

  ta::Generator order(5);
  const dist::RowRange mine = dist::batch_share(kGlobal, dist::rank(), 2);
  for (int step = 0; step < kSteps; ++step) {
    std::vector<int64_t> images(kGlobal);
    for (int64_t& i : images) i = static_cast<int64_t>(order.next_uniform() * 64);
    const std::vector<int64_t> my_images(images.begin() + mine.begin, images.begin() + mine.begin + mine.count);
    const double ref_loss = cifar_step(reference, data, images, nullptr);
    const double dp_loss = cifar_step(replica, data, my_images, &reducer);
    INFO("step ", step + 1, ": loss ", ref_loss, " (1 process) vs ", dp_loss, " (2 ranks)");
    CHECK(std::fabs(dp_loss - ref_loss) <= kLossTolerance * ref_loss);
    CHECK(dist::identical_on_all_ranks(replica.model->parameters()));
    CHECK(reducer.last_stats().started_during_backward == reducer.last_stats().buckets);
  }
  const double diff = max_abs_difference(reference.model->parameters(), replica.model->parameters());
  MESSAGE("CIFAR-10 model after ", kSteps, " steps: max |parameter difference| ", diff);
  CHECK(diff <= kParamTolerance);
}

TEST_CASE("equivalence: protein LM, 2 ranks x 4 sequences = 1 process x 8, weighted by tokens; drift without") {
  if (!two_ranks()) return;
  const int64_t kSteps = 4, kGlobal = 8, kMaxLen = 1024;
  const float kLr = 0.001f, kClip = 1.0f;  // the default peak rate, from the first step (no warmup)
  std::vector<protein::FastaRecord> records = protein::read_fasta("examples/data/protein/train.fasta");
  records.resize(64);
  const protein::Corpus corpus = protein::make_corpus(records);
  protein::ModelOptions m;  // examples/protein_lm/main.cpp's defaults
  m.attention = "performer";
  m.objective = protein::Objective::Causal;
  m.layers = 2;
  m.d_model = 64;
  m.heads = 2;
  m.max_len = kMaxLen;
  m.dropout = 0.0f;
  m.seed = 1;
  auto reference = protein::build_model(m), replica = protein::build_model(m), unreduced = protein::build_model(m);
  ta::AdamW ref_opt(ta::weight_decay_groups(reference->named_parameters(), 0.01f));
  ta::AdamW dp_opt(ta::weight_decay_groups(replica->named_parameters(), 0.01f));
  ta::AdamW unreduced_opt(ta::weight_decay_groups(unreduced->named_parameters(), 0.01f));
  dist::broadcast_from_root(state_tensors(*replica));
  dist::GradientReducer reducer(replica->parameters(), small_buckets());

  const protein::Sampler sampler(corpus, protein::Objective::Causal, kMaxLen, protein::Packing::PerSequence, kGlobal);
  ta::Generator gen(21);
  const dist::RowRange mine = dist::batch_share(kGlobal, dist::rank(), 2);
  bool shares_differ = false;
  for (int step = 0; step < kSteps; ++step) {
    const protein::Batch global = sampler.next(gen);
    const protein::Batch local = rows_of(global, mine);
    const double weight = dist::mean_weight(local.scored);
    shares_differ = shares_differ || weight != 1.0;
    const double ref_loss = protein_step(*reference, ref_opt, global, kLr, kClip, nullptr, 1.0);
    const double dp_loss =
        dist::mean_over_ranks(weight * protein_step(*replica, dp_opt, local, kLr, kClip, &reducer, weight));
    protein_step(*unreduced, unreduced_opt, local, kLr, kClip, nullptr, weight);
    INFO("step ", step + 1, ": loss ", ref_loss, " (1 process) vs ", dp_loss, " (2 ranks), weight ", weight);
    CHECK(std::fabs(dp_loss - ref_loss) <= kLossTolerance * ref_loss);
    CHECK(dist::identical_on_all_ranks(replica->parameters()));
  }
  CHECK(shares_differ);  // the weighting was exercised
  const double diff = max_abs_difference(reference->parameters(), replica->parameters());
  const double drift = max_abs_difference(reference->parameters(), unreduced->parameters());
  MESSAGE("protein LM after ", kSteps, " steps: max |parameter difference| ", diff, "; without the reducer ", drift);
  CHECK(diff <= kParamTolerance);
  CHECK(drift > 100 * kParamTolerance);  // the tolerance would notice a missing reduction
  CHECK_FALSE(dist::identical_on_all_ranks(unreduced->parameters()));
}
