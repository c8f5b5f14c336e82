// Read results back: the CSV and JSON that the sinks write (results/SCHEMA.md), for calibrate,
// compare and report. Bad input is a UsageError naming FILE:LINE (CSV) or FILE: rows[i].field
// (JSON).
#pragma once

#include <string>
#include <vector>

#include "harness/provenance.hpp"
#include "harness/record.hpp"

namespace fb {

struct ResultsFile {
  std::string path;
  std::string format;  // "csv" | "json"
  int schema_version = 0;
  bool has_meta = false;  // JSON only
  RunMeta meta;
  std::string status;  // JSON only: "ok", "timeout", ...
  std::vector<Record> rows;
  // One per row, in the same order, when the file has provenance columns (published rows,
  // harness/provenance.hpp); empty when it has none.
  std::vector<Provenance> provenance;
};

ResultsFile read_results(const std::string& path);
// The same over a file's text (read_results reads the file and calls this); `path` stands for FILE
// in the messages and is kept in ResultsFile::path.
ResultsFile parse_results(const std::string& text, const std::string& path);

// The pair matrix `fabricbench validate --matrix` writes (one line per pair, as its round ends).
inline constexpr const char* kValidateMatrixHeader =
    "round,rank_a,rank_b,host_a,host_b,tier,transport,transport_ok,bw_bytes,bw_time_us,bw_GBps,model_bw_GBps,"
    "bw_ratio,bw_verdict,lat_bytes,lat_us,model_lat_us,lat_ratio,lat_verdict,bottleneck,wrong,verdict";

struct MatrixPair {
  int a = 0, b = 0;
  std::string host_a, host_b, transport, verdict;
  std::string bw_verdict, lat_verdict;   // each metric's own grade (pass/warn/fail; empty: not measured)
  double bw_ratio = -1, lat_ratio = -1;  // measured against the model (1 = as predicted); -1: not measured
};
struct ValidateMatrix {
  std::string path;
  int nranks = 0;                  // 1 + the highest rank named
  std::vector<std::string> hosts;  // per rank ("" when no pair names it)
  std::vector<MatrixPair> pairs;
};
// True when the file starts with kValidateMatrixHeader.
bool is_validate_matrix(const std::string& path);
// Throws UsageError "FILE:LINE: why" on anything that is not such a matrix.
ValidateMatrix read_validate_matrix(const std::string& path);

}  // namespace fb
