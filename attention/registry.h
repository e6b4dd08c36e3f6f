// attention/registry.h — every attention variant by name.
//
// A variant is a class (a TokenMixer, or an AttentionCore that MultiHeadAttention
// runs: attention/multi_head.h) plus one registration in the file that defines it.
// A user's program registers its own variant exactly as the library's files do, at
// namespace scope (the object registers the variant when the program starts):
//
//   static const ta::AttentionRegistration linear_registration({
//       .name = "linear",
//       .description = "linear attention with elu(x) + 1 features, chunked causal form",
//       .options = {ta::integer_option("linear-chunk", 64, "positions per chunk", 1, 4096, ta::OptionRole::Size)},
//       .build = [](const ta::AttentionConfig& c, const ta::VariantOptions& o, ta::Generator& g) {
//         return ta::multi_head_attention(c, std::make_shared<LinearCore>(o.integer("linear-chunk")), g);
//       }});
//
// Programs then ask for it by name like any other: make_attention({.name = "linear",
// ...}, gen), with its options by name in AttentionConfig::options; the example
// programs list the registered variants and their options in --help and take the
// options as flags. The conformance suite (attention/conformance.h) checks any
// variant from what its registration declares.
//
// The registry is complete when main() starts; do not look variants up from the
// initializer of another static object.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attention/variant_options.h"
#include "core/random.h"
#include "layers/token_mixer.h"

namespace ta {

// What every variant is built from: the settings all variants share, and the
// variant's own options by name (AttentionVariant::options), as text.
struct AttentionConfig {
  std::string name = "softmax";
  int64_t d_model = 128;
  int64_t heads = 4;
  bool causal = true;
  int64_t rotary_dims = 0;  // RoPE dims per head (0: none)
  float init_std = 0.02f;
  int64_t layer = 0;  // this mixer's layer index (a variant may vary by layer, e.g. sparse-combine layers)
  // The length-aware scale of softmax-type attention (AttentionScale, attention_core.h):
  // a model trained on train_length tokens; 0: the plain 1/sqrt(d_head). Variants
  // whose weights are not a softmax (FLASH) declare LengthScale::NotApplicable and
  // refuse it.
  int64_t train_length = 0;
  std::map<std::string, std::string> options = {};  // e.g. {"performer-features", "128"}; unknown names are errors
  // `causal` as the attention functions take it.
  Causality causality() const { return causality_if(causal); }
};

// Whether finite differences may step across kinks (ReLU random features: thousands
// of them), so the conformance suite uses a smaller step.
enum class Smoothness { Smooth, Kinked };
// Whether the variant takes the length-aware scale (AttentionConfig::train_length).
enum class LengthScale { Applies, NotApplicable };

struct AttentionVariant {
  using Builder =
      std::function<std::shared_ptr<TokenMixer>(const AttentionConfig&, const VariantOptions&, Generator&)>;

  std::string name = {};         // what --attention takes
  std::string description = {};  // one line, for --help and the READMEs
  bool supports_causal = true;
  bool supports_bidirectional = true;
  std::vector<OptionSpec> options = {};  // its own settings (attention/variant_options.h)
  Builder build = {};                    // the mixer for a config whose options have been checked

  // ---- what the conformance suite reads (attention/conformance.h) ----
  // The same function written from autograd ops close to the paper's math, built
  // with the same parameter draws (same class with a switch, or the same projections
  // around another core), which the suite holds `build` to. Empty: none (the variant
  // is its own reference).
  Builder reference = {};
  // Lengths at which the computation changes that no option sets (a fused kernel's
  // tiles); the suite adds the values of the options with OptionRole::Size.
  std::vector<int64_t> fixed_sizes = {};
  // The option sets the suite runs, small enough that short sequences cross every
  // boundary; other tests use the first for small models.
  std::vector<std::map<std::string, std::string>> test_options = {{}};
  Smoothness smoothness = Smoothness::Smooth;
  LengthScale length_scale = LengthScale::Applies;

  std::string registered_at = {};  // "file:line" of its registration (set by AttentionRegistration)
};

// A list of variants by name. The program has one (attention_registry(), what the
// functions below use); tests make their own.
class AttentionRegistry {
 public:
  // Adds `variant`, registered at `where` ("file:line"). A malformed variant or a
  // name already taken is not added; it is reported, naming both places, by every
  // later variants() or find() (a registration runs before main(), where throwing
  // would end the program without a message).
  void add(AttentionVariant variant, const std::string& where);
  // The library's own variants first, in the order of builtin_attention_variants
  // (exact softmax first), then the others by name.
  const std::vector<AttentionVariant>& variants();
  // An unknown name is an error listing the known ones.
  const AttentionVariant& find(const std::string& name);
  // Every option of the variants once, with the variants that declare it: what a
  // program turns into flags. Variants that share an option name must declare it
  // alike (type, default, range); otherwise this is an error naming both.
  struct SharedOption {
    OptionSpec spec;
    std::vector<std::string> variants;
  };
  std::vector<SharedOption> options();

 private:
  std::vector<AttentionVariant> variants_;
  std::string problems_;
  bool in_order_ = false;
};
AttentionRegistry& attention_registry();

// Registers `variant` in attention_registry() when constructed (see the top of this
// file).
class AttentionRegistration {
 public:
  // The defaults name the file and line of the registration (the builtins behind
  // std::source_location, which clang 14 with libstdc++ 12 cannot use).
  explicit AttentionRegistration(AttentionVariant variant, const char* file = __builtin_FILE(),
                                 int line = __builtin_LINE());
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// attention_registry().variants() and .find(name).
const std::vector<AttentionVariant>& attention_variants();
const AttentionVariant& find_attention_variant(const std::string& name);
// The names of the variants that ship with the library (attention/builtin_variants.h).
std::vector<std::string> builtin_attention_variants();

// Builds the named variant; an unknown name, an unsupported mode, an unknown option
// or a bad value is a clear error.
std::shared_ptr<TokenMixer> make_attention(const AttentionConfig& config, Generator& gen);
// The same for a variant given directly (registered or not; config.name is ignored).
// With Form::Reference, its reference form (an error if it declares none).
enum class Form { Declared, Reference };
std::shared_ptr<TokenMixer> make_attention(const AttentionVariant& variant, const AttentionConfig& config,
                                           Generator& gen, Form form = Form::Declared);

// attention_registry().options().
using SharedOption = AttentionRegistry::SharedOption;
std::vector<SharedOption> attention_options();

}  // namespace ta
