// tests/layers/test_safetensors.cpp — the safetensors reader and writer, and model
// checkpoints: round trips, the exact byte layout the format specifies, files
// written the way other tools write them, every kind of corrupt or mismatched file
// (each must fail naming the file and the problem and leave the model unchanged),
// checkpoints holding NaN or infinity, headers of 80,000 keys, and the atomic save.
//
// Not here: the corpus of malformed files judged against Python's safetensors
// (test_safetensors_corpus.cpp); training checkpoints (tests/optim/test_resume.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "layers/checkpoint.h"
#include "layers/module.h"
#include "layers/safetensors.h"
#include "tests/testing.h"

namespace {

using ta::Tensor;
namespace fs = std::filesystem;

using ta::testing::TempDir;

std::string read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string u64_le(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(n >> (8 * i));
  return s;
}

template <class T>
std::string raw_bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// A safetensors file from a header written by hand (not padded) and its data.
std::string file_bytes(const std::string& header, const std::string& data) {
  return u64_le(header.size()) + header + data;
}

struct Small : ta::Module {
  Small() {
    register_parameter("weight", Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}));
    register_parameter("bias", Tensor::from_vector({-1, -2, -3}, {3}));
    register_buffer("scale", Tensor::from_vector({0.5f}, {1}));
  }
};

std::map<std::string, std::vector<float>> snapshot(const ta::Module& m) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, t] : m.state_dict()) out[name] = t.to_vector();
  return out;
}

// The tensors of a valid file for Small, with other values.
std::map<std::string, Tensor> small_state() {
  return {{"weight", Tensor::full({2, 3}, 7.0f)}, {"bias", Tensor::full({3}, 8.0f)}, {"scale", Tensor::full({1}, 9.0f)}};
}

}  // namespace

TEST_CASE("safetensors: tensors and metadata round trip") {
  TempDir dir("safetensors");
  const std::string path = dir.file("round.safetensors");
  std::map<std::string, Tensor> tensors = {
      {"w", Tensor::from_vector({1.5f, -2.25f, 3e-30f, 4e30f, 0.0f, -0.0f}, {2, 3})},
      {"scalar", Tensor::scalar(42.0f)},
      {"empty", Tensor::zeros({0, 3})},
      {"six.dims", Tensor::ones({1, 2, 1, 2, 1, 2})},
      {"we\"ird\\name\n", Tensor::from_vector({7.0f}, {1})},
  };
  ta::Metadata meta = {{"config", "{\"d_model\": 64}"}, {"note", "line1\nline2 \xC3\xA9"}, {"empty", ""}};
  ta::write_safetensors(path, tensors, meta);
  CHECK_FALSE(fs::exists(path + ".tmp"));

  ta::SafetensorsContents back = ta::read_safetensors(path);
  CHECK(back.metadata == meta);
  REQUIRE(back.tensors.size() == tensors.size());
  for (const auto& entry : tensors) {
    const std::string& name = entry.first;  // not a structured binding: INFO's lambda names it (clang 14)
    const Tensor& t = entry.second;
    INFO(name);
    REQUIRE(back.tensors.count(name));
    CHECK(back.tensors.at(name).shape() == t.shape());
    CHECK(back.tensors.at(name).to_vector() == t.to_vector());  // bit for bit (-0.0 == 0.0 aside)
  }
  CHECK(std::signbit(back.tensors.at("w").to_vector()[5]));
  CHECK(ta::read_safetensors_metadata(path) == meta);
}

