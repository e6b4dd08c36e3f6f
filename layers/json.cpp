// layers/json.cpp — the recursive-descent JSON reader and the compact writer.
#include "layers/json.h"

#include <charconv>

#include "core/error.h"

namespace ta::json {

Value Value::string(std::string s) {
  Value v;
  v.type = Type::String;
  v.text = std::move(s);
  return v;
}

Value Value::integer(uint64_t n) {
  Value v;
  v.type = Type::Number;
  v.text = std::to_string(n);
  return v;
}

Value Value::array(std::vector<Value> items) {
  Value v;
  v.type = Type::Array;
  v.items = std::move(items);
  return v;
}

Value Value::object(std::vector<std::pair<std::string, Value>> members) {
  Value v;
  v.type = Type::Object;
  v.members = std::move(members);
  return v;
}

const char* Value::type_name() const {
  switch (type) {
    case Type::Number: return "number";
    case Type::String: return "string";
    case Type::Array: return "array";
    case Type::Object: return "object";
  }
  return "?";
}

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

std::optional<uint64_t> Value::as_uint() const {
  if (type != Type::Number) return std::nullopt;
  uint64_t n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return n;
}

// ---- reading ----------------------------------------------------------------------

namespace {

constexpr int kMaxDepth = 64;

// Grammar (RFC 8259, without true/false/null):
//   value  = ws (object | array | string | number) ws
//   object = '{' [string ':' value (',' string ':' value)*] '}'
//   array  = '[' [value (',' value)*] ']'
//   number = '-'? ('0' | [1-9][0-9]*) ('.' [0-9]+)? ([eE] [+-]? [0-9]+)?
struct Parser {
  std::string_view s;
  size_t pos = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(cat("invalid JSON at byte ", pos, ": ", what));
  }
  bool at_end() const { return pos >= s.size(); }
  char peek() const { return at_end() ? '\0' : s[pos]; }
  void skip_ws() {
    while (!at_end() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r')) ++pos;
  }
  void expect(char c) {
    if (at_end()) fail(cat("expected '", c, "', got the end of the text"));
    if (s[pos] != c) fail(cat("expected '", c, "', got '", s[pos], "'"));
    ++pos;
  }
  bool is_digit() const { return !at_end() && s[pos] >= '0' && s[pos] <= '9'; }

  Value value(int depth) {
    if (depth > kMaxDepth) fail(cat("nested deeper than ", kMaxDepth, " levels"));
    skip_ws();
    if (at_end()) fail("expected a value, got the end of the text");
    Value v;
    char c = s[pos];
    if (c == '{') v = object(depth);
    else if (c == '[') v = array(depth);
    else if (c == '"') v = Value::string(string());
    else if (c == '-' || (c >= '0' && c <= '9')) v = number();
    else fail(cat("unexpected character '", c, "'"));
    skip_ws();
    return v;
  }

  Value object(int depth) {
    expect('{');
    Value v = Value::object({});
    skip_ws();
    if (peek() == '}') {
      ++pos;
      return v;
    }
    for (;;) {
      skip_ws();
      size_t key_pos = pos;
      std::string key = string();
      if (v.find(key)) {
        pos = key_pos;
        fail(cat("duplicate key \"", key, "\""));
      }
      skip_ws();
      expect(':');
      v.members.emplace_back(std::move(key), value(depth + 1));
      if (peek() == '}') {
        ++pos;
        return v;
      }
      expect(',');
    }
  }

  Value array(int depth) {
    expect('[');
    Value v = Value::array({});
    skip_ws();
    if (peek() == ']') {
      ++pos;
      return v;
    }
    for (;;) {
      v.items.push_back(value(depth + 1));
      if (peek() == ']') {
        ++pos;
        return v;
      }
      expect(',');
    }
  }

  Value number() {
    size_t start = pos;
    if (peek() == '-') ++pos;
    if (peek() == '0') ++pos;
    else if (is_digit()) while (is_digit()) ++pos;
    else fail("a number needs digits");
    if (peek() == '.') {
      ++pos;
      if (!is_digit()) fail("expected digits after the decimal point");
      while (is_digit()) ++pos;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos;
      if (peek() == '+' || peek() == '-') ++pos;
      if (!is_digit()) fail("expected digits in the exponent");
      while (is_digit()) ++pos;
    }
    Value v;
    v.type = Value::Type::Number;
    v.text = std::string(s.substr(start, pos - start));
    return v;
  }

  uint32_t hex4() {
    if (pos + 4 > s.size()) fail("\\u needs four hex digits");
    uint32_t u = 0;
    auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + pos + 4, u, 16);
    if (ec != std::errc() || ptr != s.data() + pos + 4) fail("\\u needs four hex digits");
    pos += 4;
    return u;
  }

  // Appends code point cp as UTF-8.
  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // A string's contents with escapes decoded; \uD83D\uDE00 (a UTF-16 surrogate
  // pair) becomes the one code point U+1F600.
  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (at_end()) fail("unterminated string");
      char c = s[pos++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        --pos;
        fail("raw control character in a string (must be escaped)");
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) fail("unterminated escape");
      char e = s[pos++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail("unpaired low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s.substr(pos, 2) != "\\u") fail("high surrogate not followed by a \\u low surrogate");
            pos += 2;
            uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default: --pos; fail(cat("unknown escape '\\", e, "'"));
      }
    }
  }
};

}  // namespace

Value parse(std::string_view text) {
  Parser p{text};
  Value v = p.value(0);
  if (!p.at_end()) p.fail(cat("unexpected '", p.s[p.pos], "' after the value"));
  return v;
}

// ---- writing ----------------------------------------------------------------------

static void dump_string(std::string& out, const std::string& s) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xF];
          out += kHex[c & 0xF];
        } else {
          out += c;  // bytes >= 0x80 pass through: UTF-8 stays UTF-8
        }
    }
  }
  out += '"';
}

static void dump_to(std::string& out, const Value& v) {
  switch (v.type) {
    case Value::Type::Number: out += v.text; break;
    case Value::Type::String: dump_string(out, v.text); break;
    case Value::Type::Array:
      out += '[';
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ',';
        dump_to(out, v.items[i]);
      }
      out += ']';
      break;
    case Value::Type::Object:
      out += '{';
      for (size_t i = 0; i < v.members.size(); ++i) {
        if (i) out += ',';
        dump_string(out, v.members[i].first);
        out += ':';
        dump_to(out, v.members[i].second);
      }
      out += '}';
      break;
  }
}

std::string dump(const Value& v) {
  std::string out;
  dump_to(out, v);
  return out;
}

}  // namespace ta::json
