// tests/fuzz/fuzz_run_files.cpp — the JSON run files the example programs write
// (summary.json, by JsonSummary) with arbitrary keys and values.
//
// Properties: the file written is always strict JSON that nlohmann-json parses
// back; a finite number reads back to the same double, a non-finite one as null;
// keys and strings read back unchanged, except that invalid UTF-8 is replaced by
// U+FFFD (never written raw); the last of a repeated key wins.
#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include "core/error.h"
#include "examples/common/run_files.h"
#include "tests/fuzz/fuzz_common.h"

using namespace ta;
using Json = nlohmann::json;

namespace {

// A string as it reads back from the file: invalid UTF-8 replaced by U+FFFD.
std::string as_written(const std::string& s) {
  return Json::parse(Json(s).dump(-1, ' ', false, Json::error_handler_t::replace)).get<std::string>();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = fuzz::scratch_path("summary.json");
  FuzzedDataProvider in(data, size);
  examples::JsonSummary summary;
  std::map<std::string, Json> expected;  // the last value written for each key, as written
  while (in.remaining_bytes() > 0) {
    const std::string key = in.ConsumeRandomLengthString(64);
    if (in.ConsumeBool()) {
      const double x = in.ConsumeFloatingPoint<double>();
      summary.set(key, x);
      expected[as_written(key)] = std::isfinite(x) ? Json(x) : Json(nullptr);
    } else {
      const std::string s = in.ConsumeRandomLengthString(64);
      summary.set(key, s);
      expected[as_written(key)] = as_written(s);
    }
  }
  summary.write(path);
  Json back;
  try {
    back = Json::parse(fuzz::read_file(path));  // strict: any invalid byte or syntax fails
  } catch (const Json::exception& e) {
    std::fprintf(stderr, "summary.json does not parse: %s\n", e.what());
    FUZZ_CHECK(false);
  }
  FUZZ_CHECK(back.is_object() && back.size() == expected.size());
  for (const auto& [key, value] : expected) FUZZ_CHECK(back.contains(key) && back[key] == value);
  return 0;
}
