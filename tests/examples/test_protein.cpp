// tests/examples/test_protein.cpp — the protein language-model example
// (examples/protein_lm, whose files other than main.cpp the Makefile links in here):
//   - FASTA: multi-line records, blank lines, lower case, Windows line ends; every
//     malformed input is an error naming the file, the line (and column);
//     write then read gives the records back; a single file splits by sequence hash;
//   - the vocabulary round trip;
//   - masked-LM masking proportions over many draws (15%; 80/10/10);
//   - training batches from a length pool: similar lengths, each sequence uniform;
//   - the unigram baseline against a hand count, in the counts and in evaluate();
//   - padding never reaches the loss nor, for every registered attention variant,
//     the outputs at real positions; the masked-LM loss counts only masked positions;
//   - a tiny model's loss falls on a handful of sequences; resuming from a training
//     checkpoint equals training straight through, bit for bit;
//   - loading a trained model's parameters by name into a model with another
//     attention keeps the new model's own buffers; attention/objective mismatches
//     are clear errors; sampling respects prompt, alphabet and length.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "attention/registry.h"
#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "examples/protein_lm/data.h"
#include "examples/protein_lm/fasta.h"
#include "examples/protein_lm/model.h"
#include "examples/protein_lm/vocab.h"
#include "optim/adam.h"
#include "optim/schedule.h"
#include "optim/training_checkpoint.h"
#include "tests/testing.h"

namespace {

using ta::Shape;
using ta::Tensor;
namespace protein = ta::protein;
using ta::testing::error_message;
using ta::testing::TempDir;

std::vector<protein::FastaRecord> parse(const std::string& text) {
  std::istringstream in(text);
  return protein::parse_fasta(in, "mem.fasta");
}

// Real-looking sequences (fragments of UniProt entries in the bundled data).
const std::vector<std::string> kSequences = {
    "MSSPDGGYASDDQNQGKCSVPIMMTGLGQCQWAEPMNSLGEGKLKSDAGSANSRGKAEARIRRPMNAFMVWAKDERKRLA",
    "MKKLLPTAAAGLLLLAAQPAMAMDIGINSDPNSSGV",
    "MTQLLKKVFALSALLAFSLSSNAEAFQFKP",
    "MAELIRVALVGSPNSGKSTLFNRLTGKRHSRVGNWPGVTVE",
};

protein::Corpus small_corpus() {
  protein::Corpus c;
  for (size_t i = 0; i < kSequences.size(); ++i) c.add("seq" + std::to_string(i), kSequences[i]);
  return c;
}

protein::ModelOptions tiny(const std::string& attention, protein::Objective objective) {
  protein::ModelOptions o;
  o.attention = attention;
  o.objective = objective;
  o.layers = 1;
  o.d_model = 16;
  o.heads = 2;
  o.max_len = 32;
  o.seed = 3;
  return o;
}

std::vector<float> row_prefix(const Tensor& logits, int64_t row, int64_t positions) {
  const std::vector<float> all = logits.to_vector();
  const int64_t n = logits.size(1), v = logits.size(2);
  return std::vector<float>(all.begin() + row * n * v, all.begin() + (row * n + positions) * v);
}

}  // namespace

// ---- FASTA -----------------------------------------------------------------------

TEST_CASE("fasta: multi-line records, headers kept, blank lines, lower case and CRLF tolerated") {
  const auto r = parse(
      "\n"
      ">sp|P1|ONE_HUMAN First protein OS=Homo sapiens\n"
      "MKV\n"
      "ltw  \r\n"
      "\n"
      ">tr|Q2|TWO\r\n"
      "ACDEFGHIKLMNPQRSTVWYXBZUO\n"
      "\n");
  REQUIRE(r.size() == 2);
  CHECK(r[0].id == "sp|P1|ONE_HUMAN");
  CHECK(r[0].description == "First protein OS=Homo sapiens");
  CHECK(r[0].sequence == "MKVLTW");
  CHECK(r[0].line == 2);
  CHECK(r[1].id == "tr|Q2|TWO");
  CHECK(r[1].description.empty());
  CHECK(r[1].sequence == "ACDEFGHIKLMNPQRSTVWYXBZUO");
  CHECK(r[1].line == 6);
}