TEST_CASE("safetensors: the bytes on disk follow the format") {
  TempDir dir("safetensors");
  const std::string path = dir.file("layout.safetensors");
  ta::write_safetensors(path,
                        {{"b", Tensor::from_vector({3.0f}, {1})}, {"a", Tensor::from_vector({1.0f, 2.0f}, {2, 1})}},
                        {{"k", "v"}});
  const std::string bytes = read_raw(path);
  REQUIRE(bytes.size() >= 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  CHECK(n % 8 == 0);  // padded so the data starts 8-byte aligned
  REQUIRE(bytes.size() == 8 + n + 12);
  // Metadata first, then the tensors in name order, each taking the next bytes of the data.
  const std::string json = R"({"__metadata__":{"k":"v"},)"
                           R"("a":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  CHECK(bytes.substr(8, n) == json + std::string(n - json.size(), ' '));
  CHECK(n - json.size() < 8);
  CHECK(bytes.substr(8 + n) == raw_bytes(std::vector<float>{1.0f, 2.0f, 3.0f}));
}

TEST_CASE("safetensors: reads files laid out the way other tools write them") {
  TempDir dir("safetensors");
  const std::string path = dir.file("other.safetensors");
  SUBCASE("no metadata, data in another order than the header, spaces in the JSON, no padding") {
    const std::string header = R"({ "b" : {"shape": [1], "dtype": "F32", "data_offsets": [8, 12]},
                                     "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]} })";
    write_raw(path, file_bytes(header, raw_bytes(std::vector<float>{1, 2, 3})));
    ta::SafetensorsContents c = ta::read_safetensors(path);
    CHECK(c.metadata.empty());
    CHECK(c.tensors.at("a").to_vector() == std::vector<float>{1, 2});
    CHECK(c.tensors.at("b").to_vector() == std::vector<float>{3});
  }
  SUBCASE("F64, F16 and BF16 are converted to F32") {
    const std::string header = R"({"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
                               R"("h":{"dtype":"F16","shape":[5],"data_offsets":[16,26]},)"
                               R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[26,30]}})";
    // F16: 1, -2, 0.5, the smallest subnormal 2^-24, infinity. BF16: 1, -2 (an F32's top half).
    const std::string data = raw_bytes(std::vector<double>{0.1, -3.0}) +
                             raw_bytes(std::vector<uint16_t>{0x3C00, 0xC000, 0x3800, 0x0001, 0x7C00}) +
                             raw_bytes(std::vector<uint16_t>{0x3F80, 0xC000});
    write_raw(path, file_bytes(header, data));
    ta::SafetensorsContents c = ta::read_safetensors(path);
    CHECK(c.tensors.at("d").to_vector() == std::vector<float>{0.1f, -3.0f});
    CHECK(c.tensors.at("h").to_vector() ==
          std::vector<float>{1.0f, -2.0f, 0.5f, std::ldexp(1.0f, -24), std::numeric_limits<float>::infinity()});
    CHECK(c.tensors.at("b").to_vector() == std::vector<float>{1.0f, -2.0f});
  }
}

TEST_CASE("safetensors: read as Python's safetensors reads: extra fields ignored, repeated names keep the last") {
  TempDir dir("safetensors");
  const std::string path = dir.file("parity.safetensors");
  const std::string header = R"({"__metadata__":{"k":"1","k":"2"},)"
                             R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"note":{"x":[null,true]}},)"
                             R"("b":{"dtype":"F32","shape":[9],"data_offsets":[0,36]},)"
                             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  write_raw(path, file_bytes(header, raw_bytes(std::vector<float>{1, 2})));
  ta::SafetensorsContents c = ta::read_safetensors(path);
  CHECK(c.metadata == ta::Metadata{{"k", "2"}});
  CHECK(c.tensors.at("a").to_vector() == std::vector<float>{1});
  CHECK(c.tensors.at("b").to_vector() == std::vector<float>{2});
  write_raw(path, file_bytes(R"({"__metadata__":null})", ""));
  CHECK(ta::read_safetensors(path).metadata.empty());
}

TEST_CASE("safetensors: a header of 80,000 metadata keys round trips") {
  TempDir dir("safetensors");
  const std::string path = dir.file("keys.safetensors");
  ta::Metadata meta;
  for (int i = 0; i < 80000; ++i) meta["key." + std::to_string(i)] = "value " + std::to_string(i);
  ta::write_safetensors(path, {{"w", Tensor::ones({2})}}, meta);
  CHECK(ta::read_safetensors_metadata(path) == meta);
}

