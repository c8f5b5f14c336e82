// `fabricbench model --against FILE...`: the model's prediction beside every row of results
// files (published, measured or model output) that maps to a fabric, the error per row, and its
// median and maximum by op, by fabric and overall. No MPI here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/provenance.hpp"
#include "harness/record.hpp"

namespace fb {

struct AgainstOptions {
  std::vector<std::string> files;
  std::vector<std::string> trust;       // keep rows of these grades (and rows without one); empty: all
  std::uint64_t min_bytes = 0;          // keep rows with bytes >= this
  std::uint64_t max_bytes = 0;          // and <= this (0: no bound)
  std::optional<double> max_error_pct;  // exit 1 when the largest |error| exceeds it
};

// The --against options as the command line gives them: --trust A,B; --min-bytes/--max-bytes
// sizes (32M); --max-error a percentage (20 or 20%). `given` names the model options on the
// command line: the sweep's (--op, --bytes, --algo, --protocol, --gpus, --ranks-per-domain) do
// not apply to --against, the others only to it. Throws UsageError "command line: ...".
struct AgainstTexts {
  std::string trust, min_bytes, max_bytes, max_error;
};
void parse_against_options(const AgainstTexts& t, const std::vector<std::string>& given, AgainstOptions& a);

struct ModelOptions;
// Runs the command with ModelOptions' --fabric (rows that name none), --set (after each row's
// fabric_set), --csv/--json/--force/--quiet. 0, or 1 past --max-error; UsageError on bad input.
int run_model_against(const ModelOptions& o);

// One row's fabric and placement: the row's `fabric` column, else its model_fabric, else
// `fallback`; overrides "nccl_version=" the release the row's nccl_version starts with (if any),
// the row's fabric_set, then `sets`; ranks per domain its ranks_per_domain, else ranks_per_node.
struct RowTarget {
  std::string fabric;
  std::vector<std::string> sets;
  std::uint64_t ranks_per_domain = 1;
};
RowTarget row_target(const Record& r, const Provenance* p, const std::string& fallback,
                     const std::vector<std::string>& sets);
// The model's algorithm and protocol for a row: model output's own (nccl_ring/simple), an nccl
// row's ALGO alone (forced, protocol NCCL's) as that algorithm with protocol auto, else
// model_algorithm_for (harness/sinks/annotate.hpp).
std::pair<std::string, std::string> against_algorithm(const Record& r);

// Median and maximum |error| of a group of rows.
struct ErrorSummary {
  std::size_t rows = 0;
  double median_abs = 0, max_abs = 0;
};
ErrorSummary summarize(const std::vector<double>& errors_pct);

}  // namespace fb
