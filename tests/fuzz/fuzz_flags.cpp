// tests/fuzz/fuzz_flags.cpp — the example programs' command lines (examples/common/
// flags.h, CLI11 underneath) with arbitrary arguments, and the flags a checkpoint
// gives back (run_config.h) with arbitrary stored values.
//
// The input: a first byte choosing the program (cifar_gen or protein_lm), then
// arguments separated by NUL bytes; after a 0xff byte, "name=value" lines taken as a
// checkpoint's stored flags.
//
// Properties: parsing either refuses with a ta::Error whose message names a flag
// ("--...") or the stray argument, or accepts; then every flag's value is allowed by
// its own spec and reads as its type, and the mode and the options built from the
// flags (the model's and the training's) are made or refused with a ta::Error; restoring
// stored flags likewise. Nothing else is thrown, nothing crashes.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "examples/cifar_gen/settings.h"
#include "examples/common/checkpoint_mode.h"
#include "examples/common/flags.h"
#include "examples/common/run_config.h"
#include "examples/common/shared_flags.h"
#include "examples/protein_lm/settings.h"
#include "tests/fuzz/fuzz_common.h"

using namespace ta;
using namespace ta::examples;

namespace {

bool names_what_it_refuses(const std::string& message) {
  return message.rfind("--", 0) == 0 || message.rfind("unknown flag --", 0) == 0 ||
         message.rfind("unexpected argument '", 0) == 0 || message.find("--") != std::string::npos;
}

// Every value reads as its declared type and is allowed by its spec.
void check_values(const Flags& flags) {
  for (const FlagSpec& s : flags.specs()) {
    FUZZ_CHECK(s.problem(flags.str(s.name)).empty());
    switch (s.type) {
      case FlagType::Integer: flags.integer(s.name); break;
      case FlagType::Number: FUZZ_CHECK(std::isfinite(flags.number(s.name))); break;
      case FlagType::Boolean:
      case FlagType::Switch: flags.boolean(s.name); break;
      case FlagType::IntegerList: FUZZ_CHECK(static_cast<int64_t>(flags.integer_list(s.name).size()) <= s.max_items); break;
      default: break;
    }
  }
}

// The options the program would build, without building anything.
void make_options(const Flags& flags, bool cifar) {
  try {
    program_mode(flags);
    run_start(flags);
    train_options(flags);
    if (cifar)
      cifar::model_options(flags);
    else
      protein::model_options(flags);
  } catch (const Error& e) {
    FUZZ_CHECK(e.what()[0] != '\0');
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool cifar = data[0] % 2 == 0;
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = rest.find('\xff');
  const std::string stored = split == std::string::npos ? "" : rest.substr(split + 1);
  rest = rest.substr(0, split);
  std::vector<std::string> args = {cifar ? "cifar_gen" : "protein_lm"};
  for (size_t start = 0; start <= rest.size();) {
    const size_t end = std::min(rest.find('\0', start), rest.size());
    if (end > start) args.push_back(rest.substr(start, end - start));
    start = end + 1;
  }
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());

  static std::FILE* const silenced = std::freopen("/dev/null", "w", stdout);  // --help prints
  FUZZ_CHECK(silenced != nullptr);
  Flags flags = cifar ? cifar::program_flags() : protein::program_flags();
  try {
    if (flags.parse(static_cast<int>(argv.size()), argv.data()) == ParseResult::HelpShown) return 0;
  } catch (const Error& e) {
    FUZZ_CHECK(names_what_it_refuses(e.what()));
    return 0;
  }
  check_values(flags);
  make_options(flags, cifar);

  Metadata saved;
  for (size_t start = 0; start < stored.size();) {
    const size_t end = std::min(stored.find('\n', start), stored.size());
    const std::string line = stored.substr(start, end - start);
    const size_t eq = line.find('=');
    if (eq != std::string::npos) saved["flag." + line.substr(0, eq)] = line.substr(eq + 1);
    start = end + 1;
  }
  try {
    restore_run_config(flags, saved, cifar ? cifar::changeable_flags() : protein::changeable_flags(), "fuzz");
  } catch (const Error& e) {
    FUZZ_CHECK(names_what_it_refuses(e.what()));
    return 0;
  }
  check_values(flags);
  make_options(flags, cifar);
  return 0;
}
