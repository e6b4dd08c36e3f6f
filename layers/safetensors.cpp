// layers/safetensors.cpp — the safetensors writer (atomic: temp file, fsync,
// rename) and the validating reader. The format is described in safetensors.h.
//
// The header's JSON is read and written by nlohmann-json. The reader accepts and
// refuses what the reference implementation (Python's safetensors, Rust's serde
// underneath) does; tests/data/safetensors_malformed/ holds the files that pin
// this down, with the reference's verdict on each.
#include "layers/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/allocator.h"
#include "core/error.h"

namespace ta {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this reader and writer copy bytes as they are");

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;  // keeps members in the order written

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the limit the reference implementation enforces
constexpr int kMaxNesting = 127;  // objects and arrays inside each other; serde_json refuses the 128th
constexpr const char* kMetadataKey = "__metadata__";

using File = std::unique_ptr<FILE, int (*)(FILE*)>;

File open_file(const std::string& path, const char* mode) { return File(std::fopen(path.c_str(), mode), &std::fclose); }

// ---- writing ------------------------------------------------------------------------

// Writes n bytes or throws, naming the file.
void write_bytes(FILE* f, const void* data, size_t n, const std::string& path) {
  TA_CHECK(n == 0 || std::fwrite(data, 1, n, f) == n, "write_safetensors: writing '", path, "' failed: ", std::strerror(errno));
}

// The header JSON: metadata first, then the tensors in name order, each taking the
// next numel * 4 bytes of the data section. Padded with spaces to a multiple of 8.
std::string make_header(const std::string& path, const std::map<std::string, Tensor>& tensors,
                        const Metadata& metadata) {
  OrderedJson header = OrderedJson::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * sizeof(float);
    header[name] = {{"dtype", "F32"}, {"shape", t.shape().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const Json::type_error& e) {  // a name or a metadata string that is not UTF-8
    throw Error(cat("write_safetensors: '", path, "': the header must be UTF-8 JSON, but a tensor name or a metadata ",
                    "string is not valid UTF-8 (", e.what(), ")"));
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// Makes the rename itself durable: fsync on the folder that holds the entry.
void sync_folder(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: the file itself is already on disk
  ::fsync(fd);
  ::close(fd);
}

// ---- reading ------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw Error(cat("read_safetensors: '", path, "': ", problem));
}

uint64_t file_size(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail(path, "no such file (or not a regular file)");
  uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) fail(path, cat("cannot read its size: ", ec.message()));
  return size;
}

// Reads `n` bytes at `offset`, or fails naming the file (also when the machine's
// memory could not hold them: files are read whole).
std::string read_bytes(const std::string& path, uint64_t offset, uint64_t n) {
  const size_t memory = machine_memory_bytes();
  if (memory != 0 && n > memory)
    fail(path, cat("reading it needs ", format_bytes(n), " of memory, and the machine has ", format_bytes(memory)));
  File f = open_file(path, "rb");
  if (!f) fail(path, cat("cannot open: ", std::strerror(errno)));
  std::string out(n, '\0');
  if (std::fseek(f.get(), static_cast<long>(offset), SEEK_SET) != 0 || std::fread(out.data(), 1, n, f.get()) != n)
    fail(path, cat("cannot read ", n, " bytes at offset ", offset, " (the file changed while being read?)"));
  return out;
}

// One tensor's entry in the header.
struct Entry {
  std::string name;
  std::string dtype;
  size_t dtype_bytes = 4;
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte offsets within the data section
};

struct Header {
  Metadata metadata;
  std::vector<Entry> entries;
  uint64_t data_start = 0;  // 8 + N
};

size_t dtype_bytes(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F64") return 8;
  if (dtype == "F16" || dtype == "BF16") return 2;
  return 0;
}

// N from the first 8 bytes of the file (`first`, shorter if the file is), checked
// against the file size.
uint64_t header_length(const std::string& path, std::string_view first, uint64_t size) {
  if (size < 8) fail(path, cat("the file is ", size, " bytes, too short for the 8-byte header length (truncated?)"));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(first[i]);
  if (n > size - 8)
    fail(path, cat("the header length ", n, " runs past the end of the file (", size,
                   " bytes): the file is truncated or not a safetensors file"));
  if (n > kMaxHeaderBytes) fail(path, cat("the header length ", n, " exceeds the format's limit of ", kMaxHeaderBytes));
  return n;
}

// The unsigned 64-bit value of a JSON number written as a whole number >= 0 ("24",
// not "24.0", "2.4e1" or "-0": the reference reads these fields as usize).
std::optional<uint64_t> whole_number(const Json& v) {
  if (!v.is_number_unsigned()) return std::nullopt;
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& path, const std::string& name, const Json& v) {
  const std::string what = cat("tensor '", name, "'");
  if (!v.is_object()) fail(path, cat(what, " is a JSON ", v.type_name(), ", expected an object"));
  // Other fields are ignored, as the reference does.
  const auto dtype = v.find("dtype"), shape = v.find("shape"), offsets = v.find("data_offsets");
  if (dtype == v.end() || shape == v.end() || offsets == v.end())
    fail(path, cat(what, " lacks \"", dtype == v.end() ? "dtype" : shape == v.end() ? "shape" : "data_offsets", "\""));

  Entry e;
  e.name = name;
  if (!dtype->is_string()) fail(path, cat(what, " has a dtype that is a JSON ", dtype->type_name(), ", not a string"));
  e.dtype = dtype->get<std::string>();
  e.dtype_bytes = dtype_bytes(e.dtype);
  if (e.dtype_bytes == 0)
    fail(path, cat(what, " has dtype ", e.dtype, "; expected F32 (F64, F16 and BF16 are also read, as F32)"));

  if (!shape->is_array()) fail(path, cat(what, " has a shape that is a JSON ", shape->type_name(), ", not an array"));
  if (shape->size() > static_cast<size_t>(kMaxDims))
    fail(path, cat(what, " has ", shape->size(), " dimensions; at most ", kMaxDims, " are supported"));
  // The byte count as the reference computes it: dimensions multiplied in order,
  // then by the dtype's size, each product checked for overflow.
  std::vector<int64_t> dims;
  uint64_t bytes = 1;
  bool overflow = false;
  for (const Json& d : *shape) {
    const std::optional<uint64_t> n = whole_number(d);
    if (!n) fail(path, cat(what, " has a shape entry ", d.dump(), "; expected a whole number >= 0"));
    if (*n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(path, cat(what, " has a dimension of ", *n, ", more than int64 counts"));
    overflow = overflow || __builtin_mul_overflow(bytes, *n, &bytes);
    dims.push_back(static_cast<int64_t>(*n));
  }
  overflow = overflow || __builtin_mul_overflow(bytes, e.dtype_bytes, &bytes);
  if (overflow) fail(path, cat(what, " has a shape whose byte count overflows 64 bits"));
  try {
    e.shape = Shape(dims);
    (void)e.shape.numel();  // an element count int64 cannot hold is refused here, naming the shape
  } catch (const Error& err) {
    fail(path, cat(what, ": ", err.what()));
  }

  std::optional<uint64_t> begin, end;
  if (offsets->is_array() && offsets->size() == 2) begin = whole_number((*offsets)[0]), end = whole_number((*offsets)[1]);
  if (!begin || !end) fail(path, cat(what, " has data_offsets ", offsets->dump(), "; expected [begin, end], two whole numbers >= 0"));
  e.begin = *begin;
  e.end = *end;
  if (e.begin > e.end) fail(path, cat(what, " has data_offsets [", e.begin, ", ", e.end, "] with begin after end"));
  if (e.end - e.begin != bytes)
    fail(path, cat(what, " has shape ", e.shape, " of ", e.dtype, " (", bytes, " bytes) but data_offsets [", e.begin,
                   ", ", e.end, "] hold ", e.end - e.begin, " bytes"));
  return e;
}

// The rules of the reference's parser that a plain JSON parse does not apply, as
// a parse callback: objects and arrays nest at most kMaxNesting deep, and neither
// "__metadata__" nor a tensor's dtype, shape or data_offsets may appear twice (a
// tensor name or a metadata key given twice keeps its last value, as there).
class ReferenceRules {
 public:
  bool operator()(int depth, Json::parse_event_t event, const Json& parsed) {
    using E = Json::parse_event_t;
    if ((event == E::object_start || event == E::array_start) && depth >= kMaxNesting)
      throw Error(cat("objects and arrays nest deeper than ", kMaxNesting, " levels"));
    if (event != E::key) return true;
    const std::string& key = parsed.get_ref<const std::string&>();
    if (depth == 1) {  // a member of the root: "__metadata__" or a tensor
      in_metadata_ = key == kMetadataKey;
      if (in_metadata_ && metadata_seen_) throw Error("\"__metadata__\" appears twice");
      metadata_seen_ = metadata_seen_ || in_metadata_;
      fields_seen_.clear();
    } else if (depth == 2 && !in_metadata_ && (key == "dtype" || key == "shape" || key == "data_offsets")) {
      if (std::find(fields_seen_.begin(), fields_seen_.end(), key) != fields_seen_.end())
        throw Error(cat("a tensor's field \"", key, "\" appears twice"));
      fields_seen_.push_back(key);
    }
    return true;
  }

 private:
  bool metadata_seen_ = false, in_metadata_ = false;
  std::vector<std::string> fields_seen_;  // of the tensor being read
};

// nlohmann-json's message without its "[json.exception.parse_error.101] " prefix,
// with bytes outside printable ASCII (the invalid UTF-8 it quotes) written as \xNN.
std::string parse_error_text(const Json::exception& e) {
  std::string_view m = e.what();
  if (m.starts_with("[json.exception.") && m.find("] ") != std::string_view::npos) m.remove_prefix(m.find("] ") + 2);
  std::string out;
  for (unsigned char c : m) {
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out;
}

// Parses and validates the header given the size of the data section after it.
Header parse_header(const std::string& path, const std::string& text, uint64_t data_bytes) {
  // Two bytes nlohmann-json does not refuse by itself: a NUL ends its input (the
  // rest would go unread), and it skips a leading byte order mark. JSON text holds
  // neither, and the reference refuses both.
  if (const size_t nul = text.find('\0'); nul != std::string::npos)
    fail(path, cat("the header holds a NUL byte at byte ", nul, " of the header: not valid JSON"));
  if (text.starts_with("\xEF\xBB\xBF")) fail(path, "the header starts with a byte order mark: not valid JSON");
  Json root;
  try {
    root = Json::parse(text, ReferenceRules());
  } catch (const Json::exception& err) {  // syntax, or invalid UTF-8 (the header must be UTF-8)
    fail(path, cat("the header is not valid UTF-8 JSON: ", parse_error_text(err)));
  } catch (const Error& err) {
    fail(path, cat("the header is not valid safetensors JSON: ", err.what()));
  }
  if (!root.is_object()) fail(path, cat("the header is a JSON ", root.type_name(), ", expected an object"));

  Header h;
  h.data_start = 8 + text.size();
  for (const auto& [key, v] : root.items()) {
    if (key == kMetadataKey) {
      if (v.is_null()) continue;  // the reference reads null as no metadata
      if (!v.is_object()) fail(path, cat("\"__metadata__\" is a JSON ", v.type_name(), ", expected an object of strings"));
      for (const auto& [mk, mv] : v.items()) {
        if (!mv.is_string()) fail(path, cat("metadata \"", mk, "\" is a JSON ", mv.type_name(), ", expected a string"));
        h.metadata.emplace_hint(h.metadata.end(), mk, mv.get<std::string>());
      }
      continue;
    }
    h.entries.push_back(parse_entry(path, key, v));
  }

  // The tensors must tile [0, data_bytes) exactly: sorted by offset, each begins
  // where the previous ended, and the last ends at the end of the file.
  std::vector<const Entry*> order;
  for (const Entry& e : h.entries) {
    if (e.end > data_bytes)
      fail(path, cat("tensor '", e.name, "' has data_offsets [", e.begin, ", ", e.end, "] past the end of the ",
                     data_bytes, "-byte data section: the file is truncated or the offsets are wrong"));
    order.push_back(&e);
  }
  std::sort(order.begin(), order.end(),
            [](const Entry* a, const Entry* b) { return a->begin != b->begin ? a->begin < b->begin : a->end < b->end; });
  uint64_t expected = 0;
  for (const Entry* e : order) {
    if (e->begin < expected)
      fail(path, cat("tensor '", e->name, "' at [", e->begin, ", ", e->end, ") overlaps the data of another tensor"));
    if (e->begin > expected)
      fail(path, cat("the data section has a gap at bytes [", expected, ", ", e->begin, ") before tensor '", e->name,
                     "'"));
    expected = e->end;
  }
  if (expected != data_bytes)
    fail(path, cat("the data section is ", data_bytes, " bytes but the tensors cover ", expected,
                   " (data section size mismatch)"));
  return h;
}

// IEEE binary16 -> binary32: sign, 5-bit exponent (bias 15), 10-bit mantissa.
float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  float magnitude;
  if (exponent == 0) magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // zero and subnormals
  else if (exponent == 31) magnitude = mantissa ? NAN : INFINITY;
  else magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  return sign ? -magnitude : magnitude;
}

// One element of `dtype` at `p`, as a float. BF16 is the top half of an F32.
float element(const char* p, const std::string& dtype) {
  if (dtype == "F32") {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (dtype == "F64") {
    double d;
    std::memcpy(&d, p, 8);
    return static_cast<float>(d);
  }
  uint16_t u;
  std::memcpy(&u, p, 2);
  if (dtype == "F16") return half_to_float(u);
  return std::bit_cast<float>(static_cast<uint32_t>(u) << 16);  // BF16
}

}  // namespace

void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const Metadata& metadata) {
  for (const auto& [name, t] : tensors) {
    TA_CHECK(!name.empty() && name != kMetadataKey, "write_safetensors: '", path, "': invalid tensor name '", name,
             "'");
    check_defined(t, "write_safetensors", name.c_str());
  }
  const std::string header = make_header(path, tensors, metadata);
  const std::string tmp = path + ".tmp";
  try {
    File f = open_file(tmp, "wb");
    TA_CHECK(f, "write_safetensors: cannot create '", tmp, "': ", std::strerror(errno));
    unsigned char length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(static_cast<uint64_t>(header.size()) >> (8 * i));
    write_bytes(f.get(), length, 8, tmp);
    write_bytes(f.get(), header.data(), header.size(), tmp);
    for (const auto& [name, t] : tensors) {
      std::vector<float> values = t.to_vector();
      write_bytes(f.get(), values.data(), values.size() * sizeof(float), tmp);
    }
    TA_CHECK(std::fflush(f.get()) == 0 && ::fsync(::fileno(f.get())) == 0, "write_safetensors: flushing '", tmp,
             "' to disk failed: ", std::strerror(errno));
    FILE* raw = f.release();
    TA_CHECK(std::fclose(raw) == 0, "write_safetensors: closing '", tmp, "' failed: ", std::strerror(errno));
    TA_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "write_safetensors: renaming '", tmp, "' to '", path,
             "' failed: ", std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());  // PATH itself was never touched
    throw;
  }
  sync_folder(path);
}

SafetensorsContents read_safetensors(const std::string& path) {
  const uint64_t size = file_size(path);
  const std::string bytes = read_bytes(path, 0, size);
  const uint64_t n = header_length(path, bytes, size);
  const Header h = parse_header(path, bytes.substr(8, n), size - 8 - n);
  SafetensorsContents out;
  out.metadata = h.metadata;
  for (const Entry& e : h.entries) {
    std::vector<float> values(static_cast<size_t>(e.shape.numel()));
    const char* p = bytes.data() + h.data_start + e.begin;
    for (size_t i = 0; i < values.size(); ++i) values[i] = element(p + i * e.dtype_bytes, e.dtype);
    out.tensors.emplace(e.name, Tensor::from_vector(values, e.shape));
  }
  return out;
}

Metadata read_safetensors_metadata(const std::string& path) {
  const uint64_t size = file_size(path);
  const uint64_t n = header_length(path, read_bytes(path, 0, std::min<uint64_t>(size, 8)), size);
  return parse_header(path, read_bytes(path, 8, n), size - 8 - n).metadata;
}

}  // namespace ta
