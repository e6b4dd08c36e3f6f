#include "examples/protein_lm/model.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attention/registry.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "distributed/world.h"
#include "examples/common/language_model.h"

namespace ta::protein {

Objective parse_objective(const std::string& name) {
  if (name == "causal") return Objective::Causal;
  if (name == "masked") return Objective::Masked;
  throw Error(cat("--objective: expected 'causal' (next-residue prediction) or 'masked' (BERT-style masked LM), got '",
                  name, "'"));
}

const char* objective_name(Objective o) { return o == Objective::Causal ? "causal" : "masked"; }

void check_attention_fits(const std::string& attention, Objective objective) {
  const bool causal = objective == Objective::Causal;
  std::string fitting, all;
  const AttentionVariant* found = nullptr;
  for (const AttentionVariant& v : attention_variants()) {
    if (v.name == attention) found = &v;
    all += (all.empty() ? "" : ", ") + v.name;
    if (causal ? v.supports_causal : v.supports_bidirectional) fitting += (fitting.empty() ? "" : ", ") + v.name;
  }
  TA_CHECK(found != nullptr, "--attention: unknown variant '", attention, "' (registered: ", all, ")");
  if (causal)
    TA_CHECK(found->supports_causal, "--attention ", attention, " is bidirectional only, but the causal objective ",
             "needs a causal variant: one of ", fitting, "; or train it with --objective masked");
  else
    TA_CHECK(found->supports_bidirectional, "--attention ", attention, " is causal only, but the masked objective ",
             "needs a bidirectional variant: one of ", fitting, "; or train it with --objective causal");
}

std::shared_ptr<TransformerLM> build_model(const ModelOptions& o) {
  check_attention_fits(o.attention, o.objective);
  TA_CHECK(o.max_len >= 2, "--max-len must be at least 2, got ", o.max_len);
  examples::LanguageModelOptions lm = o;
  lm.vocab = kVocab;
  lm.causal = o.objective == Objective::Causal;
  auto model = examples::build_language_model(lm);
  model->to(o.device);  // a clear error here without a CUDA build or GPU
  return model;
}

// ---- training --------------------------------------------------------------------

namespace {

// The batch's tensors on `device` (the padding mask may be absent).
Batch on_device(const Batch& b, Device device) {
  Batch out = b;
  out.inputs = b.inputs.to(device);
  out.targets = b.targets.to(device);
  if (b.padding.defined()) out.padding = b.padding.to(device);
  return out;
}

}  // namespace

Sampler::Sampler(const Corpus& train, Objective objective, int64_t max_len, Packing packing, int64_t batch,
                 int64_t length_pool)
    : train_(train),
      objective_(objective),
      max_len_(max_len),
      batch_(batch),
      length_pool_(length_pool),
      packing_(packing) {
  TA_CHECK(train.size() > 0, "sampler: the training split is empty");
  TA_CHECK(batch > 0, "--batch must be positive, got ", batch);
  TA_CHECK(length_pool > 0, "--length-pool must be positive, got ", length_pool);
  if (packing == Packing::Packed) stream_ = pack_stream(train);
}

Batch Sampler::next(Generator& gen) const {
  const int64_t window = max_len_ + (objective_ == Objective::Causal ? 1 : 0);
  std::vector<std::vector<int64_t>> rows;
  if (packing_ == Packing::Packed) {
    rows = random_windows(stream_, batch_, window, gen);
  } else {
    rows = crop_rows(train_, batch_sequences(train_, batch_, length_pool_, window, gen), window, &gen);
  }
  return objective_ == Objective::Causal ? causal_batch(rows, EosTarget::Scored) : masked_batch(rows, gen);
}

Tensor batch_loss(TransformerLM& model, const Batch& host_batch) {
  const Batch batch = on_device(host_batch, model.device());
  return cross_entropy(model.forward(batch.inputs, batch.padding), batch.targets, kIgnore);
}

examples::StepResult train_step(TransformerLM& model, Optimizer& optimizer, const Batch& batch, float lr,
                                float clip) {
  examples::StepResult r = examples::apply_gradients(batch_loss(model, batch), optimizer, lr, clip);
  r.tokens = batch.tokens;
  return r;
}

// ---- evaluation ------------------------------------------------------------------

std::vector<Batch> eval_batches(const Corpus& split, Objective objective, int64_t max_len, Packing packing,
                                int64_t batch,
                                int64_t max_sequences, uint64_t mask_seed) {
  TA_CHECK(batch > 0, "eval_batches: batch must be positive");
  const bool causal = objective == Objective::Causal;
  const int64_t window = max_len + (causal ? 1 : 0);
  const int64_t count = max_sequences > 0 ? std::min(max_sequences, split.size()) : split.size();
  std::vector<std::vector<int64_t>> rows;
  if (packing == Packing::Packed) {  // causal windows overlap by one token, so each target is scored once
    rows = consecutive_windows(pack_stream(split, count), window, causal ? window - 1 : window, 0);
  } else {
    std::vector<int64_t> idx(count);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
      return std::min(window, split.length(a)) < std::min(window, split.length(b));
    });
    rows = crop_rows(split, idx, window, nullptr);
  }
  Generator mask_gen(mask_seed);
  std::vector<Batch> out;
  for (size_t start = 0; start < rows.size(); start += static_cast<size_t>(batch)) {
    std::vector<std::vector<int64_t>> part(rows.begin() + start,
                                           rows.begin() + std::min(rows.size(), start + static_cast<size_t>(batch)));
    if (causal && part.back().size() < 2) part.pop_back();  // a final 1-token window predicts nothing
    if (part.empty()) continue;
    out.push_back(causal ? causal_batch(part, EosTarget::Ignored) : masked_batch(part, mask_gen));
  }
  return out;
}

