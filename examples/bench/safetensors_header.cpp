// Workload "safetensors-header": how long reading a safetensors header takes as the
// header grows, against Python's safetensors reading the same kind of file
// (safetensors_header.py next to this file prints the same rows).
//
// The file: K metadata entries "key.000000" -> "value 0", ... and one F32 tensor
// "w" = [0, 1, 2, 3]; K from --keys (default 1000,10000,80000). A header of 80,000
// keys is about 2.3 MB of JSON. What is timed: read_safetensors_metadata(path), the
// header read, parsed, validated and turned into the metadata map (Python:
// safe_open(path, "numpy").metadata()). Protocol: one warm-up read, then
// timed_repetitions(warm-up time) reads; median and min in milliseconds.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "examples/bench/bench.h"
#include "examples/bench/timing.h"
#include "tinyattn.h"

namespace {

std::string key_name(int64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key.%06lld", static_cast<long long>(i));
  return buf;
}

void run_safetensors_header(const bench::Options& opt, bench::Report& report) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("ta_bench_header_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "header.safetensors").string();
  for (const std::string& n : bench::split_commas(opt.value("keys", "1000,10000,80000"))) {
    if (!opt.selected(n)) continue;
    const int64_t keys = std::stoll(n);
    if (keys < 0) throw bench::UsageError("safetensors-header: --keys takes counts >= 0, got " + n);
    ta::Metadata meta;
    for (int64_t i = 0; i < keys; ++i) meta[key_name(i)] = "value " + std::to_string(i);
    ta::write_safetensors(path, {{"w", ta::Tensor::arange(0, 4)}}, meta);

    double t0 = bench::now_s();
    if (ta::read_safetensors_metadata(path).size() != meta.size())
      report.note("WARNING: the metadata read back has another size than written (" + n + " keys)");
    const double warm = bench::now_s() - t0;
    std::vector<double> ms;
    for (int r = 0; r < bench::timed_repetitions(warm); ++r) {
      t0 = bench::now_s();
      ta::Metadata back = ta::read_safetensors_metadata(path);
      ms.push_back((bench::now_s() - t0) * 1e3);
      bench::do_not_optimize(back.size());
    }
    const bench::Summary s = bench::summarize(ms);
    report.add("tinyattn", n, "ms_read_metadata", s.median, "ms");
    report.add("tinyattn", n, "ms_read_metadata_best", s.min, "ms");
    report.add("tinyattn", n, "header_bytes", static_cast<double>(std::filesystem::file_size(path) - 16 - 8), "bytes");
    report.describe(n, n + " metadata keys");
  }
  std::filesystem::remove_all(dir);
  report.note("ms_read_metadata: median of timed_repetitions reads after one warm-up read; "
              "Python's side: examples/bench/safetensors_header.py");
}

const bench::RegisterWorkload reg{{"safetensors-header",
                                   "reading a safetensors header of 1k to 80k metadata keys (ms), as Python's "
                                   "safetensors does in safetensors_header.py",
                                   run_safetensors_header,
                                   {{"keys", "N[,N...]", "metadata key counts (default 1000,10000,80000)"}}}};

}  // namespace
