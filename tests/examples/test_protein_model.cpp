// tests/examples/test_protein_model.cpp — the model side of the protein language-model
// example (examples/protein_lm):
//   - padding never reaches the loss nor, for every registered attention variant,
//     the outputs at real positions; the masked-LM loss counts only masked positions;
//   - a tiny model's loss falls on a handful of sequences; resuming from a training
//     checkpoint equals training straight through, bit for bit;
//   - loading a trained model's parameters by name into a model with another
//     attention keeps the new model's own buffers; attention/objective mismatches
//     are clear errors; sampling respects prompt, alphabet and length.
// The data side (FASTA, vocabulary, batches, masking, the unigram baseline):
// test_protein_data.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attention/registry.h"
#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "examples/protein_lm/data.h"
#include "examples/protein_lm/model.h"
#include "examples/protein_lm/vocab.h"
#include "optim/adam.h"
#include "optim/schedule.h"
#include "layers/training_checkpoint.h"
#include "tests/examples/protein_testing.h"
#include "tests/layers/layer_testing.h"
#include "tests/testing.h"

namespace {

using ta::Shape;
using ta::Tensor;
namespace protein = ta::protein;
using namespace ta::testing;

std::vector<float> row_prefix(const Tensor& logits, int64_t row, int64_t positions) {
  const std::vector<float> all = logits.to_vector();
  const int64_t n = logits.size(1), v = logits.size(2);
  return std::vector<float>(all.begin() + row * n * v, all.begin() + (row * n + positions) * v);
}

}  // namespace

// ---- padding and the loss --------------------------------------------------------

TEST_CASE("padding never reaches the loss, nor (for every registered variant) the real positions' outputs") {
  protein::Corpus c;
  c.add("short", "MKVLA");
  c.add("long", "MTQLLKKVFALSALLAFSLS");
  for (const ta::AttentionVariant& v : ta::attention_variants()) {
    for (const bool causal : {true, false}) {
      if (causal ? !v.supports_causal : !v.supports_bidirectional) continue;
      const std::string what = "attention " + v.name + (causal ? " causal" : " bidirectional");
      INFO(what);
      const auto objective = causal ? protein::Objective::Causal : protein::Objective::Masked;
      auto model = protein::build_model(tiny(v.name, objective));
      model->eval();
      ta::Generator mask_gen(1);
      const auto rows = protein::crop_rows(c, {0, 1}, 32, nullptr);
      protein::Batch b = causal ? protein::causal_batch(rows) : protein::masked_batch(rows, mask_gen);
      REQUIRE(b.padding.defined());
      const int64_t n = b.inputs.size(1), real = causal ? 6 : 7;  // row 0's real positions
      // The same batch with other tokens in the padded positions of row 0.
      std::vector<float> in = b.inputs.to_vector();
      for (int64_t j = real; j < n; ++j) in[j] = static_cast<float>(4 + (j * 5) % 25);
      const Tensor other = Tensor::from_vector(in, b.inputs.shape());

      ta::NoGradGuard no_grad;
      const Tensor z1 = model->forward(b.inputs, b.padding), z2 = model->forward(other, b.padding);
      CHECK(row_prefix(z1, 0, real) == row_prefix(z2, 0, real));
      CHECK(row_prefix(z1, 1, n) == row_prefix(z2, 1, n));
      const float l1 = ta::cross_entropy(z1, b.targets, protein::kIgnore).item();
      const float l2 = ta::cross_entropy(z2, b.targets, protein::kIgnore).item();
      CHECK(l1 == l2);
      if (v.name == "softmax" || v.name == "softmax-reference") {  // exact attention: as if unpadded
        const protein::Batch alone = causal ? protein::causal_batch({rows[0]}) : protein::masked_batch({rows[0]}, mask_gen);
        const Tensor z = model->forward(alone.inputs, alone.padding);
        const std::vector<float> a = row_prefix(z, 0, real), p = row_prefix(z1, 0, real);
        for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(p[i]).epsilon(1e-4));
      }
    }
  }
}

