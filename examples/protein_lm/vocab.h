// examples/protein_lm/vocab.h — the token vocabulary of protein language models.
//
// Four special tokens, then the residue letters:
//
//   0 <pad>   fills a batch row after its sequence ends; masked out of attention
//             (key padding mask) and of the loss (target = kIgnore)
//   1 <bos>   starts every sequence (the causal model's first input)
//   2 <eos>   ends a sequence; also the separator between sequences when they are
//             concatenated into fixed-length windows (--pack)
//   3 <mask>  replaces a hidden residue in masked-LM training
//   4..23     the 20 standard amino acids  A C D E F G H I K L M N P Q R S T V W Y
//   24..28    X (unknown), B (D or N), Z (E or Q), U (selenocysteine), O (pyrrolysine)
//
// Residue letters are read case-insensitively (FASTA files sometimes use lower
// case for masked or low-confidence regions) and always written in upper case.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ta::protein {

constexpr int64_t kPad = 0, kBos = 1, kEos = 2, kMask = 3;
constexpr int64_t kFirstResidue = 4;
constexpr int64_t kStandardResidues = 20;  // tokens 4..23
constexpr int64_t kResidues = 25;          // tokens 4..28
constexpr int64_t kVocab = kFirstResidue + kResidues;
// The target value that cross_entropy skips (autograd/ops.h: ignore_index).
constexpr int64_t kIgnore = -100;

// "ACDEFGHIKLMNPQRSTVWYXBZUO": the letter of token kFirstResidue + i.
const std::string& residue_letters();

// The token of a residue letter (either case), or -1 when the letter is not one.
int64_t residue_token(char letter);
bool is_residue(int64_t token);  // kFirstResidue <= token < kVocab

// Letters to tokens; throws on a character that is not a residue letter, naming it
// and its position.
std::vector<int64_t> encode(const std::string& sequence);
// Tokens to text: residues as their letters, specials as "<pad>", "<bos>", ...;
// throws on a value outside the vocabulary.
std::string decode(const std::vector<int64_t>& tokens);
// The name of any token: its letter or its "<special>".
std::string token_name(int64_t token);

}  // namespace ta::protein
