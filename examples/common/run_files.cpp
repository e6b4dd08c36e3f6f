#include "examples/common/run_files.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "examples/common/flags.h"

namespace ta::examples {

namespace {

// The header and the rows of a log file with a step <= last_step (every row when
// the step does not read as a number: a row of someone else's file is not ours to
// drop). A log of an earlier version, whose columns are the first ones of `header`
// (columns were added since), is kept with empty cells in the new columns.
std::string rows_up_to(const std::string& path, const std::string& header, int64_t last_step) {
  std::ifstream in(path);
  std::string line, kept;
  const bool read = static_cast<bool>(std::getline(in, line));
  const bool older = read && line != header && header.starts_with(line + ",");
  TA_CHECK(read && (line == header || older), "log '", path, "' has columns '", line, "', expected '", header,
           "'; move it away or use another --out");
  const auto commas = [](const std::string& text) { return std::count(text.begin(), text.end(), ','); };
  const std::string new_cells(static_cast<size_t>(commas(header) - commas(line)), ',');
  kept = header + "\n";
  while (std::getline(in, line)) {
    int64_t step = 0;
    if (parse_whole_number(line.substr(0, line.find(',')), step) && step > last_step) continue;
    kept += line + new_cells + "\n";
  }
  return kept;
}

// Writes the log's starting contents and returns its path.
const std::string& start_log(const std::string& path, const std::string& header, LogStart start,
                             int64_t resumed_step) {
  const bool keep = start == LogStart::Continue && std::ifstream(path).good();
  write_file_atomically(path, keep ? rows_up_to(path, header, resumed_step) : header + "\n");
  return path;
}

}  // namespace

CsvLog::CsvLog(const std::string& path, std::vector<std::string> columns, LogStart start, int64_t resumed_step)
    : columns_(std::move(columns)), file_(start_log(path, join(columns_, ","), start, resumed_step)) {}

void CsvLog::row(const std::vector<std::string>& values) {
  TA_CHECK(values.size() == columns_.size(), "log '", file_.path(), "': a row of ", values.size(), " values for ",
           columns_.size(), " columns");
  file_.append(join(values, ",") + "\n");
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
    std::stringstream ls(line + ",");  // a last empty value is a value
    size_t i = 0;
    for (std::string c; i < names.size() && std::getline(ls, c, ','); ++i) out[names[i]].push_back(c);
    for (; i < names.size(); ++i) out[names[i]].push_back("");
  }
  return out;
}

viz::Series log_series(const std::map<std::string, std::vector<std::string>>& csv, const std::string& column,
                       const std::string& label) {
  viz::Series s{label, {}, {}};
  const auto steps = csv.find("step"), values = csv.find(column);
  if (steps == csv.end() || values == csv.end()) return s;
  for (size_t i = 0; i < steps->second.size() && i < values->second.size(); ++i) {
    double step = 0, value = 0;
    if (parse_finite_number(steps->second[i], step) && parse_finite_number(values->second[i], value))
      s.x.push_back(step), s.y.push_back(value);
  }
  return s;
}

void write_png_file(const std::string& path, const viz::Image& image) { write_file_atomically(path, viz::encode_png(image)); }

void write_training_curve(const std::string& log_path, const std::string& png_path, const TrainingCurve& curve) {
  const auto csv = read_csv(log_path);
  viz::Series train = log_series(csv, curve.train_column, "train");
  train.style = viz::SeriesStyle::Thin;
  const size_t window = std::max<size_t>(1, train.x.size() / 50);
  const viz::Series mean = viz::running_mean(train, window, cat("train, mean of ", window, " steps"));
  viz::Series baseline{curve.baseline_label, {}, {}, viz::SeriesStyle::Dashed};
  if (!train.x.empty()) baseline.x = {train.x.front(), train.x.back()}, baseline.y = {curve.baseline, curve.baseline};
  viz::PlotOptions o;
  o.title = curve.title;
  o.x_label = "step";
  o.y_label = curve.y_label;
  write_png_file(png_path, viz::plot({train, mean, log_series(csv, curve.eval_column, curve.eval_label), baseline}, o));
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
  std::string text = "{\n";
  for (size_t i = 0; i < entries_.size(); ++i)
    text += "  " + json_text(entries_[i].first) + ": " + entries_[i].second + (i + 1 < entries_.size() ? ",\n" : "\n");
  write_file_atomically(path, text + "}\n");
}

std::string fmt(double v) {
  if (std::isnan(v)) return "nan";  // not "-nan"
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace ta::examples
