// layers/safetensors.cpp — the safetensors writer (atomic: temp file, fsync,
// rename) and the validating reader. The format is described in safetensors.h.
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
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "layers/json.h"

namespace ta {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this reader and writer copy bytes as they are");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the limit the reference implementation enforces
constexpr const char* kMetadataKey = "__metadata__";
constexpr uint64_t kMaxElements = uint64_t{1} << 48;  // far beyond memory; keeps byte counts from overflowing

using File = std::unique_ptr<FILE, int (*)(FILE*)>;

File open_file(const std::string& path, const char* mode) { return File(std::fopen(path.c_str(), mode), &std::fclose); }

// ---- writing ------------------------------------------------------------------------

// Writes n bytes or throws, naming the file.
void write_bytes(FILE* f, const void* data, size_t n, const std::string& path) {
  TA_CHECK(n == 0 || std::fwrite(data, 1, n, f) == n, "write_safetensors: writing '", path, "' failed: ", std::strerror(errno));
}

// The header JSON: metadata first, then the tensors in name order, each taking the
// next numel * 4 bytes of the data section. Padded with spaces to a multiple of 8.
std::string make_header(const std::map<std::string, Tensor>& tensors, const Metadata& metadata) {
  std::vector<std::pair<std::string, json::Value>> members;
  if (!metadata.empty()) {
    std::vector<std::pair<std::string, json::Value>> meta;
    for (const auto& [k, v] : metadata) meta.emplace_back(k, json::Value::string(v));
    members.emplace_back(kMetadataKey, json::Value::object(std::move(meta)));
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    std::vector<json::Value> shape;
    for (int64_t d : t.shape()) shape.push_back(json::Value::integer(static_cast<uint64_t>(d)));
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * sizeof(float);
    members.emplace_back(name, json::Value::object({
                                   {"dtype", json::Value::string("F32")},
                                   {"shape", json::Value::array(std::move(shape))},
                                   {"data_offsets", json::Value::array({json::Value::integer(offset),
                                                                        json::Value::integer(offset + bytes)})},
                               }));
    offset += bytes;
  }
  std::string header = json::dump(json::Value::object(std::move(members)));
  header.append((8 - header.size() % 8) % 8, ' ');
  return header;
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

// Reads `n` bytes at `offset`, or fails naming the file.
std::string read_bytes(const std::string& path, uint64_t offset, uint64_t n) {
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

Entry parse_entry(const std::string& path, const std::string& name, const json::Value& v) {
  const std::string what = cat("tensor '", name, "'");
  if (v.type != json::Value::Type::Object) fail(path, cat(what, " is a JSON ", v.type_name(), ", expected an object"));
  for (const auto& [key, value] : v.members)
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      fail(path, cat(what, " has an unknown field \"", key, "\""));
  const json::Value* dtype = v.find("dtype");
  const json::Value* shape = v.find("shape");
  const json::Value* offsets = v.find("data_offsets");
  if (!dtype || !shape || !offsets)
    fail(path, cat(what, " lacks \"", !dtype ? "dtype" : !shape ? "shape" : "data_offsets", "\""));

  Entry e;
  e.name = name;
  if (dtype->type != json::Value::Type::String) fail(path, cat(what, " has a dtype that is not a string"));
  e.dtype = dtype->text;
  e.dtype_bytes = dtype_bytes(e.dtype);
  if (e.dtype_bytes == 0)
    fail(path, cat(what, " has dtype ", e.dtype, "; expected F32 (F64, F16 and BF16 are also read, as F32)"));

  if (shape->type != json::Value::Type::Array) fail(path, cat(what, " has a shape that is not an array"));
  if (shape->items.size() > static_cast<size_t>(kMaxDims))
    fail(path, cat(what, " has ", shape->items.size(), " dimensions; at most ", kMaxDims, " are supported"));
  std::vector<int64_t> dims;
  uint64_t numel = 1;
  for (const json::Value& d : shape->items) {
    std::optional<uint64_t> n = d.as_uint();
    if (!n) fail(path, cat(what, " has a shape entry ", d.type == json::Value::Type::Number ? d.text : d.type_name(),
                           "; expected a non-negative whole number"));
    if (*n > kMaxElements || __builtin_mul_overflow(numel, *n, &numel) || numel > kMaxElements)
      fail(path, cat(what, " has a shape too large to hold in memory"));
    dims.push_back(static_cast<int64_t>(*n));
  }
  if (offsets->type != json::Value::Type::Array || offsets->items.size() != 2 || !offsets->items[0].as_uint() ||
      !offsets->items[1].as_uint())
    fail(path, cat(what, " has data_offsets that are not [begin, end] as two non-negative whole numbers"));
  e.begin = *offsets->items[0].as_uint();
  e.end = *offsets->items[1].as_uint();
  e.shape = Shape(dims);
  if (e.begin > e.end) fail(path, cat(what, " has data_offsets [", e.begin, ", ", e.end, "] with begin after end"));
  if (e.end - e.begin != numel * e.dtype_bytes)
    fail(path, cat(what, " has shape ", e.shape, " of ", e.dtype, " (", numel * e.dtype_bytes,
                   " bytes) but data_offsets [", e.begin, ", ", e.end, "] hold ", e.end - e.begin, " bytes"));
  return e;
}

// Parses and validates the header given the size of the data section after it.
Header parse_header(const std::string& path, const std::string& text, uint64_t data_bytes) {
  json::Value root;
  try {
    root = json::parse(text);
  } catch (const Error& err) {
    fail(path, cat("the header is not valid JSON: ", err.what()));
  }
  if (root.type != json::Value::Type::Object)
    fail(path, cat("the header is a JSON ", root.type_name(), ", expected an object"));

  Header h;
  h.data_start = 8 + text.size();
  for (const auto& [key, v] : root.members) {
    if (key == kMetadataKey) {
      if (v.type != json::Value::Type::Object) fail(path, "\"__metadata__\" is not an object of strings");
      for (const auto& [mk, mv] : v.members) {
        if (mv.type != json::Value::Type::String)
          fail(path, cat("metadata \"", mk, "\" is a JSON ", mv.type_name(), ", expected a string"));
        h.metadata[mk] = mv.text;
      }
      continue;
    }
    if (key.empty()) fail(path, "a tensor has an empty name");
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
  const std::string header = make_header(tensors, metadata);
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