TEST_CASE("fasta: malformed input is an error naming the file and the line") {
  struct Bad {
    const char* text;
    const char* expected;
  };
  const Bad cases[] = {
      {"MKV\n>a\nMKV\n", "mem.fasta:1: sequence data before the first header"},
      {">a\nMKV\nMK*V\n", "mem.fasta:3:3: '*' in record 'a' is not a residue letter"},
      {">a\nMK1\n", "mem.fasta:2:3: '1' in record 'a'"},
      {">a\nMK V\n", "mem.fasta:2:3: ' ' in record 'a'"},
      {">a\nMKV\n>  \nMKV\n", "mem.fasta:3: header without an id"},
      {">a\n\n>b\nMKV\n", "mem.fasta:1: record 'a' has no residues"},
      {">a\nMKV\n>b\n", "mem.fasta:3: record 'b' has no residues"},
      {"", "mem.fasta: no records"},
      {"\n\n", "mem.fasta: no records"},
      {">a\nM\xc3\xa9K\n", "mem.fasta:2:2: byte 0xc3"},
  };
  for (const Bad& b : cases) {
    const std::string msg = error_message([&] { parse(b.text); });
    const std::string what = "input: " + std::string(b.text) + "\nmessage: " + msg;
    INFO(what);
    CHECK(msg.find(b.expected) != std::string::npos);
  }
  CHECK(error_message([] { protein::read_fasta("/nonexistent/x.fasta"); }).find("cannot open '/nonexistent/x.fasta'") !=
        std::string::npos);
}

TEST_CASE("fasta: written records read back; one file splits by sequence hash") {
  TempDir dir("protein");
  std::vector<protein::FastaRecord> records;
  for (int i = 0; i < 300; ++i) {
    protein::FastaRecord r;
    r.id = std::string("s").append(std::to_string(i));  // (not "s" + ...: a GCC 12 -Wrestrict false positive)
    r.description = i % 2 ? "len=" + std::to_string(i) : "";
    for (int j = 0; j < 5 + i % 130; ++j) r.sequence += protein::residue_letters()[(i * 7 + j * j) % 20];
    records.push_back(r);
  }
  const std::string path = dir.file("all.fasta");
  protein::write_fasta(path, records, 60);
  const auto back = protein::read_fasta(path);
  REQUIRE(back.size() == records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    CHECK(back[i].id == records[i].id);
    CHECK(back[i].description == records[i].description);
    CHECK(back[i].sequence == records[i].sequence);
  }
  {  // the line width is respected
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) CHECK(line.size() <= (line[0] == '>' ? 100u : 60u));
  }

  const protein::Splits s = protein::load_splits(path);
  CHECK(s.train.size() + s.valid.size() + s.test.size() == 300);
  CHECK(s.train.size() > 240);  // about 90%
  for (int64_t i = 0; i < s.test.size(); ++i) {
    const std::string seq = protein::decode(std::vector<int64_t>(s.test.sequence(i), s.test.sequence(i) + s.test.length(i)));
    CHECK(protein::split_of(seq) == 2);
  }
  CHECK(error_message([&] { protein::load_splits(dir.file("missing")); }).find("does not exist") != std::string::npos);
}

// ---- vocabulary ------------------------------------------------------------------

TEST_CASE("vocab: every residue round-trips, specials have names, bad letters are errors") {
  CHECK(protein::kVocab == 29);
  const std::string letters = protein::residue_letters();
  CHECK(letters.size() == 25u);
  const std::vector<int64_t> tokens = protein::encode(letters);
  for (size_t i = 0; i < tokens.size(); ++i) CHECK(tokens[i] == protein::kFirstResidue + static_cast<int64_t>(i));
  CHECK(protein::decode(tokens) == letters);
  std::string lower = letters;
  for (char& c : lower) c = static_cast<char>(c - 'A' + 'a');
  CHECK(protein::encode(lower) == tokens);
  CHECK(protein::decode({protein::kPad, protein::kBos, protein::kEos, protein::kMask}) == "<pad><bos><eos><mask>");
  for (int64_t t = 0; t < protein::kVocab; ++t) CHECK(protein::is_residue(t) == (t >= 4));
  CHECK(error_message([] { protein::encode("MKJ"); }).find("'J' at position 2") != std::string::npos);
  CHECK(error_message([] { protein::decode({29}); }).find("token 29 is outside 0..28") != std::string::npos);
}

