// examples/protein_lm/model.h — the protein language model: building it from the
// attention registry, one training step, evaluation against the unigram baseline,
// sampling new sequences, and moving trained weights into a model with another
// attention (the Performer paper's softmax -> FAVOR+ swap).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "examples/common/language_model.h"
#include "examples/common/trainer.h"
#include "examples/protein_lm/data.h"
#include "layers/transformer.h"
#include "optim/optimizer.h"

namespace ta::protein {

enum class Objective { Causal, Masked };
Objective parse_objective(const std::string& name);  // "causal" or "masked"
const char* objective_name(Objective objective);

// How rows of tokens are cut from a split: one sequence per row (cropped, padded),
// or windows of all sequences packed one after another with <eos> between (--pack).
enum class Packing { PerSequence, Packed };
inline Packing packing_if(bool pack) { return pack ? Packing::Packed : Packing::PerSequence; }

// The shape, attention, max_len (tokens read at once, learned positions), dropout
// and seed; build_model sets the vocabulary and the attention's mode from the objective.
struct ModelOptions : examples::LanguageModelOptions {
  Objective objective = Objective::Causal;
};

// Throws a clear error when the variant is unknown or lacks the objective's mode
// (causal needs a causal variant, masked a bidirectional one), naming the
// registered variants that fit.
void check_attention_fits(const std::string& attention, Objective objective);
std::shared_ptr<TransformerLM> build_model(const ModelOptions& options);

// The training batches of one step: `batch` rows from random sequences cropped at
// random (or random windows of the packed stream), masked for the masked
// objective. With length_pool > 1 a batch holds sequences of similar length
// (batch_sequences in data.h). Every draw comes from `gen`.
class Sampler {
 public:
  Sampler(const Corpus& train, Objective objective, int64_t max_len, Packing packing, int64_t batch,
          int64_t length_pool = 1);
  Batch next(Generator& gen) const;

 private:
  const Corpus& train_;
  Objective objective_;
  int64_t max_len_, batch_, length_pool_;
  Packing packing_;
  std::vector<uint8_t> stream_;  // pack only
};

// The mean cross-entropy over the batch's scored targets, in nats per token (the
// batch moved to the model's device).
Tensor batch_loss(TransformerLM& model, const Batch& batch);
// loss = batch_loss, then the update (examples/common/trainer.h: backward,
// clipping, the optimizer's step at `lr` unless a gradient is not finite); tokens:
// the batch's.
examples::StepResult train_step(TransformerLM& model, Optimizer& optimizer, const Batch& batch, float lr, float clip);

// ---- evaluation ------------------------------------------------------------------

// Fixed evaluation batches of a split: the first `max_sequences` sequences (<= 0:
// all), each cropped to its first window, batched in order of length (little
// padding); or, Packed, consecutive windows of the packed split. The masked
// objective masks them with a generator of fixed seed, so every evaluation scores
// the same positions. Only residue targets are scored (not <eos>).
std::vector<Batch> eval_batches(const Corpus& split, Objective objective, int64_t max_len, Packing packing,
                                int64_t batch, int64_t max_sequences, uint64_t mask_seed = 12345);

struct Scores {
  double nll = 0, correct = 0, count = 0;                  // the model: sums over scored targets
  double unigram_nll = 0, unigram_correct = 0;              // the baseline on the same targets
  // Masked objective: the same sums over the scored positions whose input is <mask>
  // (80% of them). The other 20% show a residue, in half of the cases the right one,
  // which the model learns to copy; the baseline cannot see it.
  double mask_nll = 0, mask_correct = 0, mask_count = 0, mask_unigram_nll = 0, mask_unigram_correct = 0;
  double loss() const { return nll / count; }               // nats per residue
  double perplexity() const;                                // exp(loss)
  double accuracy() const { return correct / count; }       // argmax = target
  double unigram_perplexity() const;
  double unigram_accuracy() const { return unigram_correct / count; }
  double mask_perplexity() const;
  double mask_accuracy() const { return mask_correct / mask_count; }
  double mask_unigram_perplexity() const;
  double mask_unigram_accuracy() const { return mask_unigram_correct / mask_count; }
};
// Scores the model (eval mode, no gradients) and the unigram baseline on the same
// targets. The model's prediction is the argmax over residues. In a run of several
// processes (examples/common/data_parallel.h) each scores batches rank, rank + P,
// ... and the sums are added over the processes: every process calls it.
Scores evaluate(TransformerLM& model, const std::vector<Batch>& batches, const Unigram& unigram);

// ---- generation (causal models) --------------------------------------------------

struct SamplingOptions {
  float temperature = 1.0f;
  int64_t top_k = 0;        // 0: all residues
  int64_t max_length = 0;   // residues per sequence including the prompt (0: the model's max_len - 1)
};
// `count` sequences continuing `prompt` (residue letters, may be empty), each drawn
// token by token from softmax(logits / temperature) over the residues and <eos>
// (restricted to the top_k most likely when top_k > 0) until <eos> or max_length.
std::vector<std::string> generate(TransformerLM& model, const std::string& prompt, int64_t count,
                                  const SamplingOptions& options, Generator& gen);

// ---- weights from another model ---------------------------------------------------

// Loads every parameter of `model` from tensors[prefix + name] (shapes must
// match), keeping the model's own buffers (Performer's random features, say) even
// when the file has tensors of the same name. Throws, changing nothing, if a
// parameter is missing or has another shape. Returns the names of file tensors
// under `prefix` that were not used (e.g. the source model's buffers).
std::vector<std::string> load_parameters_by_name(Module& model, const std::map<std::string, Tensor>& tensors,
                                                 const std::string& prefix, const std::string& source);

}  // namespace ta::protein
