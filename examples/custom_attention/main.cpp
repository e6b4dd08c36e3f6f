// examples/custom_attention — a user's own program on the installed library: it adds
// an attention variant of its own (linear_attention.cpp: linear attention with
// elu(x) + 1 features, registered as "linear"), runs the library's conformance
// suite on it, and trains it as a small causal protein language model.
//
//   custom_attention --check   the conformance suite on the variant; exit status 1,
//                              with the suite's messages, when it fails
//   custom_attention           trains it on examples/data/protein and prints the test
//                              perplexity next to the unigram baseline's
//
// The walk-through that this program follows is attention/TUTORIAL.md; --help lists
// the flags. Built like any program of the library's users:
//
//   g++ -std=c++20 -O3 -march=native *.cpp $(pkg-config --cflags --libs tinyattn) -o custom_attention
#include <tinyattn.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "protein_data.h"

using namespace ta;
using protein::Batch;
using protein::Sequence;

namespace {

struct Settings {
  bool check = false;
  std::string attention = "linear";
  std::map<std::string, std::string> options;  // the variant's own, e.g. {"linear-chunk", "32"}
  std::string data = "examples/data/protein";
  int64_t steps = 500, batch = 8, max_len = 512;
  int64_t layers = 2, d_model = 64, heads = 2;
  float lr = 2e-3f;
  int64_t eval_seqs = 0;  // test sequences scored (0: all)
  uint64_t seed = 1;
};

void print_help() {
  std::printf(
      "usage: custom_attention [--check] [flags]\n"
      "  --check             run the conformance suite on --attention (with the option sets its registration\n"
      "                      gives for testing); exit 1 with the suite's messages on failure\n"
      "  --attention NAME    the variant to check or train (default linear, this program's own)\n"
      "  --data DIR          folder with train.fasta and test.fasta (default examples/data/protein)\n"
      "  --steps N           training steps (default 500)\n"
      "  --batch N           sequences per step (default 8)\n"
      "  --max-len N         tokens read at once; longer sequences are cropped (default 512)\n"
      "  --layers N, --d-model N, --heads N   the model (default 2, 64, 2)\n"
      "  --lr X              peak learning rate of AdamW: warmup over the first tenth, then cosine (default 0.002)\n"
      "  --eval-seqs N       test sequences scored (default 0: all)\n"
      "  --seed N            initialization and data order (default 1)\n"
      "registered variants and their own options (--OPTION VALUE):\n");
  for (const AttentionVariant& v : attention_variants()) {
    std::printf("  %-20s %s\n", v.name.c_str(), v.description.c_str());
    for (const OptionSpec& o : v.options)
      std::printf("      --%s (default %s, %s): %s\n", o.name.c_str(), o.default_value.c_str(), o.allowed().c_str(),
                  o.help.c_str());
  }
}

// --name value pairs; a name that is not one of ours but an option of a registered
// variant goes to the variant (make_attention rejects it if the chosen variant does
// not take it).
Settings parse(int argc, char** argv) {
  Settings s;
  std::map<std::string, std::string> given;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    TA_CHECK(arg.rfind("--", 0) == 0, "unexpected argument '", arg, "' (--help lists the flags)");
    if (arg == "--help") {
      print_help();
      std::exit(0);
    }
    if (arg == "--check") {
      s.check = true;
      continue;
    }
    TA_CHECK(i + 1 < argc, arg, " needs a value");
    given[arg.substr(2)] = argv[++i];
  }
  auto text = [&](const char* name, const std::string& fallback) {
    const auto it = given.find(name);
    if (it == given.end()) return fallback;
    const std::string value = it->second;
    given.erase(it);
    return value;
  };
  // A number in full: "12", "0.002"; anything else ("12x", "") is an error naming the flag.
  auto number = [&](const char* name, double fallback) {
    const std::string value = text(name, std::to_string(fallback));
    char* end = nullptr;
    const double x = std::strtod(value.c_str(), &end);
    TA_CHECK(!value.empty() && *end == '\0', "--", name, ": '", value, "' is not a number");
    return x;
  };
  auto whole = [&](const char* name, int64_t fallback) {
    const double x = number(name, static_cast<double>(fallback));
    TA_CHECK(x == std::floor(x) && x >= 0, "--", name, ": expects a whole number >= 0, got ", x);
    return static_cast<int64_t>(x);
  };
  s.attention = text("attention", s.attention);
  s.data = text("data", s.data);
  s.steps = whole("steps", s.steps);
  s.batch = whole("batch", s.batch);
  s.max_len = whole("max-len", s.max_len);
  s.layers = whole("layers", s.layers);
  s.d_model = whole("d-model", s.d_model);
  s.heads = whole("heads", s.heads);
  s.lr = static_cast<float>(number("lr", s.lr));
  s.eval_seqs = whole("eval-seqs", s.eval_seqs);
  s.seed = static_cast<uint64_t>(whole("seed", static_cast<int64_t>(s.seed)));
  for (const SharedOption& o : attention_options())
    if (given.count(o.spec.name)) {
      s.options[o.spec.name] = given[o.spec.name];
      given.erase(o.spec.name);
    }
  TA_CHECK(given.empty(), "unknown flag --", given.begin()->first, " (--help lists the flags)");
  TA_CHECK(s.steps > 0 && s.batch > 0 && s.max_len > 0, "--steps, --batch and --max-len must be positive");
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- the conformance suite -------------------------------------------------------------

int check(const Settings& s) {
  const auto start = std::chrono::steady_clock::now();
  const ConformanceReport report = check_conformance(find_attention_variant(s.attention));
  std::fprintf(report.ok() ? stdout : stderr, "%s\n(%.1f s)\n", report.str().c_str(), seconds_since(start));
  return report.ok() ? 0 : 1;
}

// ---- training ---------------------------------------------------------------------------

// -log p(residue) of the unigram distribution of the training residues,
// p(r) = (count(r) + 1) / (N + 25): the baseline a model must beat.
std::vector<double> unigram_nll(const std::vector<Sequence>& train) {
  std::vector<double> count(protein::kVocab, 0.0);
  double total = 0;
  for (const Sequence& s : train)
    for (int64_t r : s) count[r] += 1, total += 1;
  std::vector<double> nll(protein::kVocab, 0.0);
  for (int64_t r = protein::kFirstResidue; r < protein::kVocab; ++r)
    nll[r] = -std::log((count[r] + 1) / (total + protein::kResidues));
  return nll;
}

struct Perplexities {
  double model, unigram;
  int64_t residues;
};

// exp of the mean negative log-likelihood per residue, of the model and of the
// unigram baseline, on the same targets.
Perplexities evaluate(TransformerLM& model, const std::vector<Batch>& batches, const std::vector<double>& unigram) {
  NoGradGuard no_grad;
  model.eval();
  double nll = 0, baseline = 0;
  int64_t residues = 0;
  for (const Batch& b : batches) {
    nll += cross_entropy(model.forward(b.inputs, b.padding), b.targets, protein::kIgnore).item() * b.scored;
    for (float t : b.targets.to_vector())
      if (t != protein::kIgnore) baseline += unigram[static_cast<int64_t>(t)];
    residues += b.scored;
  }
  model.train();
  return {std::exp(nll / residues), std::exp(baseline / residues), residues};
}

// AdamW (no decay on biases, norms and embeddings), linear warmup over the first
// tenth of the steps then cosine to lr / 10, gradients clipped to norm 1. Returns
// the seconds it took.
double train_steps(TransformerLM& model, const std::vector<Sequence>& train, const Settings& s) {
  AdamW optimizer(weight_decay_groups(model.named_parameters(), 0.01f));
  const WarmupCosineSchedule schedule(s.lr, s.steps / 10, s.steps, s.lr / 10);
  Generator data_gen(s.seed);
  const auto start = std::chrono::steady_clock::now();
  double tokens = 0;
  for (int64_t step = 1; step <= s.steps; ++step) {
    const Batch b = protein::random_batch(train, s.batch, s.max_len, data_gen);
    const Tensor loss = cross_entropy(model.forward(b.inputs, b.padding), b.targets, protein::kIgnore);
    optimizer.zero_grad();
    backward(loss);
    clip_grad_norm(optimizer.parameters(), 1.0f);
    optimizer.step(schedule.lr(optimizer.step_count()));
    tokens += static_cast<double>(b.scored);
    const float value = loss.item();
    TA_CHECK(std::isfinite(value), "training: the loss is ", value, " at step ", step);
    if (step % 50 == 0 || step == s.steps)
      std::printf("step %4lld  loss %.4f  perplexity %.2f  %.0f tokens/s\n", static_cast<long long>(step), value,
                  std::exp(value), tokens / seconds_since(start));
  }
  return seconds_since(start);
}

// The test perplexity against the unigram baseline of the training residues, printed
// with the training and scoring times.
void score_test(TransformerLM& model, const std::vector<Sequence>& train, const std::vector<Sequence>& test,
                const Settings& s, double train_seconds) {
  const auto eval_start = std::chrono::steady_clock::now();
  const Perplexities p = evaluate(model, protein::evaluation_batches(test, s.eval_seqs, 16, s.max_len),
                                  unigram_nll(train));
  std::printf("test perplexity %.2f per residue (unigram baseline %.2f) over %lld residues; "
              "trained %.1f s, scored %.1f s\n",
              p.model, p.unigram, static_cast<long long>(p.residues), train_seconds, seconds_since(eval_start));
}

int train(const Settings& s) {
  const std::vector<Sequence> train = protein::read_fasta(s.data + "/train.fasta");
  const std::vector<Sequence> test = protein::read_fasta(s.data + "/test.fasta");

  // The variant by name, like any built-in one: one mixer per layer.
  Generator attention_gen(s.seed + 1);
  TransformerLM model({.vocab_size = protein::kVocab, .d_model = s.d_model, .n_layers = s.layers,
                       .max_len = s.max_len, .causal = true, .seed = s.seed},
                      [&](int64_t layer) {
                        return make_attention({.name = s.attention, .d_model = s.d_model, .heads = s.heads,
                                               .causal = true, .layer = layer, .options = s.options},
                                              attention_gen);
                      });
  std::printf("%s attention, %lld layers, d_model %lld, %lld parameters; %zu training sequences\n",
              s.attention.c_str(), static_cast<long long>(s.layers), static_cast<long long>(s.d_model),
              static_cast<long long>(model.parameter_count()), train.size());

  const double train_seconds = train_steps(model, train, s);
  score_test(model, train, test, s, train_seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Settings s = parse(argc, argv);
    return s.check ? check(s) : train(s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custom_attention: %s\n", e.what());
    return 1;
  }
}
