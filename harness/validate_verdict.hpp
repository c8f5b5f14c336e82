// validate's verdict, apart from MPI and the console: every pair and collective row graded against
// the model, the worst links, the hosts to suspect, and the one line that ends the run. The
// command (harness/commands/validate.cpp) measures and prints; this decides. Unit-testable on
// rows from any source (tests/unit/test_validate_verdict.cpp feeds it published GPU rows).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "harness/record.hpp"
#include "harness/validate.hpp"

namespace fb {

// One pair of the all-pairs matrix, as measured and held against the model.
struct PairResult {
  int round = 0, a = 0, b = 0, tier = 0;
  std::string host_a, host_b, transport, transport_why, bottleneck;
  double bw_time_us = 0, bw_GBps = 0, model_bw_GBps = 0, bw_ratio = 0;
  double lat_us = 0, model_lat_us = 0, lat_ratio = 0;
  bool has_bw = false, has_lat = false;
  Grade bw = Grade::pass, lat = Grade::pass, overall = Grade::pass;
  std::uint64_t wrong = 0;
};

// One collective row against its model_time_us (ratio = model / measured time).
struct CollectiveResult {
  const Record* row = nullptr;
  double ratio = 0;
  Grade grade = Grade::pass;
  bool modelled = false;
};

struct HostTally {
  std::string host;
  int failing = 0, all = 0;  // pairs (or collective rows) it is part of / was slowest in
};

struct Verdict {
  Grade grade = Grade::pass;
  std::vector<CollectiveResult> collectives;
  std::vector<const PairResult*> worst_first;  // pairs, worst first
  int pair_counts[3] = {0, 0, 0};              // pass, warn, fail
  int coll_counts[3] = {0, 0, 0};
  std::uint64_t wrong = 0;
  std::vector<HostTally> hosts;  // every host, rank order: its pairs failing / all
  // Hosts most of whose pairs fail (a bad NIC or cable fails every pair of its host); without
  // failing pairs, the host that was slowest (Record::slowest_host) in most failing collective rows.
  std::vector<HostTally> suspects;
  bool suspects_from_collectives = false;
  std::string line;  // "validate: PASS|WARN|FAIL: why"
};

// `hostnames`: one per rank. `rank_name(r)` names a rank in the line ("host:rank").
Verdict judge(const std::vector<PairResult>& pairs, const std::vector<Record>& collective_rows,
              const ValidateOptions& o, const std::vector<std::string>& hostnames);

}  // namespace fb
