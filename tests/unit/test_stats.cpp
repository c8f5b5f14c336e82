// fb::compute_stats and fb::percentile against hand-computed values.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "harness/stats.hpp"

namespace fb {
namespace {

TEST(Percentile, InterpolatesLinearlyBetweenClosestRanks) {
  // numpy.percentile([1, 2, 3, 4], p): position (n-1)*p/100.
  const std::vector<double> v{4, 1, 3, 2};  // unsorted on purpose
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1.0);
  EXPECT_DOUBLE_EQ(percentile(v, 25), 1.75);  // position 0.75
  EXPECT_DOUBLE_EQ(percentile(v, 50), 2.5);   // position 1.5
  EXPECT_DOUBLE_EQ(percentile(v, 75), 3.25);  // position 2.25
  EXPECT_DOUBLE_EQ(percentile(v, 100), 4.0);
}

TEST(Percentile, OddCountMedianIsTheMiddleElement) {
  EXPECT_DOUBLE_EQ(percentile({10, 30, 20}, 50), 20.0);
  EXPECT_DOUBLE_EQ(percentile({5, 1, 9, 7, 3}, 50), 5.0);
}

TEST(Percentile, P99OfOneToTen) {
  // numpy.percentile(range(1, 11), 99) == 9.91: position 8.91 between 9 and 10.
  std::vector<double> v;
  for (int i = 1; i <= 10; ++i) v.push_back(i);
  EXPECT_NEAR(percentile(v, 99), 9.91, 1e-12);
  EXPECT_NEAR(percentile(v, 90), 9.1, 1e-12);
}

TEST(Percentile, SingleValueIsEveryPercentile) {
  EXPECT_DOUBLE_EQ(percentile({7.5}, 0), 7.5);
  EXPECT_DOUBLE_EQ(percentile({7.5}, 50), 7.5);
  EXPECT_DOUBLE_EQ(percentile({7.5}, 99), 7.5);
  EXPECT_DOUBLE_EQ(percentile({7.5}, 100), 7.5);
}

TEST(Percentile, RejectsEmptyAndOutOfRange) {
  EXPECT_THROW(percentile({}, 50), std::invalid_argument);
  EXPECT_THROW(percentile({1, 2}, -1), std::invalid_argument);
  EXPECT_THROW(percentile({1, 2}, 100.5), std::invalid_argument);
}

// Three ranks, four samples (rank-major):
//   rank 0: 1 5 2 2
//   rank 1: 3 1 2 7
//   rank 2: 2 4 6 1
// max over ranks: 3 (r1) 5 (r0) 6 (r2) 7 (r1).
TEST(ComputeStats, HandComputedExample) {
  const std::vector<double> times{1, 5, 2, 2, 3, 1, 2, 7, 2, 4, 6, 1};
  const SampleStats s = compute_stats(times, 3, 4);
  EXPECT_EQ(s.per_iter, (std::vector<double>{3, 5, 6, 7}));
  EXPECT_DOUBLE_EQ(s.min, 3);
  EXPECT_DOUBLE_EQ(s.max, 7);
  EXPECT_DOUBLE_EQ(s.mean, 5.25);
  EXPECT_DOUBLE_EQ(s.p50, 5.5);     // sorted 3 5 6 7, position 1.5
  EXPECT_NEAR(s.p99, 6.97, 1e-12);  // position 2.97
  EXPECT_EQ(s.slowest_rank, 1);     // last in samples 0 and 3
  EXPECT_DOUBLE_EQ(s.slowest_share, 0.5);
  // Per-rank medians: 2, 2.5, 3; their median 2.5; skew = 3 / 2.5.
  EXPECT_DOUBLE_EQ(s.skew, 1.2);
}

TEST(ComputeStats, OneRankIsItsOwnMaximum) {
  const SampleStats s = compute_stats({4, 2, 8}, 1, 3);
  EXPECT_EQ(s.per_iter, (std::vector<double>{4, 2, 8}));
  EXPECT_DOUBLE_EQ(s.min, 2);
  EXPECT_DOUBLE_EQ(s.p50, 4);
  EXPECT_DOUBLE_EQ(s.mean, 14.0 / 3);
  EXPECT_DOUBLE_EQ(s.max, 8);
  EXPECT_EQ(s.slowest_rank, 0);
  EXPECT_DOUBLE_EQ(s.slowest_share, 1.0);
  EXPECT_DOUBLE_EQ(s.skew, 1.0);
}

TEST(ComputeStats, TieWithinASampleGoesToTheLowestRank) {
  // Ranks 1 and 2 are both last; rank 1 takes it.
  const SampleStats s = compute_stats({1, 5, 5}, 3, 1);
  EXPECT_EQ(s.slowest_rank, 1);
  EXPECT_DOUBLE_EQ(s.slowest_share, 1.0);
}

TEST(ComputeStats, TieInCountsGoesToTheLowestRank) {
  // Rank 2 is last in sample 0, rank 1 in sample 1: one each, rank 1 wins.
  const SampleStats s = compute_stats({1, 1, 2, 9, 8, 2}, 3, 2);
  EXPECT_EQ(s.per_iter, (std::vector<double>{8, 9}));
  EXPECT_EQ(s.slowest_rank, 1);
  EXPECT_DOUBLE_EQ(s.slowest_share, 0.5);
}

TEST(ComputeStats, MostFrequentLastRankWinsOverTheSingleSlowestSample) {
  // Rank 0 has the largest single time, but rank 1 is last in three samples of four.
  const SampleStats s = compute_stats({100, 1, 1, 1, 2, 2, 2, 2}, 2, 4);
  EXPECT_EQ(s.slowest_rank, 1);
  EXPECT_DOUBLE_EQ(s.slowest_share, 0.75);
  EXPECT_DOUBLE_EQ(s.max, 100);
}

TEST(ComputeStats, SkewIsOneWhenMedianOfMediansIsZero) {
  const SampleStats zeros = compute_stats({0, 0, 0, 0}, 2, 2);
  EXPECT_DOUBLE_EQ(zeros.skew, 1.0);
  EXPECT_EQ(zeros.slowest_rank, 0);
  // Three ranks with medians 0, 0, 5: the median of the medians is 0.
  const SampleStats one_slow = compute_stats({0, 0, 0, 0, 5, 5}, 3, 2);
  EXPECT_DOUBLE_EQ(one_slow.skew, 1.0);
}

TEST(ComputeStats, SkewSeesOneSlowRank) {
  // Four ranks; per-rank medians 10, 10, 10, 40; median of medians 10; skew 4.
  const SampleStats s = compute_stats({10, 10, 10, 10, 10, 10, 40, 40}, 4, 2);
  EXPECT_DOUBLE_EQ(s.skew, 4.0);
  EXPECT_EQ(s.slowest_rank, 3);
  EXPECT_DOUBLE_EQ(s.slowest_share, 1.0);
  // Even rank count: medians 1, 2, 3, 4 -> median of medians 2.5, skew 4 / 2.5.
  const SampleStats even = compute_stats({1, 2, 3, 4}, 4, 1);
  EXPECT_DOUBLE_EQ(even.skew, 1.6);
}

TEST(ComputeStats, RejectsBadShapes) {
  EXPECT_THROW(compute_stats({1, 2, 3}, 2, 2), std::invalid_argument);  // 3 != 2 x 2
  EXPECT_THROW(compute_stats({1, 2, 3, 4, 5}, 2, 2), std::invalid_argument);
  EXPECT_THROW(compute_stats({}, 1, 0), std::invalid_argument);
  EXPECT_THROW(compute_stats({}, 0, 1), std::invalid_argument);
  EXPECT_THROW(compute_stats({1}, 1, -1), std::invalid_argument);
  EXPECT_THROW(compute_stats({1}, -1, 1), std::invalid_argument);
  EXPECT_THROW(compute_stats({}, 0, 0), std::invalid_argument);
}

}  // namespace
}  // namespace fb
