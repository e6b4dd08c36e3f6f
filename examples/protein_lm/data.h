// examples/protein_lm/data.h — protein sequences as training batches.
//
// A Corpus holds the residue tokens of one split. Batches come in two layouts:
//
//   crop (default, the Performer paper's main setting): each row is one sequence
//       <bos> r1 ... rL <eos>, cut to a window of the maximum length (a random
//       window in training, the first one in evaluation) and padded on the right
//       to the longest row of the batch;
//   pack (--pack, the paper's long-context setting): all sequences of the split
//       are concatenated, each followed by <eos> as a separator, and cut into
//       fixed-length windows (random offsets in training, consecutive windows in
//       evaluation); attention then reads across sequence boundaries.
//
// Two objectives turn rows into (inputs, targets):
//
//   causal: inputs = row[0 .. n-1), targets = row[1 .. n): predict the next token.
//           Rows are one token longer than the model's length so that the model
//           reads at most --max-len tokens.
//   masked (BERT, Devlin et al. 2019): each residue position is chosen with
//           probability 15%; a chosen position's input becomes <mask> (80%), a
//           random standard residue (10%) or stays (10%), and its target is the
//           original residue. Unchosen positions, specials and padding have
//           target kIgnore, so the loss counts only the chosen positions.
//
// Padding: input kPad, target kIgnore (never in the loss), and 1 in the key
// padding mask (never attended to).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"
#include "examples/protein_lm/fasta.h"
#include "examples/protein_lm/vocab.h"

namespace ta::protein {

struct Corpus {
  std::vector<uint8_t> tokens;        // residue tokens of every sequence, back to back
  std::vector<int64_t> offsets{0};    // sequence i is tokens[offsets[i], offsets[i+1])
  std::vector<std::string> ids;
  int64_t size() const { return static_cast<int64_t>(ids.size()); }
  int64_t length(int64_t i) const { return offsets[i + 1] - offsets[i]; }
  const uint8_t* sequence(int64_t i) const { return tokens.data() + offsets[i]; }
  int64_t residues() const { return static_cast<int64_t>(tokens.size()); }
  void add(const std::string& id, const std::string& sequence);
};

Corpus make_corpus(const std::vector<FastaRecord>& records);

struct Splits {
  Corpus train, valid, test;
  std::string description;  // where they came from, for the log
};

// `path` is either a folder with train.fasta, valid.fasta and test.fasta (the
// bundled data), or a FASTA file or a folder of FASTA files (*.fasta, *.fa,
// *.faa, *.fas) whose records are pooled and split 90/5/5 by a hash of the
// sequence (FNV-1a, 64-bit), so identical sequences always land in the same split.
Splits load_splits(const std::string& path);
// The split of a sequence by that hash: 0 train, 1 valid, 2 test.
int split_of(const std::string& sequence);

// ---- rows ------------------------------------------------------------------------

// The sequences of one training batch: `batch` indices drawn uniformly, or with
// pool > 1 sequences of similar length ("bucketing"): batch * pool indices drawn
// uniformly, ordered by crop length (<bos> seq <eos>, at most `window` tokens),
// and one of the pool's consecutive groups of `batch`, chosen uniformly. The draws
// are exchangeable and the group independent of them, so each index is still
// uniform over the corpus; only which sequences share a batch changes. A batch is
// padded to its longest row: on the bundled training split, random batches of 8
// are about half padding, groups from a pool of 16 batches about 6%.
std::vector<int64_t> batch_sequences(const Corpus& corpus, int64_t batch, int64_t pool, int64_t window,
                                     Generator& gen);

// One row per index: <bos> seq <eos> cut to at most `window` tokens, starting at a
// uniformly random offset when `crop_gen` is given, else at 0.
std::vector<std::vector<int64_t>> crop_rows(const Corpus& corpus, const std::vector<int64_t>& indices,
                                            int64_t window, Generator* crop_gen);

// The concatenation r1..rL <eos> r1..rL <eos> ... of the first `max_sequences`
// sequences of a corpus (<= 0: all), for --pack.
std::vector<uint8_t> pack_stream(const Corpus& corpus, int64_t max_sequences = 0);
// `count` windows of `window` tokens at uniformly random offsets.
std::vector<std::vector<int64_t>> random_windows(const std::vector<uint8_t>& stream, int64_t count, int64_t window,
                                                 Generator& gen);
// Consecutive windows covering the stream: window k starts at k * stride (the
// last one may be shorter); at most `max_rows` of them (<= 0: all).
std::vector<std::vector<int64_t>> consecutive_windows(const std::vector<uint8_t>& stream, int64_t window,
                                                      int64_t stride, int64_t max_rows);

// ---- batches ---------------------------------------------------------------------

struct Batch {
  Tensor inputs;   // [batch, n] token ids (as floats)
  Tensor targets;  // [batch, n] token ids, kIgnore where not scored
  Tensor padding;  // [batch, n] 1 at padded positions (key padding mask), or undefined if none
  int64_t tokens = 0;  // non-padding input tokens
  int64_t scored = 0;  // targets that are not kIgnore
};

// Whether the <eos> targets of a causal batch are scored: in training (the model
// also learns to end sequences), not in evaluation (which scores residues only).
enum class EosTarget { Scored, Ignored };

// Next-token batch: inputs row[:-1], targets row[1:].
Batch causal_batch(const std::vector<std::vector<int64_t>>& rows, EosTarget eos = EosTarget::Scored);

// Rows [begin, begin + count) of a batch, with their own counts of tokens and
// scored targets (the tensors are views; the width stays the batch's).
Batch rows_of(const Batch& batch, int64_t begin, int64_t count);

struct MaskingOptions {
  float select = 0.15f;       // fraction of residue positions chosen
  float to_mask = 0.8f;       // of the chosen: replaced by <mask>
  float to_random = 0.1f;     // of the chosen: replaced by a random standard residue
};                            // the rest of the chosen keep their residue
Batch masked_batch(const std::vector<std::vector<int64_t>>& rows, Generator& mask_gen,
                   const MaskingOptions& options = {});

// ---- the empirical baseline ------------------------------------------------------

// The unigram distribution of the residues of a corpus: p(r) = (count(r) + 1) /
// (total + 25). The +1 (Laplace) keeps letters absent from training (U, O here)
// at a finite cost; with millions of residues it moves no probability visibly.
struct Unigram {
  std::array<double, kVocab> prob{};  // 0 for special tokens
  int64_t best = kFirstResidue;       // the most frequent residue: the baseline's guess
  double log_prob(int64_t token) const;
};
Unigram unigram_of(const Corpus& corpus);

}  // namespace ta::protein
