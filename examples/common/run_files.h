// examples/common/run_files.h — the files a training run writes besides its
// checkpoints: a CSV log of its metrics, a JSON summary, PNG pictures. Every one
// goes through atomic_file.h: whole and checked, or an Error naming the path.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "examples/common/atomic_file.h"
#include "viz/plot.h"

namespace ta::examples {

enum class LogStart { Fresh, Continue };

// A CSV file with a fixed header whose first column is the step; each row is
// appended at once (atomic_file.h: a failed append is an Error, no half row).
// Fresh writes the header (replacing any earlier file). Continue (a resumed run)
// keeps an existing file with the same header (or that of an earlier version,
// whose columns were the first ones: the rows get empty cells in the new columns;
// another header is an Error), minus
// the rows after `resumed_step`: those were written after the checkpoint the run
// continues from, and the run writes them again.
class CsvLog {
 public:
  CsvLog(const std::string& path, std::vector<std::string> columns, LogStart start, int64_t resumed_step = 0);
  void row(const std::vector<std::string>& values);
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  std::vector<std::string> columns_;
  AppendFile file_;
};

// Reads back a CSV written by CsvLog: column name -> values (as text).
std::map<std::string, std::vector<std::string>> read_csv(const std::string& path);

// The points (step, value) of one column of a log read by read_csv, rows where it
// is empty skipped.
viz::Series log_series(const std::map<std::string, std::vector<std::string>>& csv, const std::string& column,
                       const std::string& label);

// A PNG picture, written with write_file_atomically.
void write_png_file(const std::string& path, const viz::Image& image);

// What the training programs draw in curve.png: the log's training column (thin) and
// its running mean over about a fiftieth of its points, its evaluation column, and a
// dashed line at a baseline's level across the steps trained.
struct TrainingCurve {
  std::string train_column, eval_column, eval_label;
  std::string baseline_label;
  double baseline = 0;
  std::string title, y_label;
};
// Reads the log at log_path (read_csv) and writes the curve's PNG to png_path.
void write_training_curve(const std::string& log_path, const std::string& png_path, const TrainingCurve& curve);

// A flat JSON object of numbers and strings, written with write_file_atomically.
class JsonSummary {
 public:
  void set(const std::string& key, double value);
  void set(const std::string& key, const std::string& value);
  void write(const std::string& path) const;

 private:
  std::vector<std::pair<std::string, std::string>> entries_;  // key, JSON text of the value
};

// "%.6g" of a number: how logs and messages print metrics.
std::string fmt(double v);

}  // namespace ta::examples
