// validate's verdict, apart from MPI and the console: every pair and collective row graded against
// the model, the worst links, the hosts to suspect, and the one line that ends the run. The
// command (harness/commands/validate.cpp) measures and prints; this decides. Unit-testable on
// rows from any source (tests/unit/test_validate_verdict.cpp feeds it published GPU rows).
#pragma once

#include <cstdint>
#include <map>
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
  bool bw_fast = false;  // bw_ratio above --max-ratio: faster than the model allows
  std::uint64_t wrong = 0;
  // The links of a flow collision that explains its lost bandwidth: it measured below --bw-pass in
  // its round, shared these links with the round's other flows, and passed measured alone
  // (grade_collided_pairs(), harness/validate_collisions.hpp). Its bandwidth is then graded warn,
  // a collision, not a bad host or link.
  std::vector<std::string> collided_on;
  double alone_bw_ratio = 0;  // its bandwidth ratio measured alone (with collided_on)
};

// A pair's overall grade: the worse of bandwidth and latency; a transport other than the fabric
// implies (unless --no-transport-check) or wrong data fails it.
Grade pair_grade(const PairResult& p, const ValidateOptions& o);

// One collective row against its model_time_us (ratio = model / measured time).
struct CollectiveResult {
  const Record* row = nullptr;
  double ratio = 0;
  Grade grade = Grade::pass;
  bool modelled = false;
  bool fast = false;  // ratio above --max-ratio: faster than the model allows
};

// One collective row graded (ratio = model / measured time; wrong data fails it).
CollectiveResult grade_collective(const Record& row, const ValidateOptions& o);
// Whether `ratio` (measured against the model, > 1 faster) is above the upper bound.
bool above_max_ratio(double ratio, const ValidateOptions& o);

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
  // Measurements faster than the model by more than --max-ratio: one "WARN: ..." line each,
  // naming the test; they make a passing verdict WARN, never FAIL (the exit code stays).
  std::vector<std::string> warnings;
  int fast = 0;  // measurements above --max-ratio (pairs and collective rows)
  // Pairs whose lost bandwidth a flow collision explains (PairResult::collided_on): warn, and the
  // line says so instead of suspecting their hosts; the links, in the pairs' order, once each.
  int collided = 0;
  std::vector<std::string> collision_links;
  std::string line;  // "validate: PASS|WARN|FAIL: why"
};

// `hostnames`: one per rank. `rank_name(r)` names a rank in the line ("host:rank").
Verdict judge(const std::vector<PairResult>& pairs, const std::vector<Record>& collective_rows,
              const ValidateOptions& o, const std::vector<std::string>& hostnames);

// What the watchdog found when the job stopped making progress (harness/watchdog.hpp).
struct HangFacts {
  std::string phase;                       // what the stalled ranks were doing (the most common phase)
  std::vector<int> silent;                 // ranks that did not answer the watchdog: stopped, or cut off
  std::vector<int> in_op;                  // ranks stalled inside an op
  std::vector<int> waiting;                // ranks stalled waiting for peers (gather, barrier)
  std::vector<std::pair<int, int>> round;  // the pairs in flight (pair matrix); empty: collectives
  double timeout_s = 0;
  std::map<int, std::string> lost_links;  // rank -> its host's links that went down ("fab0")
};

// The verdict of a job that hung (it exits 3): always FAIL, naming the suspects from, in order,
//   0. the hosts that lost a network link during the run (a pulled cable, a port gone down);
//   1. the hosts whose ranks stopped answering the watchdog (every rank of the host silent: the
//      host or its link is down; a rank alone: that rank stopped);
//   2. the ranks still inside the op when others had finished it and were waiting for them;
//   3. the pairs measured before the hang that failed (judge()'s suspect hosts, worst link);
//   4. the host slowest in the failing collective rows completed before the hang;
// else it says the link could not be isolated and how to find it (--no-collectives).
Verdict judge_hang(const std::vector<PairResult>& pairs, const std::vector<Record>& collective_rows,
                   const ValidateOptions& o, const std::vector<std::string>& hostnames,
                   const HangFacts& hang);

}  // namespace fb
