// validate's console (docs/validate.md): one table of pairs, a line per pair as its round
// completes; one table of the collectives, a line per row as it completes; then the WARN lines and
// the one verdict line. Rates in the unit a link is rated in (format_rate: GB/s inside a host,
// Gbit/s between hosts), times scaled ns/us/ms/s. The files (--csv, --json, --matrix-csv) keep
// every field in their fixed units; this is for people.
#pragma once

#include <string>
#include <vector>

#include "harness/validate.hpp"
#include "harness/validate_verdict.hpp"

namespace fb {

class ValidateConsole {
 public:
  // `hostnames`: one per rank (the widths of the hosts column).
  ValidateConsole(const ValidateOptions& o, const std::vector<std::string>& hostnames);

  // The pair table: its title and column header (once), then one line per pair.
  std::string pair_header() const;
  std::string pair_line(const PairResult& p) const;
  // The collectives table: header once (before the first row), a line per graded row. `bits`:
  // busbw in Gbit/s (the job spans hosts) rather than GB/s.
  std::string collective_header(bool bits) const;
  std::string collective_line(const CollectiveResult& c, bool bits) const;
  // After the tables: the hosts' tallies when a pair failed, the WARN lines, the verdict line.
  std::string ending(const Verdict& v, std::size_t npairs) const;

  // "pass", "warn (latency)", "FAIL (bandwidth, transport)", "WARN (faster than the model)".
  static std::string pair_verdict(const PairResult& p, bool transport_checked);

 private:
  const ValidateOptions& o_;
  std::vector<std::string> hostnames_;
  int hosts_width_ = 5;
  int pair_width_ = 4;
};

}  // namespace fb
