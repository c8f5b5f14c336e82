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
// Exit code: 0 no regression, 1 at least one slower row, 2 bad input.
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
};

// "5%", "5" and "2.5" are percentages; throws UsageError otherwise (or when negative).
double parse_threshold_pct(const std::string& text);

enum class Verdict { faster, slower, same, missing, added };
const char* verdict_name(Verdict v);  // "faster", "slower", "same", "missing", "new"

struct CompareRow {
  // The key (from whichever file has the row).
  std::string backend, op, algo, mem, dtype, redop;
  bool inplace = false;
  int nranks = 0, ranks_per_node = 0;
  std::uint64_t bytes = 0;
  Verdict verdict = Verdict::same;
  std::optional<double> base_value, cand_value;  // the metric
  std::optional<double> change_pct;              // 100 * (cand - base) / base; sign as the metric's
  std::optional<double> p_value;                 // when the U test was applied
  std::string note;                              // why the U test was not applied, and the like
};

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
  bool regression() const { return slower > 0; }
};

// Throws UsageError for different or unknown schema versions and bad options.
CompareReport compare_results(const ResultsFile& base, const ResultsFile& cand, const CompareOptions& o);

// format: text | markdown | junit | csv.
std::string render_compare(const CompareReport& r, const std::string& format);

// Reads both files, prints warnings to stderr, writes the report; returns 0 or 1 (no regression,
// regression). Bad input throws UsageError.
int run_compare_command(const CompareOptions& o);

}  // namespace fb
