// `fabricbench report RESULTS... -o DIR`: plots (PNG and SVG) and an index.md / index.html of
// results files, drawn by scripts/fabricbench-plot.py through Debian's python3-matplotlib. No MPI.
//
// The C++ side validates every input (read_results: bad input is a UsageError naming FILE:LINE),
// checks that the plotting tool is there, groups the rows into series and writes them as a JSON
// "plot spec". Rows with a prediction from many runs (published rows, `model --against` output)
// are not series: they go to "Model against measurements", per fabric (model_fabric). The script draws into a
// staging directory next to DIR whose files are moved into DIR only when it succeeds, so bad input or a
// missing tool leaves no DIR and no partial files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fb {

struct ReportOptions {
  std::vector<std::string> inputs;   // CSV or JSON results (measured and/or `fabricbench model`)
  std::string output_dir;            // -o DIR
  std::vector<std::string> compare;  // --compare BASE CAND: a bar chart of the relative change
  std::string metric = "busbw";      // for --compare
  std::string title = "fabricbench report";
};

// A size for a plot label, in binary units: 1073741824 -> "1 GiB", 1536 -> "1.5 KiB", 8 -> "8 B"
// (sizes that are not exact in one decimal of a unit stay in bytes: "1000 B").
std::string size_label(std::uint64_t bytes);

// The interpreter: $FABRICBENCH_PYTHON, else /usr/bin/python3.
std::string report_python();

// scripts/fabricbench-plot.py: $FABRICBENCH_SCRIPTS, then where find_data_file looks (beside the
// binary, the install prefix, the source tree; harness/data_lookup.hpp).
// Throws UsageError when it is nowhere.
std::string find_plot_script();

// The JSON plot spec for the files (exposed for tests); compare_* may be empty.
std::string report_spec_json(const ReportOptions& o);

// Validates, plots, writes DIR/index.md and DIR/index.html; returns 0. Bad input or a missing
// plotting tool throws UsageError (exit 2); a plotting failure throws std::runtime_error.
int run_report_command(const ReportOptions& o);

}  // namespace fb
