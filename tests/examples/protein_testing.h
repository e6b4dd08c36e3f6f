// tests/examples/protein_testing.h — the fixtures the protein example's tests share:
// a few real-looking sequences and the options of a tiny model.
#pragma once

#include <string>
#include <vector>

#include "examples/protein_lm/data.h"
#include "examples/protein_lm/model.h"
#include "tests/examples/tiny_models.h"

namespace ta::testing {

// Real-looking sequences (fragments of UniProt entries in the bundled data).
inline const std::vector<std::string> kProteinSequences = {
    "MSSPDGGYASDDQNQGKCSVPIMMTGLGQCQWAEPMNSLGEGKLKSDAGSANSRGKAEARIRRPMNAFMVWAKDERKRLA",
    "MKKLLPTAAAGLLLLAAQPAMAMDIGINSDPNSSGV",
    "MTQLLKKVFALSALLAFSLSSNAEAFQFKP",
    "MAELIRVALVGSPNSGKSTLFNRLTGKRHSRVGNWPGVTVE",
};

inline protein::Corpus small_corpus() {
  protein::Corpus c;
  for (size_t i = 0; i < kProteinSequences.size(); ++i) c.add("seq" + std::to_string(i), kProteinSequences[i]);
  return c;
}

// A tiny model (tiny_models.h) for sequences of up to 32 tokens.
inline protein::ModelOptions tiny(const std::string& attention, protein::Objective objective) {
  protein::ModelOptions o = tiny_options<protein::ModelOptions>(attention, 3);
  o.objective = objective;
  o.max_len = 32;
  return o;
}

}  // namespace ta::testing
