// tests/examples/test_protein_data.cpp — the data side of the protein language-model
// example (examples/protein_lm, whose files other than main.cpp the Makefile links in
// here):
//   - FASTA: multi-line records, blank lines, lower case, Windows line ends; every
//     malformed input is an error naming the file, the line (and column);
//     write then read gives the records back; a single file splits by sequence hash;
//   - the vocabulary round trip;
//   - masked-LM masking proportions over many draws (15%; 80/10/10);
//   - training batches from a length pool: similar lengths, each sequence uniform;
//   - the unigram baseline against a hand count, in the counts and in evaluate().
// The model side: test_protein_model.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "examples/protein_lm/data.h"
#include "examples/protein_lm/fasta.h"
#include "examples/protein_lm/model.h"
#include "examples/protein_lm/vocab.h"
#include "tests/examples/protein_testing.h"
#include "tests/testing.h"

namespace {

using ta::Shape;
using ta::Tensor;
namespace protein = ta::protein;
using namespace ta::testing;

std::vector<protein::FastaRecord> parse(const std::string& text) {
  std::istringstream in(text);
  return protein::parse_fasta(in, "mem.fasta");
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
  const protein::Batch b = protein::causal_batch(rows, protein::EosTarget::Scored);
  CHECK(b.inputs.shape() == Shape{2, 5});
  CHECK(b.inputs.to_vector() == std::vector<float>{1, 14, 12, 21, 0, 1, 4, 5, 6, 7});
  CHECK(b.targets.to_vector() == std::vector<float>{14, 12, 21, 2, -100, 4, 5, 6, 7, 8});
  CHECK(b.padding.to_vector() == std::vector<float>{0, 0, 0, 0, 1, 0, 0, 0, 0, 0});
  CHECK(b.tokens == 9);
  CHECK(b.scored == 9);
  const protein::Batch e = protein::causal_batch(rows, protein::EosTarget::Ignored);  // evaluation: residues only
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
  const auto batches =
      protein::eval_batches(test, protein::Objective::Causal, 32, protein::Packing::PerSequence, 4, 0);
  const protein::Scores s = protein::evaluate(*model, batches, u);
  CHECK(s.count == 4);
  const double nll = -(std::log(3.0 / 31) + 2 * std::log(4.0 / 31) + std::log(1.0 / 31));
  CHECK(s.unigram_nll == doctest::Approx(nll));
  CHECK(s.unigram_perplexity() == doctest::Approx(std::exp(nll / 4)));
  CHECK(s.unigram_accuracy() == doctest::Approx(0.5));  // "A" right 2 times of 4
}
