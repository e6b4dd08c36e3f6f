#include "examples/protein_lm/data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "autograd/ops.h"
#include "core/error.h"

namespace ta::protein {

namespace fs = std::filesystem;

void Corpus::add(const std::string& id, const std::string& sequence) {
  for (size_t i = 0; i < sequence.size(); ++i) {
    const int64_t t = residue_token(sequence[i]);
    TA_CHECK(t >= 0, "corpus: sequence '", id, "' has '", sequence[i], "' at position ", i,
             ", not a residue letter");
    tokens.push_back(static_cast<uint8_t>(t));
  }
  offsets.push_back(static_cast<int64_t>(tokens.size()));
  ids.push_back(id);
}

Corpus make_corpus(const std::vector<FastaRecord>& records) {
  Corpus c;
  for (const FastaRecord& r : records) c.add(r.id, r.sequence);
  return c;
}

int split_of(const std::string& sequence) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (char ch : sequence) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ull;
  }
  const uint64_t bucket = h % 100;
  return bucket < 90 ? 0 : bucket < 95 ? 1 : 2;
}

static bool is_fasta_name(const fs::path& p) {
  const std::string e = p.extension().string();
  return e == ".fasta" || e == ".fa" || e == ".faa" || e == ".fas";
}

Splits load_splits(const std::string& path) {
  Splits s;
  TA_CHECK(fs::exists(path), "protein data: '", path, "' does not exist (expected a folder with train.fasta, ",
           "valid.fasta and test.fasta, or FASTA files to split)");
  const fs::path dir(path);
  if (fs::is_directory(dir) && fs::exists(dir / "train.fasta") && fs::exists(dir / "valid.fasta") &&
      fs::exists(dir / "test.fasta")) {
    s.train = make_corpus(read_fasta((dir / "train.fasta").string()));
    s.valid = make_corpus(read_fasta((dir / "valid.fasta").string()));
    s.test = make_corpus(read_fasta((dir / "test.fasta").string()));
    s.description = path + "/{train,valid,test}.fasta";
    return s;
  }
  std::vector<std::string> files;
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file() && is_fasta_name(entry.path())) files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    TA_CHECK(!files.empty(), "protein data: folder '", path, "' has neither train.fasta, valid.fasta and ",
             "test.fasta nor any *.fasta, *.fa, *.faa or *.fas file");
  } else {
    files.push_back(path);
  }
  for (const std::string& f : files)
    for (const FastaRecord& r : read_fasta(f)) {
      const int split = split_of(r.sequence);
      (split == 0 ? s.train : split == 1 ? s.valid : s.test).add(r.id, r.sequence);
    }
  TA_CHECK(s.train.size() > 0 && s.valid.size() > 0 && s.test.size() > 0, "protein data: splitting '", path,
           "' by sequence hash left a split empty (train ", s.train.size(), ", valid ", s.valid.size(), ", test ",
           s.test.size(), " sequences); give more sequences or a folder with train/valid/test.fasta");
  s.description = path + " (" + std::to_string(files.size()) + " FASTA file(s), split 90/5/5 by sequence hash)";
  return s;
}

// ---- rows ------------------------------------------------------------------------

// A uniform whole number in [0, n], n < 2^24 (one 24-bit uniform draw).
static int64_t uniform_int(Generator& gen, int64_t n) {
  return std::min<int64_t>(n, static_cast<int64_t>(gen.next_uniform() * static_cast<float>(n + 1)));
}

std::vector<int64_t> batch_sequences(const Corpus& corpus, int64_t batch, int64_t pool, int64_t window,
                                     Generator& gen) {
  TA_CHECK(corpus.size() > 0 && batch > 0 && pool > 0, "batch_sequences: expected a non-empty corpus, batch > 0 and ",
           "pool > 0, got ", corpus.size(), " sequences, batch ", batch, ", pool ", pool);
  std::vector<int64_t> drawn(batch * pool);
  for (int64_t& i : drawn) i = uniform_int(gen, corpus.size() - 1);
  if (pool == 1) return drawn;
  auto crop_length = [&](int64_t i) { return std::min(window, corpus.length(i) + 2); };
  std::stable_sort(drawn.begin(), drawn.end(), [&](int64_t a, int64_t b) { return crop_length(a) < crop_length(b); });
  const int64_t group = uniform_int(gen, pool - 1);
  return {drawn.begin() + group * batch, drawn.begin() + (group + 1) * batch};
}

