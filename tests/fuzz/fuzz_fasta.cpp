// tests/fuzz/fuzz_fasta.cpp — the protein example's FASTA reader on arbitrary text.
//
// Properties: parse_fasta returns or throws ta::Error; what it returns has ids
// without spaces, non-empty sequences of upper-case residue letters; and writing
// the records with write_fasta and reading them back gives the same records.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "examples/protein_lm/fasta.h"
#include "examples/protein_lm/vocab.h"
#include "tests/fuzz/fuzz_common.h"

using namespace ta;

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  fuzz::seed_corpus(*argc, *argv,
                    {{"two_records.fasta", ">sp|P1|A_HUMAN first protein OS=Homo sapiens\nMKTAYIAKQR\nQISFVKSHFS\n"
                                           ">tr|Q2 \nmkvl\r\n\n>x\tdesc\twith tabs  \nACDEFGHIKLMNPQRSTVWYXBZUO\n"}});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = fuzz::scratch_path("records.fasta");
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::vector<protein::FastaRecord> records;
  try {
    records = protein::parse_fasta(in, "fuzz input");
  } catch (const Error&) {
    return 0;
  }
  FUZZ_CHECK(!records.empty());
  for (const protein::FastaRecord& r : records) {
    FUZZ_CHECK(!r.id.empty() && r.id.find_first_of(" \t\r\n") == std::string::npos);
    FUZZ_CHECK(!r.sequence.empty());
    for (char c : r.sequence) FUZZ_CHECK(protein::residue_token(c) >= 0 && !(c >= 'a' && c <= 'z'));
  }
  protein::write_fasta(path, records, 7);
  const std::vector<protein::FastaRecord> back = protein::read_fasta(path);
  FUZZ_CHECK(back.size() == records.size());
  for (size_t i = 0; i < records.size(); ++i)
    FUZZ_CHECK(back[i].id == records[i].id && back[i].description == records[i].description &&
               back[i].sequence == records[i].sequence);
  return 0;
}
