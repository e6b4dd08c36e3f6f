#include "examples/protein_lm/fasta.h"

#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "examples/common/atomic_file.h"
#include "examples/protein_lm/vocab.h"

namespace ta::protein {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string printable(char c) {
  if (c >= 32 && c < 127) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", static_cast<unsigned char>(c));
  return buf;
}

}  // namespace

std::vector<FastaRecord> parse_fasta(std::istream& in, const std::string& source) {
  std::vector<FastaRecord> records;
  std::string line;
  int64_t number = 0;
  auto finish = [&] {
    if (!records.empty())
      TA_CHECK(!records.back().sequence.empty(), "fasta: ", source, ":", records.back().line, ": record '",
               records.back().id, "' has no residues");
  };
  while (std::getline(in, line)) {
    ++number;
    size_t end = line.size();
    while (end > 0 && is_space(line[end - 1])) --end;  // trailing spaces, '\r'
    line.resize(end);
    if (line.empty()) continue;
    if (line[0] == '>') {
      finish();
      size_t start = 1;
      while (start < line.size() && is_space(line[start])) ++start;
      size_t stop = start;
      while (stop < line.size() && !is_space(line[stop])) ++stop;
      TA_CHECK(stop > start, "fasta: ", source, ":", number, ": header without an id (expected '>ID description')");
      FastaRecord r;
      r.id = line.substr(start, stop - start);
      while (stop < line.size() && is_space(line[stop])) ++stop;
      r.description = line.substr(stop);
      r.line = number;
      records.push_back(std::move(r));
      continue;
    }
    TA_CHECK(!records.empty(), "fasta: ", source, ":", number,
             ": sequence data before the first header (a FASTA record starts with a '>ID' line)");
    std::string& seq = records.back().sequence;
    for (size_t col = 0; col < line.size(); ++col) {
      const int64_t t = residue_token(line[col]);
      TA_CHECK(t >= 0, "fasta: ", source, ":", number, ":", col + 1, ": ", printable(line[col]), " in record '",
               records.back().id, "' is not a residue letter (expected one of ", residue_letters(),
               ", either case)");
      seq += residue_letters()[t - kFirstResidue];
    }
  }
  TA_CHECK(!in.bad(), "fasta: reading '", source, "' failed");
  finish();
  TA_CHECK(!records.empty(), "fasta: ", source, ": no records (expected lines '>ID description' then the sequence)");
  return records;
}

std::vector<FastaRecord> read_fasta(const std::string& path) {
  std::ifstream in(path);
  TA_CHECK(in.good(), "fasta: cannot open '", path, "'");
  return parse_fasta(in, path);
}

void write_fasta(const std::string& path, const std::vector<FastaRecord>& records, int64_t width) {
  TA_CHECK(width > 0, "write_fasta: line width must be positive, got ", width);
  std::string text;
  for (const FastaRecord& r : records) {
    text += '>' + r.id + (r.description.empty() ? "" : " " + r.description) + '\n';
    for (size_t i = 0; i < r.sequence.size(); i += static_cast<size_t>(width))
      text += r.sequence.substr(i, static_cast<size_t>(width)) + '\n';
  }
  examples::write_file_atomically(path, text);
}

}  // namespace ta::protein