// ---- batches ---------------------------------------------------------------------

TEST_CASE("batches: causal rows are <bos> seq <eos>, cropped, shifted, padded and masked out") {
  protein::Corpus c;
  c.add("a", "MKV");
  c.add("b", "ACDEFGHIK");
  const auto rows = protein::crop_rows(c, {0, 1}, 6, nullptr);
  REQUIRE(rows.size() == 2);
  CHECK(protein::decode(rows[0]) == "<bos>MKV<eos>");
  CHECK(protein::decode(rows[1]) == "<bos>ACDEF");  // the first window of 6 tokens
  const protein::Batch b = protein::causal_batch(rows, true);
  CHECK(b.inputs.shape() == Shape{2, 5});
  CHECK(b.inputs.to_vector() == std::vector<float>{1, 14, 12, 21, 0, 1, 4, 5, 6, 7});
  CHECK(b.targets.to_vector() == std::vector<float>{14, 12, 21, 2, -100, 4, 5, 6, 7, 8});
  CHECK(b.padding.to_vector() == std::vector<float>{0, 0, 0, 0, 1, 0, 0, 0, 0, 0});
  CHECK(b.tokens == 9);
  CHECK(b.scored == 9);
  const protein::Batch e = protein::causal_batch(rows, false);  // evaluation: residues only
  CHECK(e.targets.to_vector()[3] == -100.0f);
  CHECK(e.scored == 8);

  // Random crops stay inside the sequence and cover every offset.
  ta::Generator gen(5);
  std::map<int64_t, int> first_seen;
  for (int i = 0; i < 400; ++i) {
    const auto r = protein::crop_rows(c, {1}, 4, &gen)[0];  // <bos> ACDEFGHIK <eos>: 11 tokens, 8 offsets
    REQUIRE(r.size() == 4u);
    const std::string full = "^ACDEFGHIK$";
    std::string got;
    for (int64_t t : r) got += t == protein::kBos ? '^' : t == protein::kEos ? '$' : protein::token_name(t)[0];
    const size_t at = full.find(got);
    REQUIRE(at != std::string::npos);
    ++first_seen[static_cast<int64_t>(at)];
  }
  CHECK(first_seen.size() == 8u);

  // Packed windows: sequences joined by <eos>.
  const std::vector<uint8_t> stream = protein::pack_stream(c);
  CHECK(protein::decode(std::vector<int64_t>(stream.begin(), stream.end())) == "MKV<eos>ACDEFGHIK<eos>");
  const auto windows = protein::consecutive_windows(stream, 5, 4, 0);
  REQUIRE(windows.size() == 4u);
  CHECK(protein::decode(windows[1]) == "ACDEF");
  CHECK(protein::decode(windows[3]) == "K<eos>");
}

