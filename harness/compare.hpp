// `fabricbench compare BASE CAND`: match the rows of two results files (CSV or JSON, any mix) on
// their key, classify each row faster / slower / same / missing / new, and gate CI on the
// verdict. No MPI here.
//
// A matched row is compared on --metric (busbw: higher is better; time_p50, time_p99: lower is
// better). When both rows carry per-iteration samples (JSON samples_us) with at least
// --min-samples values each, the row is slower (faster) only when the two-sided Mann-Whitney U
// test on the samples gives p < --alpha AND the metric is worse (better) by more than
// --threshold percent. Otherwise (CSV input, too few samples) the relative change of the metric
// against the threshold alone decides, and the report says the U test was not applied and why.
// The gate (docs/ci-gate.md) also fails when rows of BASE are missing from CAND (beyond
// --allow-missing), when CAND's status (JSON) is not "ok", when a CAND row has wrong data, and when
// no row matched at all. Exit code: 0 pass, 1 the gate failed (a slower row or one of those), 2 bad
// input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/results_reader.hpp"

namespace fb {

struct CompareOptions {
  std::string base, cand;        // paths
  std::string metric = "busbw";  // busbw | time_p50 | time_p99
  double threshold_pct = 5;      // a percentage: 5 (or "5%") means 5 %
  double alpha = 0.05;
  int min_samples = 8;
  std::string format = "text";  // text | markdown | junit | csv
  std::string output;           // report file; empty: stdout
  bool force = false;           // replace an existing --output file (refused otherwise)
  int allow_missing = 0;        // base rows that may be missing from cand: 0 none, N up to N, -1 any
};

// --allow-missing's value: "", "all" or "true" (the bare flag) is any number (-1), else a count >= 0;
// UsageError otherwise.
int parse_allow_missing(const std::string& text);

// "5%", "5" and "2.5" are percentages; throws UsageError naming `option` otherwise (or when
// negative).
double parse_threshold_pct(const std::string& text, const std::string& option = "threshold");

enum class Verdict { faster, slower, same, missing, added };
const char* verdict_name(Verdict v);  // "faster", "slower", "same", "missing", "new"

struct CompareRow {
  // The key (from whichever file has the row).
  std::string backend, op, algo, mem, dtype, redop;
  bool inplace = false;
  int nranks = 0, ranks_per_node = 0;
  std::uint64_t bytes = 0;
  std::string group;   // run --split's layout, "" without it
  int ngroups = 1;     // run --split: the groups that ran at once
  std::string counts;  // alltoallv / MoE: the counts distribution, "" for other ops
  Verdict verdict = Verdict::same;
  std::optional<double> base_value, cand_value;  // the metric
  std::optional<double> change_pct;              // 100 * (cand - base) / base; sign as the metric's
  std::optional<double> p_value;                 // when the U test was applied
  std::string note;                              // why the U test was not applied, and the like
  std::string u_skipped;                         // why the U test was not applied ("" when it was)
  std::uint64_t cand_wrong = 0;                  // wrong elements in cand's row
};

// "GB/s" for busbw, "us" for the times.
const char* metric_unit(const std::string& metric);
// The items comma-separated; "(none)" when there are none.
std::string join_list(const std::vector<std::string>& v);

// The key of a row as one line: "mpi allreduce native host float32 sum n=2 rpn=2 1024 B".
std::string key_text(const CompareRow& r);
std::string key_text(const Record& r);

// One base row against the cand row of the same key, as compare judges every matched row: the
// change of o.metric, the U test on the samples where both have o.min_samples, the verdict
// (faster, slower or same) against o.threshold_pct. run --cycles judges drift with it.
CompareRow compare_pair(const Record& base, const Record& cand, const CompareOptions& o);

struct OpSummary {
  std::string op;
  int matched = 0;           // rows in the geometric mean
  double geomean_ratio = 1;  // cand / base of the metric
};

struct CompareReport {
  CompareOptions options;
  std::string base_desc, cand_desc;  // "PATH (json, 12 rows)"
  std::vector<CompareRow> rows;      // in BASE's order, then the new rows in CAND's order
  std::vector<OpSummary> ops;
  std::vector<std::string> warnings;  // without the "fabricbench: warning: " prefix
  int faster = 0, slower = 0, same = 0, missing = 0, added = 0;
  int u_applied = 0;                       // matched rows the U test decided
  std::vector<std::string> u_not_applied;  // "N rows: why", one per reason
  std::string cand_status;                 // JSON only; "" for CSV
  int cand_wrong_rows = 0;                 // cand rows with wrong data
  // Why the gate fails besides slower rows, one each: kind "missing" (rows of base not in cand
  // beyond --allow-missing), "status" (cand's JSON status is not ok), "wrong-data" (cand rows with
  // wrong elements), "no-match" (no row matched); message: one line for the reports.
  struct GateFailure {
    std::string kind, message;
  };
  std::vector<GateFailure> gate_failures;
  bool gate_failed(const std::string& kind) const;
  bool regression() const { return slower > 0; }
  bool failed() const { return regression() || !gate_failures.empty(); }
};

// Throws UsageError for different or unknown schema versions and bad options.
CompareReport compare_results(const ResultsFile& base, const ResultsFile& cand, const CompareOptions& o);

// format: text | markdown | junit | csv.
std::string render_compare(const CompareReport& r, const std::string& format);

// Reads both files, prints warnings to stderr, writes the report (an existing -o file only with
// --force); returns 0 (pass) or 1 (the gate failed). Bad input throws UsageError.
int run_compare_command(const CompareOptions& o);

}  // namespace fb
