// examples/custom_attention/protein_data.h — just enough of the protein data for a
// small causal language model: FASTA files as token sequences, and batches of
// next-token targets.
//
// Tokens: 0 <pad>, 1 <bos> (starts every row), 2 <eos> (ends a sequence), then the
// residue letters ACDEFGHIKLMNPQRSTVWY XBZUO as 3..27. A row is
// <bos> residues <eos>, cut to a window of at most max_len + 1 tokens; its inputs
// are the window without its last token, its targets the window without its first.
#pragma once

#include <tinyattn.h>

#include <cstdint>
#include <string>
#include <vector>

namespace protein {

constexpr int64_t kPad = 0, kBos = 1, kEos = 2, kFirstResidue = 3;
constexpr int64_t kResidues = 25, kVocab = kFirstResidue + kResidues;
constexpr int64_t kIgnore = -100;  // a target that cross_entropy skips

using Sequence = std::vector<int64_t>;  // residue tokens, without <bos> and <eos>

// The records of a FASTA file ('>' header lines, then residue lines), as tokens.
// Letters are read in either case; anything else is an error naming file and line.
std::vector<Sequence> read_fasta(const std::string& path);

struct Batch {
  ta::Tensor inputs;   // [rows, L] token ids, <pad> after a row's end
  ta::Tensor targets;  // [rows, L] the next token, kIgnore where not scored
  ta::Tensor padding;  // [rows, L] 1 at padded positions (the key padding mask)
  int64_t scored = 0;  // targets that are not kIgnore
};

// Whether <eos> is a target: in training (the model learns where sequences end),
// not in evaluation (perplexity is per residue).
enum class EosTarget { Scored, Ignored };

// A batch from windows of <bos> residues <eos> (each at least 2 tokens), padded on
// the right to the longest.
Batch make_batch(const std::vector<Sequence>& windows, EosTarget eos);

// `rows` windows of max_len + 1 tokens (or the whole row when shorter) at random
// offsets of random sequences: a training batch.
Batch random_batch(const std::vector<Sequence>& sequences, int64_t rows, int64_t max_len, ta::Generator& gen);

// The first `count` sequences (all when count <= 0 or more), each its first window,
// in batches of `rows` by length (little padding), <eos> not scored.
std::vector<Batch> evaluation_batches(const std::vector<Sequence>& sequences, int64_t count, int64_t rows,
                                      int64_t max_len);

}  // namespace protein
