#include "examples/protein_lm/score_report.h"

#include <cstdio>

namespace ta::protein {

void print_scores(const std::string& attention, Objective objective, const std::vector<NamedScores>& splits) {
  std::printf("\n  %-6s %-22s %9s %11s\n", "split", "model", "accuracy", "perplexity");
  for (const auto& [name, sc] : splits) {
    std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name.c_str(), ("tinyattn " + attention).c_str(), 100 * sc.accuracy(),
                sc.perplexity());
    std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name.c_str(), "unigram baseline", 100 * sc.unigram_accuracy(),
                sc.unigram_perplexity());
  }
  if (objective == Objective::Causal) return;
  for (const auto& [name, sc] : splits) {  // the positions whose input is <mask>: no copy of the answer in sight
    std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name.c_str(), "  <mask> inputs only", 100 * sc.mask_accuracy(),
                sc.mask_perplexity());
    std::printf("  %-6s %-22s %8.2f%% %11.3f\n", name.c_str(), "  unigram, same", 100 * sc.mask_unigram_accuracy(),
                sc.mask_unigram_perplexity());
  }
}

void add_test_scores(examples::JsonSummary& summary, const Scores& test) {
  summary.set("test_acc", test.accuracy());
  summary.set("test_ppl", test.perplexity());
  summary.set("unigram_acc", test.unigram_accuracy());
  summary.set("unigram_ppl", test.unigram_perplexity());
  summary.set("test_scored", test.count);
  if (test.mask_count > 0) {
    summary.set("test_mask_only_acc", test.mask_accuracy());
    summary.set("test_mask_only_ppl", test.mask_perplexity());
    summary.set("unigram_mask_only_acc", test.mask_unigram_accuracy());
    summary.set("unigram_mask_only_ppl", test.mask_unigram_perplexity());
  }
}

}  // namespace ta::protein