double Scores::perplexity() const { return std::exp(loss()); }
double Scores::unigram_perplexity() const { return std::exp(unigram_nll / count); }
double Scores::mask_perplexity() const { return std::exp(mask_nll / mask_count); }
double Scores::mask_unigram_perplexity() const { return std::exp(mask_unigram_nll / mask_count); }

namespace {

// Every sum of the processes' scores added up, the same on every process.
Scores summed_over_processes(const Scores& s) {
  if (dist::world_size() == 1) return s;
  const std::vector<double> sums = dist::sum_over_ranks(
      {s.nll, s.correct, s.count, s.unigram_nll, s.unigram_correct, s.mask_nll, s.mask_correct, s.mask_count,
       s.mask_unigram_nll, s.mask_unigram_correct});
  return Scores{sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], sums[6], sums[7], sums[8], sums[9]};
}

}  // namespace

Scores evaluate(TransformerLM& model, const std::vector<Batch>& batches, const Unigram& unigram) {
  NoGradGuard no_grad;
  const bool was_training = model.training();
  model.eval();
  Scores s;
  for (size_t i = static_cast<size_t>(dist::rank()); i < batches.size(); i += static_cast<size_t>(dist::world_size())) {
    const Batch& b = batches[i];
    const Batch on = on_device(b, model.device());
    const std::vector<float> logits = model.forward(on.inputs, on.padding).to_vector();
    const std::vector<float> targets = b.targets.to_vector(), inputs = b.inputs.to_vector();
    for (size_t p = 0; p < targets.size(); ++p) {
      if (targets[p] == static_cast<float>(kIgnore)) continue;
      const int64_t t = static_cast<int64_t>(targets[p]);
      const float* z = logits.data() + p * kVocab;
      double m = z[0];
      for (int64_t c = 1; c < kVocab; ++c) m = std::max<double>(m, z[c]);
      double sum = 0;
      for (int64_t c = 0; c < kVocab; ++c) sum += std::exp(z[c] - m);
      const double nll = m + std::log(sum) - z[t];
      int64_t best = kFirstResidue;
      for (int64_t c = kFirstResidue + 1; c < kVocab; ++c)
        if (z[c] > z[best]) best = c;
      s.nll += nll;
      s.correct += best == t;
      s.unigram_nll -= unigram.log_prob(t);
      s.unigram_correct += unigram.best == t;
      s.count += 1;
      if (inputs[p] == static_cast<float>(kMask)) {
        s.mask_nll += nll;
        s.mask_correct += best == t;
        s.mask_unigram_nll -= unigram.log_prob(t);
        s.mask_unigram_correct += unigram.best == t;
        s.mask_count += 1;
      }
    }
  }
  if (was_training) model.train();
  s = summed_over_processes(s);
  TA_CHECK(s.count > 0, "evaluate: no scored positions (empty split?)");
  return s;
}

