// --timing: nccl-tests' method (one time per rank, combined by -a) against the samples method.
#include <gtest/gtest.h>

#include <vector>

#include "harness/timing.hpp"

namespace fb {
namespace {

TEST(Timing, CombineRanksAsNcclTestsA) {
  const std::vector<double> t = {4.0, 2.0, 9.0};
  EXPECT_DOUBLE_EQ(combine_ranks(t, "rank0"), 4.0);
  EXPECT_DOUBLE_EQ(combine_ranks(t, "avg"), 5.0);
  EXPECT_DOUBLE_EQ(combine_ranks(t, "min"), 2.0);
  EXPECT_DOUBLE_EQ(combine_ranks(t, "max"), 9.0);
}

TEST(Timing, NcclTestsIsOneTimePerRankAveragedByDefault) {
  TestSpec t;
  t.iters = 7;
  t.timing = "nccl-tests";
  const auto timing = Timing::make(t);
  EXPECT_EQ(timing->name(), "nccl-tests/avg");
  EXPECT_FALSE(timing->batches());
  const TimingSummary s = timing->summarise({4.0, 2.0, 9.0}, 3);
  EXPECT_DOUBLE_EQ(s.headline, 5.0);
  EXPECT_DOUBLE_EQ(s.stats.min, 2.0);
  EXPECT_DOUBLE_EQ(s.stats.max, 9.0);
  EXPECT_EQ(s.stats.slowest_rank, 2);
  EXPECT_EQ(s.stats.per_iter, (std::vector<double>{4.0, 2.0, 9.0}));
  EXPECT_THROW(timing->summarise({1.0, 2.0}, 3), std::invalid_argument);
}

TEST(Timing, NcclTestsGraphHoldsEveryIteration) {
  TestSpec t;
  t.iters = 20;
  t.timing = "nccl-tests";
  t.graph_launches = 3;
  transports::OpCall c;
  EXPECT_EQ(Timing::make(t)->timed_call(c).cuda_graph, 20);
  t.graph_launches = 0;
  EXPECT_EQ(Timing::make(t)->timed_call(c).cuda_graph, 0);
}

TEST(Timing, SamplesIsTheMedianOfTheSlowestRankPerSample) {
  TestSpec t;
  t.iters = 3;
  const auto timing = Timing::make(t);
  EXPECT_EQ(timing->name(), "samples");
  EXPECT_TRUE(timing->batches());
  // rank-major: rank 0 {1, 5, 3}, rank 1 {2, 4, 6}: per-sample max {2, 5, 6}, median 5
  const TimingSummary s = timing->summarise({1, 5, 3, 2, 4, 6}, 2);
  EXPECT_DOUBLE_EQ(s.headline, 5.0);
}

}  // namespace
}  // namespace fb