std::vector<std::vector<int64_t>> crop_rows(const Corpus& corpus, const std::vector<int64_t>& indices,
                                            int64_t window, Generator* crop_gen) {
  TA_CHECK(window >= 2, "crop_rows: window must be at least 2 tokens, got ", window);
  std::vector<std::vector<int64_t>> rows;
  for (int64_t i : indices) {
    TA_CHECK(i >= 0 && i < corpus.size(), "crop_rows: sequence index ", i, " outside 0..", corpus.size() - 1);
    const int64_t full = corpus.length(i) + 2;  // <bos> residues <eos>
    const int64_t w = std::min(window, full);
    const int64_t start = crop_gen ? uniform_int(*crop_gen, full - w) : 0;
    std::vector<int64_t> row(w);
    const uint8_t* seq = corpus.sequence(i);
    for (int64_t j = 0; j < w; ++j) {
      const int64_t p = start + j;  // position in <bos> residues <eos>
      row[j] = p == 0 ? kBos : p == full - 1 ? kEos : seq[p - 1];
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<uint8_t> pack_stream(const Corpus& corpus, int64_t max_sequences) {
  const int64_t count = max_sequences > 0 ? std::min(max_sequences, corpus.size()) : corpus.size();
  std::vector<uint8_t> s;
  s.reserve(corpus.offsets[count] + count);
  for (int64_t i = 0; i < count; ++i) {
    s.insert(s.end(), corpus.sequence(i), corpus.sequence(i) + corpus.length(i));
    s.push_back(static_cast<uint8_t>(kEos));
  }
  return s;
}

std::vector<std::vector<int64_t>> random_windows(const std::vector<uint8_t>& stream, int64_t count, int64_t window,
                                                 Generator& gen) {
  const int64_t n = static_cast<int64_t>(stream.size());
  TA_CHECK(n >= window, "random_windows: the data has ", n, " tokens, fewer than one window of ", window);
  std::vector<std::vector<int64_t>> rows;
  for (int64_t r = 0; r < count; ++r) {
    // Two draws: n may exceed the 2^24 values one uniform float can tell apart.
    const int64_t range = n - window;
    const int64_t coarse = uniform_int(gen, range / 4096), fine = uniform_int(gen, 4095);
    const int64_t start = std::min(range, coarse * 4096 + fine);
    rows.emplace_back(stream.begin() + start, stream.begin() + start + window);
  }
  return rows;
}

std::vector<std::vector<int64_t>> consecutive_windows(const std::vector<uint8_t>& stream, int64_t window,
                                                      int64_t stride, int64_t max_rows) {
  TA_CHECK(window >= 2 && stride >= 1, "consecutive_windows: bad window ", window, " or stride ", stride);
  const int64_t n = static_cast<int64_t>(stream.size());
  std::vector<std::vector<int64_t>> rows;
  for (int64_t start = 0; start + 1 < n && (max_rows <= 0 || static_cast<int64_t>(rows.size()) < max_rows);
       start += stride)
    rows.emplace_back(stream.begin() + start, stream.begin() + std::min(n, start + window));
  return rows;
}

// ---- batches ---------------------------------------------------------------------

namespace {

struct Buffers {
  std::vector<float> in, out, pad;
  int64_t b, n;
  bool any_pad = false;
};

Batch finish(Buffers& f) {
  Batch batch;
  batch.inputs = Tensor::from_vector(f.in, Shape{f.b, f.n});
  batch.targets = Tensor::from_vector(f.out, Shape{f.b, f.n});
  if (f.any_pad) batch.padding = Tensor::from_vector(f.pad, Shape{f.b, f.n});
  for (float p : f.pad) batch.tokens += p == 0.0f;
  for (float t : f.out) batch.scored += t != static_cast<float>(kIgnore);
  return batch;
}

}  // namespace

Batch causal_batch(const std::vector<std::vector<int64_t>>& rows, EosTarget eos) {
  TA_CHECK(!rows.empty(), "causal_batch: no rows");
  int64_t n = 0;
  for (const auto& r : rows) {
    TA_CHECK(r.size() >= 2, "causal_batch: a row needs at least 2 tokens, got ", r.size());
    n = std::max<int64_t>(n, static_cast<int64_t>(r.size()) - 1);
  }
  Buffers f{std::vector<float>(rows.size() * n, static_cast<float>(kPad)),
            std::vector<float>(rows.size() * n, static_cast<float>(kIgnore)),
            std::vector<float>(rows.size() * n, 1.0f), static_cast<int64_t>(rows.size()), n};
  for (size_t r = 0; r < rows.size(); ++r) {
    const int64_t len = static_cast<int64_t>(rows[r].size()) - 1;
    f.any_pad |= len < n;
    for (int64_t j = 0; j < len; ++j) {
      const int64_t target = rows[r][j + 1];
      f.in[r * n + j] = static_cast<float>(rows[r][j]);
      f.pad[r * n + j] = 0.0f;
      if (target != kPad && (eos == EosTarget::Scored || target != kEos)) f.out[r * n + j] = static_cast<float>(target);
    }
  }
  return finish(f);
}

Batch rows_of(const Batch& b, int64_t begin, int64_t count) {
  const int64_t rows = b.inputs.shape()[0];
  TA_CHECK(begin >= 0 && count >= 0 && begin + count <= rows, "rows_of: rows [", begin, ", ", begin + count,
           ") of a batch of ", rows);
  if (begin == 0 && count == rows) return b;
  Batch out;
  out.inputs = narrow(b.inputs, 0, begin, count);
  out.targets = narrow(b.targets, 0, begin, count);
  if (b.padding.defined()) out.padding = narrow(b.padding, 0, begin, count);
  for (float t : out.targets.to_vector()) out.scored += t != static_cast<float>(kIgnore);
  if (!out.padding.defined()) out.tokens = out.inputs.numel();
  else
    for (float p : out.padding.to_vector()) out.tokens += p == 0.0f;
  return out;
}

Batch masked_batch(const std::vector<std::vector<int64_t>>& rows, Generator& gen, const MaskingOptions& o) {
  TA_CHECK(!rows.empty(), "masked_batch: no rows");
  TA_CHECK(o.select >= 0 && o.select <= 1 && o.to_mask >= 0 && o.to_random >= 0 && o.to_mask + o.to_random <= 1,
           "masked_batch: masking fractions must lie in [0, 1] with to_mask + to_random <= 1");
  int64_t n = 0;
  for (const auto& r : rows) n = std::max<int64_t>(n, static_cast<int64_t>(r.size()));
  Buffers f{std::vector<float>(rows.size() * n, static_cast<float>(kPad)),
            std::vector<float>(rows.size() * n, static_cast<float>(kIgnore)),
            std::vector<float>(rows.size() * n, 1.0f), static_cast<int64_t>(rows.size()), n};
  for (size_t r = 0; r < rows.size(); ++r) {
    const int64_t len = static_cast<int64_t>(rows[r].size());
    f.any_pad |= len < n;
    for (int64_t j = 0; j < len; ++j) {
      int64_t token = rows[r][j];
      f.pad[r * n + j] = token == kPad ? 1.0f : 0.0f;
      f.any_pad |= token == kPad;
      // Three draws per position, always, so the stream of draws does not depend on
      // earlier outcomes.
      const float choose = gen.next_uniform(), how = gen.next_uniform(), which = gen.next_uniform();
      if (is_residue(token) && choose < o.select) {
        f.out[r * n + j] = static_cast<float>(token);
        if (how < o.to_mask)
          token = kMask;
        else if (how < o.to_mask + o.to_random)
          token = kFirstResidue + std::min<int64_t>(kStandardResidues - 1,
                                                    static_cast<int64_t>(which * kStandardResidues));
      }
      f.in[r * n + j] = static_cast<float>(token);
    }
  }
  return finish(f);
}

// ---- the empirical baseline ------------------------------------------------------

double Unigram::log_prob(int64_t token) const {
  TA_CHECK(is_residue(token), "unigram: token ", token, " is not a residue");
  return std::log(prob[token]);
}

Unigram unigram_of(const Corpus& corpus) {
  std::array<int64_t, kVocab> count{};
  for (uint8_t t : corpus.tokens) ++count[t];
  Unigram u;
  const double total = static_cast<double>(corpus.tokens.size()) + kResidues;
  for (int64_t t = kFirstResidue; t < kVocab; ++t) {
    u.prob[t] = (count[t] + 1.0) / total;
    if (count[t] > count[u.best]) u.best = t;
  }
  return u;
}

}  // namespace ta::protein