TEST_CASE("masking: 15% of residues chosen; of those 80% <mask>, 10% random residue, 10% kept") {
  protein::Corpus c;
  for (int i = 0; i < 40; ++i) {
    std::string s;
    for (int j = 0; j < 250; ++j) s += protein::residue_letters()[(i * 31 + j * 7 + j * j) % 25];
    c.add(std::string("s").append(std::to_string(i)), s);
  }
  std::vector<int64_t> idx(40);
  for (int i = 0; i < 40; ++i) idx[i] = i;
  ta::Generator gen(11);
  double residues = 0, chosen = 0, masked = 0, random_changed = 0, kept = 0;
  for (int draw = 0; draw < 25; ++draw) {  // 25 x 40 x 250 = 250,000 residue positions
    const auto rows = protein::crop_rows(c, idx, 300, nullptr);
    const protein::Batch b = protein::masked_batch(rows, gen);
    const std::vector<float> in = b.inputs.to_vector(), tg = b.targets.to_vector();
    const int64_t n = b.inputs.size(1);
    for (size_t r = 0; r < rows.size(); ++r)
      for (int64_t j = 0; j < n; ++j) {
        const float x = in[r * n + j], t = tg[r * n + j];
        const int64_t original = j < static_cast<int64_t>(rows[r].size()) ? rows[r][j] : protein::kPad;
        if (!protein::is_residue(original)) {
          CHECK(t == -100.0f);  // specials and padding are never chosen
          CHECK(x == static_cast<float>(original));
          continue;
        }
        ++residues;
        if (t == -100.0f) {
          REQUIRE(x == static_cast<float>(original));  // unchosen positions are untouched
          continue;
        }
        ++chosen;
        CHECK(t == static_cast<float>(original));
        if (x == protein::kMask) {
          ++masked;
        } else if (x == static_cast<float>(original)) {
          ++kept;
        } else {
          ++random_changed;
          CHECK(x >= protein::kFirstResidue);
          CHECK(x < protein::kFirstResidue + protein::kStandardResidues);  // a standard residue
        }
      }
  }
  CHECK(residues == 250000);
  // Binomial standard deviations: 0.0007 for the 15%, under 0.003 for the rest.
  CHECK(std::abs(chosen / residues - 0.15) < 0.004);
  CHECK(std::abs(masked / chosen - 0.80) < 0.012);
  // A random residue equals the original 1 time in 20 (for standard residues).
  CHECK(std::abs(random_changed / chosen - 0.10 * 19.0 / 20.0) < 0.01);
  CHECK(std::abs(kept / chosen - (0.10 + 0.10 / 20.0)) < 0.01);
}

TEST_CASE("batch sequences: a length pool groups similar lengths, and each sequence is still drawn uniformly") {
  protein::Corpus c;  // sequence i has i + 1 residues
  const int64_t n = 60;
  for (int64_t i = 0; i < n; ++i) c.add("s" + std::to_string(i), std::string(static_cast<size_t>(i + 1), 'A'));
  const int64_t batch = 4, draws = 20000;
  // Over many batches: how often each sequence was drawn, and the mean spread of
  // lengths within a batch (what padding costs).
  auto survey = [&](int64_t pool) {
    ta::Generator gen(3);
    std::vector<int64_t> count(n, 0);
    double spread = 0;
    for (int64_t d = 0; d < draws; ++d) {
      const std::vector<int64_t> idx = protein::batch_sequences(c, batch, pool, 1000, gen);
      REQUIRE(static_cast<int64_t>(idx.size()) == batch);
      for (int64_t i : idx) ++count[i];
      spread += *std::max_element(idx.begin(), idx.end()) - *std::min_element(idx.begin(), idx.end());
    }
    return std::make_pair(count, spread / draws);
  };
  // Named copies, not structured bindings: clang 14's doctest macros (lambdas) cannot name those.
  const auto random = survey(1), pooled = survey(8);
  const std::vector<int64_t>& random_counts = random.first;
  const std::vector<int64_t>& pooled_counts = pooled.first;
  const double random_spread = random.second, pooled_spread = pooled.second;
  // Expected count batch * draws / n = 1333, binomial standard deviation 36: 5 of them.
  const double expected = static_cast<double>(batch * draws) / n;
  for (int64_t i = 0; i < n; ++i) {
    INFO("sequence ", i, ": ", random_counts[i], " draws at random, ", pooled_counts[i], " pooled");
    CHECK(std::abs(random_counts[i] - expected) < 180);
    CHECK(std::abs(pooled_counts[i] - expected) < 180);
  }
  // Four uniform lengths out of 60 span about 36 on average; a group of four out of
  // 32 sorted ones about 7.
  INFO("mean spread of lengths in a batch: ", random_spread, " at random, ", pooled_spread, " pooled");
  CHECK(random_spread > 30);
  CHECK(pooled_spread < 10);

  // The same generator state draws the same batch (window 6: most crop lengths tie
  // and keep their draw order).
  ta::Generator a(8), b(8);
  CHECK(protein::batch_sequences(c, batch, 8, 6, a) == protein::batch_sequences(c, batch, 8, 6, b));
  CHECK(error_message([&] { protein::batch_sequences(c, batch, 0, 6, a); }).find("pool > 0") != std::string::npos);
}

