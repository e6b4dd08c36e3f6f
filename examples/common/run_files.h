// examples/common/run_files.h — what a training run writes: a CSV log of its
// metrics, a JSON summary, and the folder they live in; plus Ctrl-C handling.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace ta::examples {

// Creates the folder (and its parents) if missing; throws naming it on failure.
void make_dirs(const std::string& path);
bool file_exists(const std::string& path);

// A CSV file with a fixed header; each row is flushed at once so a crash loses
// nothing. When `append` and the file exists with the same header, rows are added
// (a resumed run continues its log).
class CsvLog {
 public:
  CsvLog(const std::string& path, const std::vector<std::string>& columns, bool append);
  ~CsvLog();
  CsvLog(const CsvLog&) = delete;
  CsvLog& operator=(const CsvLog&) = delete;
  void row(const std::vector<std::string>& values);

 private:
  std::string path_;
  size_t columns_;
  std::FILE* file_ = nullptr;
};

// Reads back a CSV written by CsvLog: column name -> values (as text).
std::map<std::string, std::vector<std::string>> read_csv(const std::string& path);

// A flat JSON object of numbers and strings, written atomically.
class JsonSummary {
 public:
  void set(const std::string& key, double value);
  void set(const std::string& key, const std::string& value);
  void write(const std::string& path) const;

 private:
  std::vector<std::pair<std::string, std::string>> entries_;  // key, JSON text of the value
};

// Ctrl-C: the first press asks the run to stop at the next step boundary (it then
// saves a checkpoint and exits); a second press exits at once.
void install_interrupt_handler();
bool interrupted();

}  // namespace ta::examples
