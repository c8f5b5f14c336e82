// validate's pair matrix apart from the command's state and MPI: the rounds of pairs, what a hang
// in a round is reported as, the matrix CSV, and one pair graded against the model's prediction
// of its two flows in the round. The command (harness/commands/validate.cpp) measures the rounds.
#pragma once

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "harness/stats.hpp"
#include "harness/validate.hpp"
#include "harness/validate_verdict.hpp"
#include "model/flows.hpp"

namespace fb {

using PairRounds = std::vector<std::vector<std::pair<int, int>>>;

// The pair matrix's rounds: disjoint pairs (round robin), or one pair a round with
// --pairs-alone; none with --no-pairs.
PairRounds pair_rounds(int n, const ValidateOptions& o);

// What a hang in this round is reported as: its pairs and their hosts ("pair 0 h0 <-> 2 h2, ...").
std::string round_context(const std::vector<std::string>& hostnames,
                          const std::vector<std::pair<int, int>>& round);

// The matrix CSV: header first, a line per pair as its round completes, flushed.
class MatrixWriter {
 public:
  explicit MatrixWriter(const std::string& path);
  void pair(const PairResult& p, const ValidateOptions& o);

 private:
  std::ofstream out_;
};

// Per-pair statistics of one round from every rank's samples (rank-major), each divided by `divisor`.
SampleStats pair_stats(const std::vector<double>& all, int iters, int a, int b, double divisor);

// The pair a <-> b of a round: `pa`, `pb` the model's predictions of its two directions in the
// round, `bw` and `lat` its measured statistics (bidir per op, pingpong one way). Fills the tier,
// bottleneck, bandwidth and latency against the model and their grades (not the hosts, transport,
// wrong data or overall grade); `expected_us` gets the model's bandwidth and latency times.
PairResult grade_pair(int a, int b, const model::FlowPrediction& pa, const model::FlowPrediction& pb,
                      const SampleStats& bw, const SampleStats& lat, const ValidateOptions& o,
                      double (&expected_us)[2]);

}  // namespace fb
