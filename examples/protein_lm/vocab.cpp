#include "examples/protein_lm/vocab.h"

#include <array>

#include "core/error.h"

namespace ta::protein {

const std::string& residue_letters() {
  static const std::string letters = "ACDEFGHIKLMNPQRSTVWYXBZUO";
  return letters;
}

int64_t residue_token(char letter) {
  static const std::array<int8_t, 256> table = [] {
    std::array<int8_t, 256> t;
    t.fill(-1);
    const std::string& l = residue_letters();
    for (size_t i = 0; i < l.size(); ++i) {
      t[static_cast<unsigned char>(l[i])] = static_cast<int8_t>(i);
      t[static_cast<unsigned char>(l[i] - 'A' + 'a')] = static_cast<int8_t>(i);
    }
    return t;
  }();
  const int8_t i = table[static_cast<unsigned char>(letter)];
  return i < 0 ? -1 : kFirstResidue + i;
}

bool is_residue(int64_t token) { return token >= kFirstResidue && token < kVocab; }

std::vector<int64_t> encode(const std::string& sequence) {
  std::vector<int64_t> out;
  out.reserve(sequence.size());
  for (size_t i = 0; i < sequence.size(); ++i) {
    const int64_t t = residue_token(sequence[i]);
    TA_CHECK(t >= 0, "protein vocab: '", sequence[i], "' at position ", i, " is not a residue letter (expected one of ",
             residue_letters(), ", either case)");
    out.push_back(t);
  }
  return out;
}

std::string token_name(int64_t token) {
  switch (token) {
    case kPad: return "<pad>";
    case kBos: return "<bos>";
    case kEos: return "<eos>";
    case kMask: return "<mask>";
    default: break;
  }
  TA_CHECK(is_residue(token), "protein vocab: token ", token, " is outside 0..", kVocab - 1);
  return std::string(1, residue_letters()[token - kFirstResidue]);
}

std::string decode(const std::vector<int64_t>& tokens) {
  std::string s;
  for (int64_t t : tokens) s += token_name(t);
  return s;
}

}  // namespace ta::protein
