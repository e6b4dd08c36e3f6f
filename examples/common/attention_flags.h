// examples/common/attention_flags.h — the attention registry on the example
// programs' command lines.
//
// --attention NAME picks a registered variant; each option a variant declares
// (attention/variant_options.h) is a flag of its own name, e.g. --performer-features
// 128 or --flash-chunk 128, shared by the variants that declare it, with the type
// and range the variant declared. --help lists the variants and their options from
// the registry, so a variant registered in a program's own file shows up like a
// built-in one. The adapter is the only place that knows both the registry and the
// flag parser.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "examples/common/flags.h"

namespace ta::examples {

// Declares --attention (default `default_variant`, `help`) and one flag per option
// of the registered variants, with the variants listed in --help. `program_defaults`
// replaces the default of options by name, e.g. {"sparse-stride", "96"} (one image
// row); a name no variant declares is an error.
void add_attention_flags(Flags& flags, const std::string& default_variant, const std::string& help,
                         const std::map<std::string, std::string>& program_defaults = {});

// The options of the variant --attention names, by name: the value of each of its
// option flags. An option flag given on the command line that this variant does not
// declare is an error naming the variants that do.
std::map<std::string, std::string> attention_options_of(const Flags& flags);

// The names of the option flags of `variant` (to store with a run and restore from it).
std::vector<std::string> attention_option_flags(const std::string& variant);
// Whether `name` is the flag of some variant's option.
bool is_attention_option_flag(const std::string& name);

// The options of `variant` stored as "flag.<name>" in `saved` (a checkpoint's
// metadata); options missing there keep their defaults.
std::map<std::string, std::string> saved_attention_options(const std::map<std::string, std::string>& saved,
                                                           const std::string& variant);

// The registered variants as Markdown table rows: | `name` | modes | description | options |.
std::string attention_variants_markdown();

}  // namespace ta::examples
