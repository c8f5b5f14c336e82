#include "harness/timing.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace fb {

namespace {

class SampleTiming final : public Timing {
 public:
  explicit SampleTiming(const TestSpec& test) : iters_(test.iters), barrier_(test.sample_barrier) {}
  std::string name() const override { return "samples"; }
  bool batches() const override { return true; }

  std::vector<double> take(transports::World& world, transports::Backend& backend,
                           const transports::OpCall& call, int batch,
                           std::atomic<std::uint64_t>& progress) const override {
    std::vector<double> samples(static_cast<std::size_t>(iters_));
    world.barrier();
    if (barrier_) {
      // Every sample starts together on all ranks: the barrier completes the previous sample's
      // traffic first (quiesce), as a collective's own completion does not on every transport.
      for (int i = 0; i < iters_; ++i) {
        if (i > 0) {
          backend.quiesce();
          world.barrier();
        }
        backend.run_timed(call, 1, batch, &samples[static_cast<std::size_t>(i)], &progress);
      }
    } else {
      backend.run_timed(call, iters_, batch, samples.data(), &progress);
    }
    return samples;
  }

  TimingSummary summarise(const std::vector<double>& all, int nranks) const override {
    TimingSummary s;
    s.stats = compute_stats(all, nranks, iters_);
    s.headline = s.stats.p50;
    return s;
  }

 private:
  int iters_;
  bool barrier_;
};

class NcclTestsTiming final : public Timing {
 public:
  explicit NcclTestsTiming(const TestSpec& test)
      : iters_(test.iters), launches_(test.graph_launches), average_(test.average) {}
  std::string name() const override { return "nccl-tests/" + average_; }
  bool batches() const override { return false; }

  transports::OpCall timed_call(transports::OpCall call) const override {
    if (launches_ > 0) call.cuda_graph = iters_;  // -G: one graph of every iteration
    return call;
  }

  std::vector<double> take(transports::World& world, transports::Backend& backend,
                           const transports::OpCall& call, int /*batch*/,
                           std::atomic<std::uint64_t>& progress) const override {
    transports::OpCall c = call;
    c.cpu_time = true;  // the host clock around all ops and one synchronisation (or -C: the enqueue)
    const int ops = iters_ * std::max(1, launches_);
    world.barrier();
    double total_us = 0;
    backend.run_timed(c, 1, ops, &total_us, &progress);
    return {total_us / ops};
  }

  TimingSummary summarise(const std::vector<double>& all, int nranks) const override {
    if (static_cast<int>(all.size()) != nranks)
      throw std::invalid_argument("nccl-tests timing: one time per rank");
    TimingSummary s;
    SampleStats& st = s.stats;
    st.per_iter = all;  // one value per rank
    st.min = *std::min_element(all.begin(), all.end());
    st.max = *std::max_element(all.begin(), all.end());
    st.mean = std::accumulate(all.begin(), all.end(), 0.0) / static_cast<double>(all.size());
    st.p50 = percentile(all, 50);
    st.p99 = percentile(all, 99);
    st.slowest_rank = static_cast<int>(std::max_element(all.begin(), all.end()) - all.begin());
    st.slowest_share = 1.0;
    st.skew = st.p50 > 0 ? st.max / st.p50 : 0;
    s.headline = combine_ranks(all, average_);
    return s;
  }

 private:
  int iters_;
  int launches_;
  std::string average_;
};

}  // namespace

std::unique_ptr<Timing> Timing::make(const TestSpec& test) {
  if (test.timing == "nccl-tests") return std::make_unique<NcclTestsTiming>(test);
  return std::make_unique<SampleTiming>(test);
}

double combine_ranks(const std::vector<double>& per_rank, const std::string& how) {
  if (per_rank.empty()) return 0;
  if (how == "rank0") return per_rank.front();
  if (how == "min") return *std::min_element(per_rank.begin(), per_rank.end());
  if (how == "max") return *std::max_element(per_rank.begin(), per_rank.end());
  return std::accumulate(per_rank.begin(), per_rank.end(), 0.0) / static_cast<double>(per_rank.size());
}

}  // namespace fb