TEST_CASE("safetensors: a name or metadata string that is not UTF-8 cannot be written") {
  TempDir dir("safetensors");
  const std::string path = dir.file("utf8.safetensors");
  CHECK_THROWS_WITH_AS(ta::write_safetensors(path, {{"w", Tensor::ones({1})}}, {{"k", "caf\xe9"}}),
                       doctest::Contains("is not valid UTF-8"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::write_safetensors(path, {{"w\xff", Tensor::ones({1})}}),
                       doctest::Contains(path.c_str()), ta::Error);
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("checkpoint: a file holding NaN or infinity is refused naming the tensor; the model is unchanged") {
  TempDir dir("safetensors");
  const std::string path = dir.file("diverged.safetensors");
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::map<std::string, Tensor> state = small_state();
  state["weight"] = Tensor::from_vector({1, 2, 3, 4, nan, -inf}, {2, 3});
  state["scale"] = Tensor::from_vector({inf}, {1});
  ta::write_safetensors(path, state);  // the format holds any float; the model loader refuses them

  Small model;
  const auto before = snapshot(model);
  const std::string m = ta::testing::error_message([&] { ta::load_model(path, model); });
  CHECK(m.find("load_model: '" + path + "' holds values that are not finite") != std::string::npos);
  CHECK(m.find("tensor 'weight' [2, 3] holds 2 NaN or infinite values; the first is nan at [1, 1]") != std::string::npos);
  CHECK(m.find("tensor 'scale' [1] holds 1 NaN or infinite value; the first is inf at [0]") != std::string::npos);
  CHECK(m.find("'bias'") == std::string::npos);
  CHECK(snapshot(model) == before);
  CHECK(std::isnan(ta::read_safetensors(path).tensors.at("weight").to_vector()[4]));
}

TEST_CASE("checkpoint: save_model and load_model round trip the weights and the config") {
  TempDir dir("safetensors");
  const std::string path = dir.file("model.safetensors");
  Small a;
  ta::save_model(path, a, {{"d_model", "3"}, {"step", "1000"}});
  CHECK(ta::read_safetensors_metadata(path).at("d_model") == "3");

  Small b;
  b.load_state_dict(small_state());  // different values, to be overwritten
  ta::Metadata meta = ta::load_model(path, b);
  CHECK(meta == ta::Metadata{{"d_model", "3"}, {"step", "1000"}});
  CHECK(snapshot(b) == snapshot(a));
  // The names are the model's own, as Python tools see them.
  ta::SafetensorsContents c = ta::read_safetensors(path);
  CHECK(c.tensors.size() == 3);
  CHECK(c.tensors.count("weight"));
  CHECK(c.tensors.count("bias"));
  CHECK(c.tensors.count("scale"));
}

TEST_CASE("checkpoint: every corrupt or mismatched file fails naming the file and the problem; the model is unchanged") {
  TempDir dir("safetensors");
  const std::string good_path = dir.file("good.safetensors");
  ta::write_safetensors(good_path, small_state(), {{"k", "v"}});
  const std::string good = read_raw(good_path);
  const uint64_t n = 8 + (static_cast<unsigned char>(good[0]) | static_cast<unsigned char>(good[1]) << 8);
  const std::string f32x6 = raw_bytes(std::vector<float>(6, 1.0f));

  auto with_tensors = [&](std::map<std::string, Tensor> tensors) {
    const std::string p = dir.file("tmp_source.safetensors");
    ta::write_safetensors(p, tensors);
    return read_raw(p);
  };
  std::map<std::string, Tensor> missing = small_state(), extra = small_state(), reshaped = small_state();
  missing.erase("bias");
  extra["unused"] = Tensor::ones({2});
  reshaped["weight"] = Tensor::ones({3, 2});

  struct Case {
    const char* what;
    std::string bytes;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"empty file", "", "too short for the 8-byte header length"},
      {"truncated in the length", good.substr(0, 5), "the file is 5 bytes"},
      {"truncated in the header", good.substr(0, 20), "runs past the end of the file"},
      {"truncated in the data", good.substr(0, good.size() - 6), "past the end of the"},
      {"truncated by one byte", good.substr(0, good.size() - 1), "the file is truncated"},
      {"only the header", good.substr(0, n), "the file is truncated"},
      {"header length past the end", u64_le(1'000'000) + good.substr(8), "header length 1000000 runs past the end"},
      {"header length near 2^64", u64_le(~uint64_t{0}) + good.substr(8), "runs past the end of the file"},
      {"garbage JSON", file_bytes("{this is not json}", ""), "the header is not valid UTF-8 JSON"},
      {"a JSON array", file_bytes("[1, 2]", ""), "the header is a JSON array, expected an object"},
      {"binary garbage", u64_le(16) + std::string("\x01\x02\xff\xfe garbage bytes", 16), "not valid UTF-8 JSON"},
      {"invalid UTF-8 in a metadata value",
       file_bytes("{\"__metadata__\":{\"k\":\"caf\xe9\"}," + std::string(R"("w":{"dtype":"F32","shape":[6],"data_offsets":[0,24]}})"), f32x6),
       "ill-formed UTF-8 byte; last read: '\"caf\\xE9"},
      {"nested too deep",
       file_bytes(R"({"w":{"dtype":"F32","shape":[6],"data_offsets":[0,24],"x":)" + std::string(200, '[') +
                      std::string(200, ']') + "}}",
                  f32x6),
       "nest deeper than 127 levels"},
      {"wrong dtype", file_bytes(R"({"weight":{"dtype":"I32","shape":[2,3],"data_offsets":[0,24]}})", f32x6 + f32x6),
       "tensor 'weight' has dtype I32; expected F32"},
      {"shape against offsets", file_bytes(R"({"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,24]}})", f32x6),
       "has shape [2, 2] of F32 (16 bytes) but data_offsets [0, 24] hold 24 bytes"},
      {"missing field", file_bytes(R"({"weight":{"dtype":"F32","data_offsets":[0,24]}})", f32x6),
       "tensor 'weight' lacks \"shape\""},
      {"a field twice", file_bytes(R"({"w":{"dtype":"F32","shape":[6],"shape":[6],"data_offsets":[0,24]}})", f32x6),
       "a tensor's field \"shape\" appears twice"},
      {"negative dimension", file_bytes(R"({"w":{"dtype":"F32","shape":[-6],"data_offsets":[0,24]}})", f32x6),
       "shape entry -6"},
      {"overlapping offsets",
       file_bytes(R"({"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[1],"data_offsets":[20,24]}})",
                  f32x6),
       "overlaps the data of another tensor"},
      {"a gap in the data",
       file_bytes(R"({"a":{"dtype":"F32","shape":[5],"data_offsets":[4,24]}})", f32x6), "has a gap at bytes [0, 4)"},
      {"data section too long", good + "extra!!!", "data section size mismatch"},
      {"begin after end", file_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", f32x6),
       "begin after end"},
      {"non-string metadata", file_bytes(R"({"__metadata__":{"step":10}})", ""),
       "metadata \"step\" is a JSON number, expected a string"},
      {"missing tensor", with_tensors(missing), "missing: bias [3]"},
      {"extra tensor", with_tensors(extra), "unexpected: unused [2]"},
      {"wrong shape", with_tensors(reshaped), "shape mismatch: weight is [2, 3] in the model, [3, 2] in the file"},
  };

  Small model;
  const auto before = snapshot(model);
  for (const Case& c : cases) {
    INFO("case: ", c.what);
    const std::string path = dir.file("bad.safetensors");
    write_raw(path, c.bytes);
    try {
      ta::load_model(path, model);
      FAIL("the load succeeded");
    } catch (const ta::Error& e) {
      const std::string msg = e.what();
      INFO("message: ", msg);
      CHECK(msg.find(path) != std::string::npos);
      CHECK(msg.find(c.expected) != std::string::npos);
    }
    CHECK(snapshot(model) == before);
  }
  CHECK_THROWS_WITH_AS(ta::load_model(dir.file("no_such.safetensors"), model), doctest::Contains("no such file"),
                       ta::Error);
  CHECK(snapshot(model) == before);
}

