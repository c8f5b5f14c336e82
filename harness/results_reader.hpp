// Read results back: the CSV and JSON that the sinks write (results/SCHEMA.md), for calibrate,
// compare and report. Bad input is a UsageError naming FILE:LINE (CSV) or FILE: rows[i].field
// (JSON).
#pragma once

#include <string>
#include <vector>

#include "harness/record.hpp"

namespace fb {

struct ResultsFile {
  std::string path;
  std::string format;        // "csv" | "json"
  int schema_version = 0;
  bool has_meta = false;     // JSON only
  RunMeta meta;
  std::string status;        // JSON only: "ok", "timeout", ...
  std::vector<Record> rows;
};

ResultsFile read_results(const std::string& path);
// The same over a file's text (read_results reads the file and calls this); `path` stands for FILE
// in the messages and is kept in ResultsFile::path.
ResultsFile parse_results(const std::string& text, const std::string& path);

}  // namespace fb
