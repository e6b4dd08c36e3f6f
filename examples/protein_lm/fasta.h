// examples/protein_lm/fasta.h — reading and writing protein FASTA files.
//
// A record is a header line starting with '>', then its sequence on one or more
// lines:
//
//     >sp|Q8AWH3|SX17A_XENTR Transcription factor Sox-17-alpha-A OS=Xenopus laevis
//     MSSPDGGYASDDQNQGKCSVPIMMTGLGQCQWAEPMNSLGEGKLKSDAGSANSRGKAEARIRRPMNAFMVWAKDERKRLA
//     QQNPDLHNAELSKMLGKSWKALTLAEKRPFVEEAERLRVQHMQDHPNYKYRPRRRKQVKRMKRVEGGFLHALVEPQAGAL
//
// The id is the header's first word, the description the rest. Tolerated: blank
// lines anywhere, lower-case residues (read as upper case), trailing spaces and
// Windows line ends. Anything else is an error naming the file, the line (and the
// column for a bad character): a sequence line before the first header, a header
// without an id, a record without residues, a character that is not a residue
// letter (vocab.h), or a file with no records at all.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace ta::protein {

struct FastaRecord {
  std::string id;           // first word of the header, without the '>'
  std::string description;  // the rest of the header (may be empty)
  std::string sequence;     // residue letters, upper case
  int64_t line = 0;         // line number of the header (1-based)
};

// `source` names the input in error messages (the file path).
std::vector<FastaRecord> parse_fasta(std::istream& in, const std::string& source);
std::vector<FastaRecord> read_fasta(const std::string& path);

// Writes records with sequence lines of at most `width` letters, whole or not at
// all (examples/common/atomic_file.h: a failed write is an Error naming the path).
void write_fasta(const std::string& path, const std::vector<FastaRecord>& records, int64_t width = 60);

}  // namespace ta::protein
