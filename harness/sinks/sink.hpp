// Sinks render records: console table, CSV, JSON. The runner hands each completed row to every
// sink; a sink makes the row durable before returning (flushed CSV line, atomically replaced
// JSON file), so a crash or kill never loses a completed row or leaves a file unparseable.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "harness/record.hpp"

namespace fb {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void begin(const RunMeta& meta) = 0;
  virtual void row(const Record& r) = 0;
  // Called once when the run ends, normally or not; `status` is "ok", "wrong-data", "timeout",...
  virtual void end(const std::string& status) = 0;
  // run --cycles/--duration: the soak so far, after each cycle and each drift (before end());
  // a sink with no place for it ignores it.
  virtual void soak(const SoakSummary&) {}
};

// nccl-tests-shaped table: size, count, type, redop, root, place, time, algbw, busbw, #wrong, p99,
// slowest, batch; then algo (when it differs from the algo asked for), rate (pairwise ops) and,
// with show_model, the model's time and busbw and the ratio model time / time.
struct ConsoleOptions {
  bool show_model = false;  // run --fabric: the model columns
};
std::unique_ptr<Sink> make_console_sink(std::ostream& out, const ConsoleOptions& options = {});
// The console's last lines, at end(): per backend and op, "# summary mpi allreduce: PASS  12 rows,
// 0 wrong, worst time/model 1.34 at size 64K" (FAIL with wrong elements, UNCHECKED without checks;
// the model ratio when rows were predicted).
std::unique_ptr<Sink> make_summary_sink(std::ostream& out);
// CSV with a header; one line per row, flushed. Columns as results/SCHEMA.md.
std::unique_ptr<Sink> make_csv_sink(const std::string& path);
// JSON {schema_version, meta, rows:[...], status}; rewritten to a temporary file and renamed over
// `path` after every row, so the file on disk is always complete.
std::unique_ptr<Sink> make_json_sink(const std::string& path);

// Refuses the outputs of a command before any of them is opened. (1) Results are never replaced
// silently (a 6-hour run's only copy may be there): a path that exists throws UsageError "'PATH'
// exists (use --force to replace it)" unless `force`. (2) Outputs that cannot be written: opening
// the CSV sink truncates its file and the JSON sink renames over its target at once, so an output
// failing after another was opened would destroy what the earlier one held. Throws
// std::runtime_error naming the first path that is a directory, whose directory is missing or not
// writable, or that exists and is not writable. Empty paths (outputs not asked for) are skipped.
void check_outputs(const std::vector<std::string>& paths, bool force);

// The --csv/--json sinks of a command (either path may be empty), opened after check_outputs over
// them and `also` (the command's other outputs). When opening one fails, the files opened before it
// are removed and the error rethrown; remove() does the same for a caller whose later output fails.
struct FileSinks {
  std::vector<std::unique_ptr<Sink>> sinks;
  std::vector<std::string> created;
  void remove() const;
};
FileSinks open_file_sinks(const std::string& csv_path, const std::string& json_path, bool force,
                          const std::vector<std::string>& also = {});

// CSV column names in order (the header), and one record's fields in the same order.
const std::vector<std::string>& csv_columns();

}  // namespace fb