TEST_CASE("masked-LM loss counts only the masked positions") {
  auto model = protein::build_model(tiny("softmax", protein::Objective::Masked));
  const protein::Corpus c = small_corpus();
  ta::Generator gen(4);
  const protein::Batch b = protein::masked_batch(protein::crop_rows(c, {0, 1, 2, 3}, 32, nullptr), gen);
  REQUIRE(b.scored > 0);
  const Tensor logits = model->forward(b.inputs, b.padding);
  const float loss = ta::cross_entropy(logits, b.targets, protein::kIgnore).item();
  // By hand: the mean of -log softmax(target) over the scored positions only.
  const std::vector<float> z = logits.to_vector(), t = b.targets.to_vector();
  double sum = 0, all = 0;
  int64_t count = 0;
  for (size_t p = 0; p < t.size(); ++p) {
    const float* row = z.data() + p * protein::kVocab;
    double m = row[0], s = 0;
    for (int64_t k = 0; k < protein::kVocab; ++k) m = std::max<double>(m, row[k]);
    for (int64_t k = 0; k < protein::kVocab; ++k) s += std::exp(row[k] - m);
    const int64_t target = t[p] == -100.0f ? protein::kFirstResidue : static_cast<int64_t>(t[p]);
    const double nll = m + std::log(s) - row[target];
    all += nll;
    if (t[p] != -100.0f) sum += nll, ++count;
  }
  CHECK(count == b.scored);
  CHECK(count < static_cast<int64_t>(t.size()) / 4);
  CHECK(loss == doctest::Approx(sum / count).epsilon(1e-5));
  CHECK(std::abs(loss - all / t.size()) > 1e-4);  // not the mean over every position

  // evaluate() scores the same positions, and separately those whose input is <mask>.
  model->train();  // evaluate() switches to eval mode and back
  const protein::Scores sc = protein::evaluate(*model, {b}, protein::unigram_of(c));
  const std::vector<float> in = b.inputs.to_vector();
  double masked_inputs = 0;
  for (size_t p = 0; p < t.size(); ++p) masked_inputs += t[p] != -100.0f && in[p] == protein::kMask;
  CHECK(sc.count == count);
  CHECK(sc.loss() == doctest::Approx(loss).epsilon(1e-4));
  CHECK(sc.mask_count == masked_inputs);
  CHECK(sc.mask_count > 0);
  CHECK(sc.mask_count < sc.count);
  CHECK(model->training());
}

// ---- training --------------------------------------------------------------------

TEST_CASE("a tiny model's loss falls on a handful of sequences (causal and masked)") {
  const protein::Corpus c = small_corpus();
  for (const auto objective : {protein::Objective::Causal, protein::Objective::Masked}) {
    const std::string what = protein::objective_name(objective);
    INFO(what);
    protein::ModelOptions o = tiny("softmax", objective);
    o.d_model = 32;
    auto model = protein::build_model(o);
    // The loss on fixed batches of the same sequences (fixed masks), before and after.
    const auto batches = protein::eval_batches(c, objective, 32, protein::Packing::PerSequence, 4, 0);
    const protein::Unigram u = protein::unigram_of(c);
    const double before = protein::evaluate(*model, batches, u).loss();
    ta::AdamW opt(ta::weight_decay_groups(model->named_parameters(), 0.0f));
    const protein::Sampler sampler(c, objective, 32, protein::Packing::PerSequence, 4);
    ta::Generator gen(9);
    for (int step = 0; step < 200; ++step) protein::train_step(*model, opt, sampler.next(gen), 1e-2f, 1.0f);
    const double after = protein::evaluate(*model, batches, u).loss();
    INFO("before ", before, " after ", after);
    CHECK(before == doctest::Approx(std::log(29.0)).epsilon(0.05));  // uniform over the vocabulary at the start
    // Causal: the model memorizes the four sequences. Masked: 15% of positions are
    // scored, so learning is slower; it first learns the residue frequencies.
    CHECK(after < before - (objective == protein::Objective::Causal ? 1.0 : 0.3));
  }
}

