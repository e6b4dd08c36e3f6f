#include "examples/protein_lm/generated_file.h"

#include <cstdio>
#include <vector>

#include "core/error.h"
#include "examples/protein_lm/fasta.h"
#include "examples/protein_lm/model.h"

namespace ta::protein {

int64_t write_generated(const std::string& path, const examples::Flags& flags, const std::string& attention,
                        TransformerLM& model, int64_t step) {
  Generator gen(static_cast<uint64_t>(flags.integer("seed")) + 2);
  SamplingOptions so;
  so.temperature = static_cast<float>(flags.number("temperature"));
  so.top_k = flags.integer("top-k");
  so.max_length = flags.integer("gen-length");
  const std::vector<std::string> seqs = generate(model, flags.str("prompt"), flags.integer("generate"), so, gen);
  std::vector<FastaRecord> records;
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i].empty()) continue;  // <eos> at once after an empty prompt
    records.push_back({"generated_" + std::to_string(i + 1),
                       cat("len=", seqs[i].size(), " model=", attention, " steps=", step,
                           " temperature=", so.temperature, " top_k=", so.top_k, " prompt=", flags.str("prompt")),
                       seqs[i]});
  }
  if (records.empty()) return 0;
  write_fasta(path, records);
  std::printf("wrote %s (%zu sequences; the first starts %s...)\n", path.c_str(), records.size(),
              records[0].sequence.substr(0, 40).c_str());
  return static_cast<int64_t>(records.size());
}

}  // namespace ta::protein
