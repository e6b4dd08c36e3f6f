// examples/protein_lm/score_report.h — the scores as a user reads them, after the
// final evaluation of a run and after --evaluate: a table of accuracy and
// perplexity per split, the model's next to the unigram baseline's (and, for the
// masked objective, on the positions whose input is <mask>), and the test figures
// in a JSON file.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "examples/common/run_files.h"
#include "examples/protein_lm/model.h"

namespace ta::protein {

using NamedScores = std::pair<std::string, Scores>;  // a split's name and its scores

// Prints the table of `splits` for a model with `attention` trained for `objective`.
void print_scores(const std::string& attention, Objective objective, const std::vector<NamedScores>& splits);

// test_acc, test_ppl, unigram_acc, unigram_ppl, test_scored and, when positions
// with <mask> inputs were scored, the same on those only.
void add_test_scores(examples::JsonSummary& summary, const Scores& test);

}  // namespace ta::protein