TEST_CASE("resuming from a training checkpoint equals training straight through, bit for bit") {
  TempDir dir("protein");
  const protein::Corpus c = small_corpus();
  for (const bool pack : {false, true}) {
    for (const auto objective : {protein::Objective::Causal, protein::Objective::Masked}) {
      const std::string what = std::string(protein::objective_name(objective)) + (pack ? " packed" : " cropped");
      INFO(what);
      const std::string path = dir.file("ckpt.safetensors");
      struct Run {
        std::shared_ptr<ta::TransformerLM> model;
        std::unique_ptr<ta::AdamW> opt;
        ta::Generator data;
        ta::NamedGenerators gens() { return {{"data", &data}, {"model", &model->gen}}; }
      };
      auto make = [&](uint64_t data_seed) {
        protein::ModelOptions o = tiny("softmax", objective);
        o.dropout = 0.1f;  // the model generator matters
        o.max_len = 16;    // random crops and windows matter
        Run r{protein::build_model(o), nullptr, ta::Generator(data_seed)};
        r.opt = std::make_unique<ta::AdamW>(ta::weight_decay_groups(r.model->named_parameters(), 0.01f));
        return r;
      };
      ta::WarmupCosineSchedule schedule(3e-3f, 2, 8, 3e-4f);
      auto train = [&](Run& r, int steps, std::vector<double>& losses) {
        const protein::Sampler sampler(c, objective, 16, protein::packing_if(pack), 3);
        for (int i = 0; i < steps; ++i)
          losses.push_back(
              protein::train_step(*r.model, *r.opt, sampler.next(r.data), schedule.lr(r.opt->step_count()), 0.5f).loss);
      };
      std::vector<double> straight_losses, resumed_losses;
      Run straight = make(21);
      train(straight, 8, straight_losses);

      Run first = make(21);
      train(first, 4, resumed_losses);
      ta::save_training_checkpoint(path, *first.model, *first.opt, first.gens());
      Run second = make(77);  // other seeds: the load must replace everything
      ta::load_training_checkpoint(path, *second.model, *second.opt, second.gens());
      train(second, 4, resumed_losses);

      CHECK(resumed_losses == straight_losses);
      check_same_state(*straight.model, *second.model);
    }
  }
}

// ---- evaluation and generation -----------------------------------------------------

TEST_CASE("evaluation batches score each residue once; sampling keeps prompt, alphabet and length") {
  const protein::Corpus c = small_corpus();
  int64_t residues = 0;
  for (int64_t i = 0; i < c.size(); ++i) residues += c.length(i);
  int64_t scored = 0;
  for (const auto& b : protein::eval_batches(c, protein::Objective::Causal, 128, protein::Packing::PerSequence, 3, 0))
    scored += b.scored;
  CHECK(scored == residues);  // every residue, not <eos>, with max_len above every length
  scored = 0;
  for (const auto& b : protein::eval_batches(c, protein::Objective::Causal, 16, protein::Packing::Packed, 3, 0))
    scored += b.scored;
  CHECK(scored == residues - 1);  // packed: all but the very first residue, which has no left context

  auto model = protein::build_model(tiny("softmax", protein::Objective::Causal));
  ta::Generator g1(5), g2(5);
  protein::SamplingOptions so;
  so.max_length = 20;
  const auto a = protein::generate(*model, "MK", 3, so, g1), b = protein::generate(*model, "MK", 3, so, g2);
  CHECK(a == b);  // same seed, same sequences
  for (const std::string& s : a) {
    CHECK(s.rfind("MK", 0) == 0);
    CHECK(s.size() <= 20u);
    CHECK(protein::decode(protein::encode(s)) == s);
  }
  so.top_k = 1;  // greedy: every sample the same
  const auto greedy = protein::generate(*model, "MK", 3, so, g1);
  CHECK(greedy[0] == greedy[1]);
  CHECK(greedy[1] == greedy[2]);

  auto masked = protein::build_model(tiny("softmax", protein::Objective::Masked));
  CHECK(error_message([&] { protein::generate(*masked, "M", 1, so, g1); }).find("needs a causal model") !=
        std::string::npos);
}

TEST_CASE("attention variants that do not fit the objective are clear errors") {
  for (const ta::AttentionVariant& v : ta::attention_variants()) {
    INFO(v.name);
    if (!v.supports_causal)
      CHECK(error_message([&] { protein::check_attention_fits(v.name, protein::Objective::Causal); })
                .find("is bidirectional only, but the causal objective needs a causal variant") != std::string::npos);
    if (!v.supports_bidirectional)
      CHECK(error_message([&] { protein::check_attention_fits(v.name, protein::Objective::Masked); })
                .find("is causal only") != std::string::npos);
  }
  CHECK(error_message([] { protein::check_attention_fits("no-such", protein::Objective::Causal); })
            .find("unknown variant 'no-such' (registered: softmax") != std::string::npos);
  CHECK(error_message([] { protein::parse_objective("mlm"); }).find("expected 'causal'") != std::string::npos);
}

// ---- weights from another model ---------------------------------------------------

