// layers/json.h — a minimal JSON reader and writer, just enough for safetensors
// headers: strings (with every escape, \uXXXX included), numbers, arrays and
// objects.
//
// Not here: true, false and null (a safetensors header never holds them, so the
// reader reports them as unexpected characters), and floating-point conversion: a
// number keeps its literal text, and as_uint() reads it only if it is a
// non-negative whole number, which is every number a safetensors header holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ta::json {

struct Value {
  enum class Type { Number, String, Array, Object };
  Type type = Type::Object;
  std::string text;                                    // the string, or a number's literal text
  std::vector<Value> items;                            // an array's elements
  std::vector<std::pair<std::string, Value>> members;  // an object's members, in file order, keys unique

  static Value string(std::string s);
  static Value integer(uint64_t n);
  static Value array(std::vector<Value> items);
  static Value object(std::vector<std::pair<std::string, Value>> members);

  const char* type_name() const;  // "number", "string", "array", "object"
  // The member named `key`, or null when there is none (objects only).
  const Value* find(std::string_view key) const;
  // The value of a number written as a non-negative whole number that fits in 64
  // bits ("24", not "24.0" or "-1"); nullopt for anything else.
  std::optional<uint64_t> as_uint() const;
};

// Parses one JSON value filling all of `text` (whitespace allowed around it).
// Throws ta::Error "invalid JSON at byte N: ..." on anything else, including
// duplicate keys in an object and nesting deeper than 64 levels.
Value parse(std::string_view text);

// Compact JSON text for `v` (no spaces); strings escaped so parse() reads them back.
std::string dump(const Value& v);

}  // namespace ta::json
