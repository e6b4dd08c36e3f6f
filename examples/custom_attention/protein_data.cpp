#include "protein_data.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <numeric>

namespace protein {

namespace {

const std::string kLetters = "ACDEFGHIKLMNPQRSTVWYXBZUO";  // token kFirstResidue + i

// <bos> residues <eos>, cut to max_len + 1 tokens from `start` (a position in that row).
Sequence window(const Sequence& residues, int64_t start, int64_t max_len) {
  Sequence row = {kBos};
  row.insert(row.end(), residues.begin(), residues.end());
  row.push_back(kEos);
  const int64_t end = std::min<int64_t>(start + max_len + 1, static_cast<int64_t>(row.size()));
  return Sequence(row.begin() + start, row.begin() + end);
}

}  // namespace

std::vector<Sequence> read_fasta(const std::string& path) {
  std::ifstream in(path);
  TA_CHECK(in, "read_fasta: cannot open ", path);
  std::vector<Sequence> records;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line[0] == '>') {
      records.emplace_back();
      continue;
    }
    TA_CHECK(!records.empty(), path, ":", number, ": residues before the first '>' header");
    for (char letter : line) {
      const size_t i = kLetters.find(static_cast<char>(std::toupper(static_cast<unsigned char>(letter))));
      TA_CHECK(i != std::string::npos, path, ":", number, ": '", letter, "' is not a residue letter (", kLetters, ")");
      records.back().push_back(kFirstResidue + static_cast<int64_t>(i));
    }
  }
  std::erase_if(records, [](const Sequence& s) { return s.empty(); });
  TA_CHECK(!records.empty(), "read_fasta: no sequences in ", path);
  return records;
}

Batch make_batch(const std::vector<Sequence>& windows, EosTarget eos) {
  size_t length = 0;
  for (const Sequence& w : windows) length = std::max(length, w.size() - 1);
  const size_t rows = windows.size();
  std::vector<float> inputs(rows * length, kPad), targets(rows * length, kIgnore), padding(rows * length, 1.0f);
  Batch batch;
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i + 1 < windows[r].size(); ++i) {
      const int64_t target = windows[r][i + 1];
      inputs[r * length + i] = static_cast<float>(windows[r][i]);
      padding[r * length + i] = 0.0f;
      if (target == kEos && eos == EosTarget::Ignored) continue;
      targets[r * length + i] = static_cast<float>(target);
      batch.scored += 1;
    }
  const ta::Shape shape{static_cast<int64_t>(rows), static_cast<int64_t>(length)};
  batch.inputs = ta::Tensor::from_vector(inputs, shape);
  batch.targets = ta::Tensor::from_vector(targets, shape);
  batch.padding = ta::Tensor::from_vector(padding, shape);
  return batch;
}

Batch random_batch(const std::vector<Sequence>& sequences, int64_t rows, int64_t max_len, ta::Generator& gen) {
  auto below = [&](int64_t n) { return std::min(n - 1, static_cast<int64_t>(gen.next_uniform() * n)); };
  std::vector<Sequence> windows;
  for (int64_t r = 0; r < rows; ++r) {
    const Sequence& s = sequences[below(static_cast<int64_t>(sequences.size()))];
    const int64_t row_length = static_cast<int64_t>(s.size()) + 2;  // with <bos> and <eos>
    windows.push_back(window(s, below(std::max<int64_t>(1, row_length - max_len)), max_len));
  }
  return make_batch(windows, EosTarget::Scored);
}

std::vector<Batch> evaluation_batches(const std::vector<Sequence>& sequences, int64_t count, int64_t rows,
                                      int64_t max_len) {
  const size_t n = count > 0 ? std::min(static_cast<size_t>(count), sequences.size()) : sequences.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sequences[a].size() < sequences[b].size(); });
  std::vector<Batch> batches;
  for (size_t first = 0; first < n; first += static_cast<size_t>(rows)) {
    std::vector<Sequence> windows;
    for (size_t i = first; i < std::min(n, first + static_cast<size_t>(rows)); ++i)
      windows.push_back(window(sequences[order[i]], 0, max_len));
    batches.push_back(make_batch(windows, EosTarget::Ignored));
  }
  return batches;
}

}  // namespace protein
