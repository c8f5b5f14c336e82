// How a row's times are taken and summarised (--timing): one strategy per method, for every
// backend.
//
//   samples     each of the -n samples is timed (device events on nccl, the host clock elsewhere);
//               a sample's time is its slowest rank's; the row is the median over samples.
//   nccl-tests  nccl-tests' method: -n ops enqueued back to back, timed with the host clock
//               around all of them and one synchronisation (-G: a graph of all -n ops launched N
//               times), divided by the ops; the ranks' times combined by -a (avg by default).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/config.hpp"
#include "harness/stats.hpp"
#include "transports/backend.hpp"

namespace fb {

struct TimingSummary {
  SampleStats stats;  // per_iter and the statistics, before dividing by the ops of a sample
  double headline = 0;
};

class Timing {
 public:
  virtual ~Timing() = default;
  static std::unique_ptr<Timing> make(const TestSpec& test);
  // The rows' timing field: "samples", "nccl-tests/avg", "nccl-tests/rank0", ...
  virtual std::string name() const = 0;
  // Whether the runner may put several ops in a sample (--batch); nccl-tests' ops are its -n.
  virtual bool batches() const = 0;
  // The call as this method times it (nccl-tests -G: a graph of all iterations).
  virtual transports::OpCall timed_call(transports::OpCall call) const { return call; }
  // This rank's samples of `batch` ops each (collective: every rank calls it).
  virtual std::vector<double> take(transports::World& world, transports::Backend& backend,
                                   const transports::OpCall& call, int batch,
                                   std::atomic<std::uint64_t>& progress) const = 0;
  // Rank 0: every rank's samples (rank-major) summarised.
  virtual TimingSummary summarise(const std::vector<double>& all, int nranks) const = 0;
};

// nccl-tests' -a over the ranks' times: "rank0", "avg", "min" or "max".
double combine_ranks(const std::vector<double>& per_rank, const std::string& how);

}  // namespace fb