namespace {

// A parameter and a buffer, as a Performer core has (random features are buffers).
struct WithBuffer : ta::Module {
  Tensor w, features;
  explicit WithBuffer(float fill) {
    w = register_parameter("w", Tensor::full({2, 2}, fill));
    features = register_buffer("features", Tensor::full({3}, fill));
  }
};

}  // namespace

TEST_CASE("init-from: parameters load by name into another attention, the model's own buffers stay") {
  TempDir dir("protein");
  const std::string path = dir.file("source.safetensors");

  // Softmax-trained weights into a softmax-reference model: the same function.
  auto source = protein::build_model(tiny("softmax", protein::Objective::Causal));
  ta::AdamW opt(ta::weight_decay_groups(source->named_parameters(), 0.0f));
  const protein::Corpus c = small_corpus();
  const protein::Sampler sampler(c, protein::Objective::Causal, 32, protein::Packing::PerSequence, 4);
  ta::Generator gen(2);
  for (int i = 0; i < 3; ++i) protein::train_step(*source, opt, sampler.next(gen), 1e-2f, 1.0f);
  ta::save_training_checkpoint(path, *source, opt, {{"data", &gen}});

  protein::ModelOptions o = tiny("softmax-reference", protein::Objective::Causal);
  o.seed = 99;  // other initial weights
  auto target = protein::build_model(o);
  const ta::SafetensorsContents file = ta::read_safetensors(path);
  protein::load_parameters_by_name(*target, file.tensors, "model.", path);
  const protein::Batch b = protein::causal_batch(protein::crop_rows(c, {0, 1}, 33, nullptr));
  ta::NoGradGuard no_grad;
  const std::vector<float> zs = source->forward(b.inputs, b.padding).to_vector();
  const std::vector<float> zt = target->forward(b.inputs, b.padding).to_vector();
  REQUIRE(zs.size() == zt.size());
  for (size_t i = 0; i < zs.size(); i += 7) CHECK(zt[i] == doctest::Approx(zs[i]).epsilon(1e-4));

  // Every registered variant whose parameters have the softmax model's names and
  // shapes (multi-head attention with another core: Performer, sparse, ...) takes
  // the weights and keeps its own buffers (Performer's random features); the others
  // (FLASH's gated attention unit) are refused.
  for (const ta::AttentionVariant& v : ta::attention_variants()) {
    if (!v.supports_causal) continue;
    INFO(v.name);
    auto other = protein::build_model(tiny(v.name, protein::Objective::Causal));
    bool fits = true;
    for (const auto& [name, t] : other->named_parameters())
      fits = fits && file.tensors.count("model." + name) && file.tensors.at("model." + name).shape() == t.shape();
    std::map<std::string, std::vector<float>> buffers;
    for (const auto& [name, t] : other->named_buffers()) buffers[name] = t.to_vector();
    const std::string err = error_message([&] { protein::load_parameters_by_name(*other, file.tensors, "model.", path); });
    if (!fits) {
      CHECK(err.find("the parameters do not fit this model") != std::string::npos);
      continue;
    }
    CHECK(err.empty());
    for (const auto& [name, t] : other->named_parameters())
      CHECK(t.to_vector() == file.tensors.at("model." + name).to_vector());
    for (const auto& [name, t] : other->named_buffers()) CHECK(t.to_vector() == buffers.at(name));
  }
  CHECK(ta::attention_variants().size() >= 3);

  // The buffer rule on a module with both.
  WithBuffer from(1.0f), into(2.0f);
  std::map<std::string, Tensor> tensors = {{"w", from.w}, {"features", from.features}, {"extra", from.w}};
  const auto unused = protein::load_parameters_by_name(into, tensors, "", "mem");
  CHECK(into.w.to_vector() == std::vector<float>(4, 1.0f));
  CHECK(into.features.to_vector() == std::vector<float>(3, 2.0f));
  CHECK(unused == std::vector<std::string>{"extra", "features"});

  // A model of another shape is refused, naming what does not fit, and unchanged.
  protein::ModelOptions wide = tiny("softmax", protein::Objective::Causal);
  wide.d_model = 32;
  auto mismatch = protein::build_model(wide);
  const std::vector<float> before = mismatch->tokens->weight.to_vector();
  const std::string msg = error_message([&] { protein::load_parameters_by_name(*mismatch, file.tensors, "model.", path); });
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find("tokens.weight: the file has shape [29, 16], the model [29, 32]") != std::string::npos);
  CHECK(mismatch->tokens->weight.to_vector() == before);
}
