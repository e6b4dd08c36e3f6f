#include "attention/registry.h"

#include <algorithm>
#include <utility>

#include "attention/builtin_variants.h"
#include "core/error.h"

namespace ta {

namespace {

// A registration that cannot work: the reason, or "" when it is fine.
std::string malformed(const AttentionVariant& v) {
  if (v.name.empty()) return "a variant without a name";
  if (!v.build) return cat("'", v.name, "' has no build function");
  if (!v.supports_causal && !v.supports_bidirectional) return cat("'", v.name, "' supports neither mode");
  if (v.test_options.empty()) return cat("'", v.name, "' has no test_options (give {{}} for the defaults)");
  for (size_t i = 0; i < v.options.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (v.options[i].name == v.options[j].name) return cat("'", v.name, "' declares option ", v.options[i].name, " twice");
  return "";
}

}  // namespace

void AttentionRegistry::add(AttentionVariant variant, const std::string& where) {
  variant.registered_at = where;
  if (const std::string problem = malformed(variant); !problem.empty()) {
    problems_ += cat("\n  ", where, ": ", problem);
    return;
  }
  for (const AttentionVariant& v : variants_)
    if (v.name == variant.name) {
      problems_ += cat("\n  '", variant.name, "' is registered twice: at ", v.registered_at, " and at ", where);
      return;
    }
  variants_.push_back(std::move(variant));
  in_order_ = false;
}

// Registrations run before main() in an order the linker picks, so the list is put
// in order on the first look after one.
const std::vector<AttentionVariant>& AttentionRegistry::variants() {
  TA_CHECK(problems_.empty(), "attention registry:", problems_);
  if (!in_order_) {
    const std::vector<std::string> builtin = builtin_attention_variants();
    auto rank = [&](const AttentionVariant& v) {
      return std::make_pair(std::find(builtin.begin(), builtin.end(), v.name) - builtin.begin(), v.name);
    };
    std::sort(variants_.begin(), variants_.end(),
              [&](const AttentionVariant& a, const AttentionVariant& b) { return rank(a) < rank(b); });
    in_order_ = true;
  }
  return variants_;
}

const AttentionVariant& AttentionRegistry::find(const std::string& name) {
  std::string known;
  for (const AttentionVariant& v : variants()) {
    if (v.name == name) return v;
    known += (known.empty() ? "" : ", ") + v.name;
  }
  throw Error(cat("attention: unknown variant '", name, "' (registered: ", known, ")"));
}

AttentionRegistry& attention_registry() {
  static AttentionRegistry r;
  return r;
}

AttentionRegistration::AttentionRegistration(AttentionVariant variant, const char* file, int line)
    : name_(variant.name) {
  attention_registry().add(std::move(variant), cat(file, ":", line));
}

const std::vector<AttentionVariant>& attention_variants() { return attention_registry().variants(); }

const AttentionVariant& find_attention_variant(const std::string& name) { return attention_registry().find(name); }

// Why the built-in variants are named here although each registers itself: a
// program that links libtinyattn.a gets an object file of the archive only when it
// refers to a symbol defined there. A variant's file that nothing calls (nystrom.o,
// in a program that asks for variants by name only) would be left out, and the
// registration in it with it: the variant would silently be missing. This function
// refers to every built-in registration, and it is in registry.o, which every
// program that uses the registry links, so each variant's file comes along. (A
// user's variant is compiled into the program itself and needs nothing of the kind;
// the test binary links the whole archive, and a test checks that every
// registration made in attention/ is listed here.)
std::vector<std::string> builtin_attention_variants() {
  static const AttentionRegistration* const builtin[] = {
      &softmax_registration,          &softmax_reference_registration, &nystrom_registration,
      &sparse_strided_registration,   &sparse_fixed_registration,      &sparse_registration,
      &flash_registration,            &flash_quad_registration,        &performer_registration,
      &performer_relu_registration,   &performer_reference_registration};
  std::vector<std::string> names;
  for (const AttentionRegistration* r : builtin) names.push_back(r->name());
  return names;
}

std::shared_ptr<TokenMixer> make_attention(const AttentionVariant& v, const AttentionConfig& c, Generator& gen,
                                           Form form) {
  TA_CHECK(c.causal ? v.supports_causal : v.supports_bidirectional, "attention '", v.name, "' has no ",
           (c.causal ? "causal" : "bidirectional"), " mode");
  TA_CHECK(c.train_length == 0 || v.length_scale == LengthScale::Applies, "attention '", v.name,
           "': the length-aware scale (train_length ", c.train_length, ") is for softmax-type attention, ",
           "which this variant is not", v.options.empty() ? "" : "; see its own options");
  TA_CHECK(c.train_length == 0 || c.train_length >= 2, "attention '", v.name, "': train_length must be 0 (plain ",
           "scale) or at least 2, got ", c.train_length);
  const VariantOptions options(v.name, v.options, c.options);
  if (form == Form::Reference) {
    TA_CHECK(static_cast<bool>(v.reference), "attention '", v.name, "' declares no reference form");
    return v.reference(c, options, gen);
  }
  return v.build(c, options, gen);
}

std::shared_ptr<TokenMixer> make_attention(const AttentionConfig& config, Generator& gen) {
  return make_attention(find_attention_variant(config.name), config, gen);
}

std::vector<SharedOption> attention_options() { return attention_registry().options(); }

std::vector<AttentionRegistry::SharedOption> AttentionRegistry::options() {
  std::vector<SharedOption> all;
  for (const AttentionVariant& v : variants())
    for (const OptionSpec& s : v.options) {
      auto same = std::find_if(all.begin(), all.end(), [&](const SharedOption& o) { return o.spec.name == s.name; });
      if (same == all.end()) {
        all.push_back({s, {v.name}});
        continue;
      }
      const OptionSpec& first = same->spec;
      TA_CHECK(first.type == s.type && first.default_value == s.default_value && first.min == s.min &&
                   first.max == s.max && first.choices == s.choices,
               "attention registry: option ", s.name, " means different things in '", same->variants.front(),
               "' (default ", first.default_value, ", ", first.allowed(), ") and in '", v.name, "' (default ",
               s.default_value, ", ", s.allowed(), "); give one of them another name");
      same->variants.push_back(v.name);
    }
  return all;
}

}  // namespace ta