TEST_CASE("checkpoint: saving is atomic; a failed or interrupted save leaves the previous file") {
  TempDir dir("safetensors");
  const std::string path = dir.file("ckpt.safetensors");
  Small a;
  ta::save_model(path, a, {{"version", "1"}});
  const std::string first = read_raw(path);

  // A crash mid-save leaves a torn PATH.tmp behind; PATH still loads and the next save replaces both.
  write_raw(path + ".tmp", first.substr(0, first.size() / 2));
  Small b;
  ta::load_model(path, b);
  CHECK(snapshot(b) == snapshot(a));
  ta::save_model(path, a, {{"version", "2"}});
  CHECK(ta::read_safetensors_metadata(path).at("version") == "2");
  CHECK_FALSE(fs::exists(path + ".tmp"));

  // A save that cannot write its temp file fails, naming it, and leaves PATH as it was.
  const std::string second = read_raw(path);
  fs::create_directory(path + ".tmp");
  CHECK_THROWS_WITH_AS(ta::save_model(path, a, {{"version", "3"}}), doctest::Contains(("cannot create '" + path + ".tmp'").c_str()),
                       ta::Error);
  CHECK(read_raw(path) == second);
  fs::remove(path + ".tmp");

  CHECK_THROWS_WITH_AS(ta::save_model(dir.file("no/such/folder/x.safetensors"), a), doctest::Contains("no/such/folder"),
                       ta::Error);
  CHECK_THROWS_WITH_AS(ta::write_safetensors(path, {{"__metadata__", Tensor::ones({1})}}),
                       doctest::Contains("invalid tensor name '__metadata__'"), ta::Error);
  CHECK(read_raw(path) == second);
}
