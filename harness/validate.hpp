// fabricbench validate: rack validation against the fabric model (docs/validate.md).
// The options and the checks; the command is harness/commands/validate.cpp.
//
//   1. the placement must fit the fabric file (ranks per host <= domain_size, hosts in rank order,
//      the same rank count on every host, no more hosts than the fabric holds): else exit 2;
//   2. an all-pairs matrix: every pair of ranks runs `bidir` (bandwidth, both directions at once)
//      and `pingpong` (latency), in rounds of disjoint pairs (a round-robin tournament: n-1 rounds
//      for even n, n for odd), or each pair alone (--pairs-alone); measured with the runner's own
//      measure() on the chosen backend, with explicit partners;
//   3. the collectives of a plan (default: ring all-reduce and pairwise all-to-all, 1 and 4 MiB);
//   4. every measurement held against the model for that fabric and placement: pairs against the
//      round's concurrent flows (model/flows.hpp), collectives against model::predict for the
//      algorithm that ran; ratio = expected time / measured time (bandwidth: measured / expected),
//      pass >= pass threshold, warn >= warn threshold, fail below; a bandwidth or collective
//      ratio above --max-ratio (faster than the model by more than that) is a warning naming the
//      test: the model may be wrong (exit code unchanged);
//   5. a transport check per pair: inside a host shared memory, between hosts the fabric's network
//      transport (scale_out.transport: rdma or tcp), as the backend reports the connection;
//   6. a verdict naming the worst links and hosts; exit 0 pass (warnings allowed), 1 fail; a hang
//      ends with exit 3 and a verdict line naming the suspects (validate_verdict.hpp judge_hang()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/config.hpp"
#include "model/fabric.hpp"

namespace fb {

struct ValidateOptions {
  std::string fabric;
  std::vector<std::string> sets;
  std::string plan_path;                // collectives; empty: the built-in default
  std::string backend;                  // empty: ucx when compiled in, else mpi
  std::uint64_t bw_bytes = 1ull << 20;  // message of the bandwidth (bidir) test
  std::uint64_t lat_bytes = 8;          // message of the latency (pingpong) test
  int iters = 5;                        // timed samples per pair measurement
  int warmup = 1;
  bool pairs_alone = false;  // one pair at a time instead of rounds of disjoint pairs
  bool no_pairs = false;
  bool no_collectives = false;
  bool no_transport_check = false;
  double bw_pass = 0.85, bw_warn = 0.70;    // measured / expected bandwidth
  double lat_pass = 0.50, lat_warn = 0.25;  // expected / measured latency
  // Upper bound: a bandwidth (pair) or collective ratio above it warns that the model may be
  // wrong; 0 = off.
  double max_ratio = 1.25;
  std::string mem;  // buffer memory (host, cuda); "": the backend's own
  std::string matrix_csv;
  std::string csv_path, json_path;
  double timeout_s = 120;
  bool quiet = false;
  bool force = false;  // replace existing --csv/--json/--matrix-csv files
  std::string command_line;
  std::vector<TestSpec> tests;  // the collectives, resolved at parse time
  std::string canonical() const;
};

// The built-in collectives: ring all-reduce and pairwise all-to-all at 1 and 4 MiB, in `mem`
// ("": the backend's own memory).
std::vector<TestSpec> default_validate_tests(const std::string& backend, const std::string& mem = "");

// Rounds of disjoint pairs covering every pair of n ranks once (the circle method): n-1 rounds
// of n/2 pairs for even n, n rounds of (n-1)/2 pairs (one rank sits out) for odd n. Pairs are
// (lower, higher).
std::vector<std::vector<std::pair<int, int>>> round_robin_rounds(int n);

// The console's units, fitted to the magnitude: a rate in GB/s (1e9 B/s) as "812 MB/s" or
// "45.2 GB/s", or with `bits` (links rated in Gbit/s: between hosts) as "28.3 Mbit/s" or
// "98.4 Gbit/s"; a time in microseconds as "850 ns", "12.3 us", "4.56 ms" or "1.92 s". Three
// significant digits (vocab/units' format_rate_GBps, format_rate_Gbitps, format_duration_us).
std::string format_rate(double GBps, bool bits);
std::string format_time_us(double us);

enum class Grade { pass, warn, fail };
const char* grade_name(Grade v);
// ratio >= pass: pass; >= warn: warn; else fail.
Grade classify(double ratio, double pass, double warn);

// Why this placement does not fit the fabric (one line), or nullopt. `rank_hosts`: one per rank.
std::optional<std::string> placement_mismatch(const model::Fabric& f,
                                              const std::vector<std::string>& rank_hosts);

// The transport class of one UCX transport name: "shm" (posix, sysv, cma, xpmem, knem, self),
// "rdma" (rc, dc, ud, srd and their _mlx5/_verbs forms), "tcp", or "other".
std::string transport_class(const std::string& name);
// Whether `transport` ("a+b", as the backend reports it) is what a pair at `tier` (0: same host)
// should use on a fabric whose network transport is `expected_net` ("rdma", "tcp" or "any");
// nullopt when it is, else why not. An empty transport (the backend cannot tell) passes.
std::optional<std::string> transport_mismatch(const std::string& transport, int tier,
                                              const std::string& expected_net);

}  // namespace fb