// ---- generation ------------------------------------------------------------------

std::vector<std::string> generate(TransformerLM& model, const std::string& prompt, int64_t count,
                                  const SamplingOptions& o, Generator& gen) {
  TA_CHECK(model.config.causal, "generate: sampling needs a causal model (this one was trained with the masked ",
           "objective)");
  TA_CHECK(o.temperature > 0, "--temperature must be positive, got ", o.temperature);
  TA_CHECK(o.top_k >= 0, "--top-k must be >= 0, got ", o.top_k);
  TA_CHECK(count > 0, "generate: count must be positive");
  const std::vector<int64_t> prompt_tokens = encode(prompt);
  const int64_t limit = o.max_length > 0 ? std::min(o.max_length, model.config.max_len - 1) : model.config.max_len - 1;
  TA_CHECK(static_cast<int64_t>(prompt_tokens.size()) <= limit, "generate: the prompt has ", prompt_tokens.size(),
           " residues, more than the ", limit, " a sequence may have here");
  NoGradGuard no_grad;
  const bool was_training = model.training();
  model.eval();
  // Candidates: the residues and <eos>.
  std::vector<int64_t> candidates = {kEos};
  for (int64_t t = kFirstResidue; t < kVocab; ++t) candidates.push_back(t);

  std::vector<std::string> out(count, prompt);
  std::vector<bool> done(count, false);
  auto states = model.start_decoding(count);
  std::vector<float> next(count, static_cast<float>(kBos));
  for (int64_t pos = 0; pos <= limit; ++pos) {  // input pos: <bos> then residue pos-1
    const std::vector<float> z = model.step(Tensor::from_vector(next, Shape{count}, model.device()), states).to_vector();
    if (pos == limit) break;
    bool all_done = true;
    for (int64_t i = 0; i < count; ++i) {
      int64_t token;
      if (pos < static_cast<int64_t>(prompt_tokens.size())) {
        token = prompt_tokens[pos];
      } else if (done[i]) {
        token = kEos;
      } else {
        std::vector<std::pair<double, int64_t>> scored;
        for (int64_t c : candidates) scored.emplace_back(z[i * kVocab + c] / o.temperature, c);
        std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        if (o.top_k > 0 && o.top_k < static_cast<int64_t>(scored.size())) scored.resize(o.top_k);
        const double top = scored[0].first;
        double total = 0;
        for (auto& [logit, c] : scored) total += (logit = std::exp(logit - top));
        double u = gen.next_uniform() * total;
        token = scored.back().second;
        for (const auto& [p, c] : scored)
          if ((u -= p) <= 0) {
            token = c;
            break;
          }
        if (token == kEos)
          done[i] = true;
        else
          out[i] += token_name(token);
      }
      all_done = all_done && done[i];
      next[i] = static_cast<float>(token);
    }
    if (all_done) break;
  }
  if (was_training) model.train();
  return out;
}

// ---- weights from another model ---------------------------------------------------

std::vector<std::string> load_parameters_by_name(Module& model, const std::map<std::string, Tensor>& tensors,
                                                 const std::string& prefix, const std::string& source) {
  std::map<std::string, Tensor> state;
  std::string problems;
  std::map<std::string, bool> used;
  for (const auto& [name, param] : model.named_parameters()) {
    auto it = tensors.find(prefix + name);
    if (it == tensors.end()) {
      problems += cat("\n  missing parameter ", name, " ", param.shape());
    } else if (it->second.shape() != param.shape()) {
      problems += cat("\n  ", name, ": the file has shape ", it->second.shape(), ", the model ", param.shape());
    } else {
      state[name] = it->second;
      used[it->first] = true;
    }
  }
  TA_CHECK(problems.empty(), "init-from '", source, "': the parameters do not fit this model (same --layers, ",
           "--d-model, --heads, --d-ff and --max-len needed):", problems);
  for (const auto& [name, buffer] : model.named_buffers()) state[name] = buffer.clone();  // keep our own
  model.load_state_dict(state);
  std::vector<std::string> unused;
  for (const auto& [name, t] : tensors)
    if (name.rfind(prefix, 0) == 0 && !used.count(name)) unused.push_back(name.substr(prefix.size()));
  return unused;
}

}  // namespace ta::protein