// ---- the unigram baseline ----------------------------------------------------------

TEST_CASE("unigram baseline: Laplace-smoothed residue frequencies of the training split, by hand") {
  protein::Corpus train;
  train.add("a", "AAC");
  train.add("b", "caG");  // lower case is the same residue
  const protein::Unigram u = protein::unigram_of(train);
  // Counts A 3, C 2, G 1 of 6 residues; +1 for each of the 25 letters: 31 in all.
  CHECK(u.prob[protein::residue_token('A')] == doctest::Approx(4.0 / 31));
  CHECK(u.prob[protein::residue_token('C')] == doctest::Approx(3.0 / 31));
  CHECK(u.prob[protein::residue_token('G')] == doctest::Approx(2.0 / 31));
  CHECK(u.prob[protein::residue_token('W')] == doctest::Approx(1.0 / 31));
  CHECK(u.prob[protein::kPad] == 0.0);
  double total = 0;
  for (double p : u.prob) total += p;
  CHECK(total == doctest::Approx(1.0));
  CHECK(u.best == protein::residue_token('A'));

  // evaluate() scores the baseline on exactly the model's targets: here the
  // residues of "CAAW" after <bos> (not <eos>).
  protein::Corpus test;
  test.add("t", "CAAW");
  auto model = protein::build_model(tiny("softmax", protein::Objective::Causal));
  const auto batches = protein::eval_batches(test, protein::Objective::Causal, 32, false, 4, 0);
  const protein::Scores s = protein::evaluate(*model, batches, u);
  CHECK(s.count == 4);
  const double nll = -(std::log(3.0 / 31) + 2 * std::log(4.0 / 31) + std::log(1.0 / 31));
  CHECK(s.unigram_nll == doctest::Approx(nll));
  CHECK(s.unigram_perplexity() == doctest::Approx(std::exp(nll / 4)));
  CHECK(s.unigram_accuracy() == doctest::Approx(0.5));  // "A" right 2 times of 4
}

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
    const auto batches = protein::eval_batches(c, objective, 32, false, 4, 0);
    const protein::Unigram u = protein::unigram_of(c);
    const double before = protein::evaluate(*model, batches, u).loss();
    ta::AdamW opt(ta::weight_decay_groups(*model, 0.0f));
    const protein::Sampler sampler(c, objective, 32, false, 4);
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
        r.opt = std::make_unique<ta::AdamW>(ta::weight_decay_groups(*r.model, 0.01f));
        return r;
      };
      ta::WarmupCosineSchedule schedule(3e-3f, 2, 8, 3e-4f);
      auto train = [&](Run& r, int steps, std::vector<double>& losses) {
        const protein::Sampler sampler(c, objective, 16, pack, 3);
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
      for (const auto& [key, t] : straight.model->state_dict()) {
        const std::string name = key;  // clang 14: doctest's messages cannot name a binding
        INFO(name);
        CHECK(second.model->state_dict().at(name).to_vector() == t.to_vector());
      }
    }
  }
}

// ---- evaluation and generation -----------------------------------------------------

TEST_CASE("evaluation batches score each residue once; sampling keeps prompt, alphabet and length") {
  const protein::Corpus c = small_corpus();
  int64_t residues = 0;
  for (int64_t i = 0; i < c.size(); ++i) residues += c.length(i);
  int64_t scored = 0;
  for (const auto& b : protein::eval_batches(c, protein::Objective::Causal, 128, false, 3, 0)) scored += b.scored;
  CHECK(scored == residues);  // every residue, not <eos>, with max_len above every length
  scored = 0;
  for (const auto& b : protein::eval_batches(c, protein::Objective::Causal, 16, true, 3, 0)) scored += b.scored;
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
  ta::AdamW opt(ta::weight_decay_groups(*source, 0.0f));
  const protein::Corpus c = small_corpus();
  const protein::Sampler sampler(c, protein::Objective::Causal, 32, false, 4);
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
