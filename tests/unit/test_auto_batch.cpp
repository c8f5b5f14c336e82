// --batch auto's decision (harness/runner.hpp auto_batch): samples of at least kAutoBatchTargetUs,
// in powers of two, so ops of nearly equal time get the same factor.
#include <gtest/gtest.h>

#include "harness/runner.hpp"

namespace fb {
namespace {

TEST(AutoBatch, TheTargetIsTwentyMicroseconds) {
  // The help text, results/SCHEMA.md and docs/output.md state this number.
  EXPECT_EQ(kAutoBatchTargetUs, 20.0);
}

TEST(AutoBatch, OpsAtOrAboveTheTargetAreNotBatched) {
  EXPECT_EQ(auto_batch(20.0), 1);
  EXPECT_EQ(auto_batch(25.0), 1);
  EXPECT_EQ(auto_batch(1e6), 1);
}

TEST(AutoBatch, ShortOpsGetTheSmallestPowerOfTwoThatReachesTheTarget) {
  EXPECT_EQ(auto_batch(19.9), 2);
  EXPECT_EQ(auto_batch(10.0), 2);
  EXPECT_EQ(auto_batch(9.9), 4);
  EXPECT_EQ(auto_batch(5.0), 4);
  EXPECT_EQ(auto_batch(0.7), 32);
  EXPECT_EQ(auto_batch(0.625), 32);
  EXPECT_EQ(auto_batch(0.6), 64);
}

TEST(AutoBatch, NearlyEqualOpsGetEqualFactors) {
  // ceil(target / time) gave 16, 15 and 14 for these; one power of two covers them all.
  EXPECT_EQ(auto_batch(1.3), 16);
  EXPECT_EQ(auto_batch(1.4), 16);
  EXPECT_EQ(auto_batch(1.5), 16);
}

TEST(AutoBatch, CappedForFreeOps) {
  EXPECT_EQ(auto_batch(0.0), kMaxAutoBatch);
  EXPECT_EQ(auto_batch(0.001), kMaxAutoBatch);
  EXPECT_EQ(kMaxAutoBatch, 1024);
}

}  // namespace
}  // namespace fb
