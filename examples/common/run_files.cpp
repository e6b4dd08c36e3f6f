#include "examples/common/run_files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <csignal>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ta::examples {

// Creates each prefix of the path that ends at a '/', then the path itself.
void make_dirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    const std::string prefix = path.substr(0, i);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      throw Error(cat("cannot create folder '", prefix, "': ", std::strerror(errno)));
  }
}

bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

static std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += v[i];
  }
  return s;
}

CsvLog::CsvLog(const std::string& path, const std::vector<std::string>& columns, bool append)
    : path_(path), columns_(columns.size()) {
  const std::string header = join(columns);
  bool keep = false;
  if (append && file_exists(path)) {
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    TA_CHECK(first == header, "log '", path, "' has columns '", first, "', expected '", header,
             "'; move it away or use another --out");
    keep = true;
  }
  file_ = std::fopen(path.c_str(), keep ? "a" : "w");
  TA_CHECK(file_ != nullptr, "cannot open log '", path, "' for writing");
  if (!keep) {
    std::fprintf(file_, "%s\n", header.c_str());
    std::fflush(file_);
  }
}

CsvLog::~CsvLog() {
  if (file_) std::fclose(file_);
}

void CsvLog::row(const std::vector<std::string>& values) {
  TA_CHECK(values.size() == columns_, "log '", path_, "': a row of ", values.size(), " values for ", columns_,
           " columns");
  std::fprintf(file_, "%s\n", join(values).c_str());
  std::fflush(file_);
}

std::map<std::string, std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  TA_CHECK(in.good(), "cannot read '", path, "'");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> names;
  std::stringstream hs(line);
  for (std::string c; std::getline(hs, c, ',');) names.push_back(c);
  std::map<std::string, std::vector<std::string>> out;
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    size_t i = 0;
    for (std::string c; std::getline(ls, c, ',') && i < names.size(); ++i) out[names[i]].push_back(c);
  }
  return out;
}

// nlohmann-json writes the text of each key and value: strings escaped as JSON
// requires (invalid UTF-8 replaced by U+FFFD rather than failing at the end of a
// run), non-finite numbers as null, finite ones so that they read back exactly.
static std::string json_text(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void JsonSummary::set(const std::string& key, double value) { entries_.emplace_back(key, json_text(value)); }
void JsonSummary::set(const std::string& key, const std::string& value) { entries_.emplace_back(key, json_text(value)); }

void JsonSummary::write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    TA_CHECK(out.good(), "cannot write '", tmp, "'");
    out << "{\n";
    for (size_t i = 0; i < entries_.size(); ++i)
      out << "  " << json_text(entries_[i].first) << ": " << entries_[i].second << (i + 1 < entries_.size() ? "," : "")
          << "\n";
    out << "}\n";
  }
  TA_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename '", tmp, "' to '", path, "'");
}

static volatile std::sig_atomic_t interrupt_count = 0;

static void on_interrupt(int) {
  interrupt_count = interrupt_count + 1;
  if (interrupt_count >= 2) _exit(130);
}

void install_interrupt_handler() { std::signal(SIGINT, on_interrupt); }
bool interrupted() { return interrupt_count > 0; }

}  // namespace ta::examples
