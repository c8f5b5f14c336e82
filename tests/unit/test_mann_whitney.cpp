// The Mann-Whitney U test against values computed independently: exact p-values by brute-force
// enumeration of every arrangement of ranks (written here, not shared with the code under test),
// and normal-approximation p-values worked out by hand from pairwise counts (U = #(x > y) +
// #(x == y)/2, tie-corrected variance, continuity correction 0.5).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "harness/mann_whitney.hpp"

namespace fb {
namespace {

double pair_count_u(const std::vector<double>& x, const std::vector<double>& y) {
  double u = 0;
  for (double a : x)
    for (double b : y) u += a > b ? 1.0 : a == b ? 0.5 : 0.0;
  return u;
}

// Exact two-sided p without ties: every choice of which n1 of the n1+n2 ranks belong to x.
double brute_force_exact_p(std::size_t n1, std::size_t n2, double u_obs) {
  const std::size_t n = n1 + n2;
  double le = 0, ge = 0, total = 0;
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    if (static_cast<std::size_t>(__builtin_popcount(mask)) != n1) continue;
    // U of x = pairs (x, y) with x's rank above y's rank.
    double u = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (mask >> i & 1u)
        for (std::size_t j = 0; j < i; ++j)
          if (!(mask >> j & 1u)) u += 1;
    total += 1;
    if (u <= u_obs) le += 1;
    if (u >= u_obs) ge += 1;
  }
  return std::min(1.0, 2.0 * std::min(le, ge) / total);
}

TEST(MannWhitney, ExactCountsOfThreeAndThree) {
  // The 20 arrangements of 3 x's among 6 ranks, by U (hand count).
  const std::vector<double> want{1, 1, 2, 3, 3, 3, 3, 2, 1, 1};
  EXPECT_EQ(mann_whitney_exact_counts(3, 3), want);
  EXPECT_EQ(mann_whitney_exact_counts(1, 4), (std::vector<double>{1, 1, 1, 1, 1}));
}

TEST(MannWhitney, ExactCountsSumToBinomial) {
  const auto c = mann_whitney_exact_counts(7, 30);
  double s = 0;
  for (double v : c) s += v;
  EXPECT_EQ(s, 10295472.0);  // C(37, 7)
  for (std::size_t k = 0; k < c.size(); ++k) EXPECT_EQ(c[k], c[c.size() - 1 - k]) << k;
}

TEST(MannWhitney, ExactSeparatedSamplesByHand) {
  // x entirely below y: U = 0, P(U <= 0) = 1/20, two-sided p = 0.1.
  const auto r = mann_whitney_u({1, 2, 3}, {4, 5, 6});
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.u1, 0);
  EXPECT_EQ(r.u2, 9);
  EXPECT_DOUBLE_EQ(r.p_value, 0.1);
}

TEST(MannWhitney, ExactMatchesBruteForceEnumeration) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> d(0, 100);
  for (std::size_t n1 = 1; n1 <= 7; ++n1)
    for (std::size_t n2 = 1; n2 + n1 <= 14; ++n2) {
      std::vector<double> x(n1), y(n2);
      for (auto& v : x) v = d(rng);
      for (auto& v : y) v = d(rng) + 15;  // shifted: small p-values too
      const auto r = mann_whitney_u(x, y);
      ASSERT_TRUE(r.exact) << n1 << " " << n2;
      const double u = pair_count_u(x, y);
      EXPECT_EQ(r.u1, u);
      EXPECT_NEAR(r.p_value, brute_force_exact_p(n1, n2, u), 1e-12) << n1 << " " << n2;
    }
}

TEST(MannWhitney, NormalApproximationSeparatedByHand) {
  // n1 = n2 = 8, U = 0: mu = 32, var = 64 * 17 / 12, z = 31.5 / 9.5219 = 3.30816, p = erfc(z/sqrt2).
  std::vector<double> x, y;
  for (int i = 1; i <= 8; ++i) x.push_back(i), y.push_back(i + 8);
  const auto r = mann_whitney_u(x, y);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.u1, 0);
  EXPECT_NEAR(r.z, 3.308161698516173, 1e-12);
  EXPECT_NEAR(r.p_value, 0.0009391056991171905, 1e-12);
  EXPECT_NEAR(mann_whitney_u(y, x).p_value, r.p_value, 1e-15);
}

TEST(MannWhitney, NormalApproximationWithTiesByHand) {
  // Ties 2x2, 3x4, 4x4, 5x4, 6x3 (+ singles): sum t^3 - t = 6 + 60 + 60 + 60 + 24 = 210;
  // var = 100/12 * (21 - 210/380); U = 13.5 by pair counts.
  const auto r = mann_whitney_u({1, 2, 2, 3, 3, 3, 4, 4, 5, 5}, {3, 4, 4, 5, 5, 6, 6, 6, 7, 8});
  EXPECT_TRUE(r.ties);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.u1, 13.5);
  EXPECT_NEAR(r.z, 2.7578739503227347, 1e-12);
  EXPECT_NEAR(r.p_value, 0.005817862706627845, 1e-12);
}

TEST(MannWhitney, NormalApproximationUnequalSizes) {
  const std::vector<double> x{19.2, 21.5, 20.1, 22.8, 18.9, 20.4, 21.1, 19.8, 20.0, 22.2, 20.7, 19.5};
  const std::vector<double> y{21.9, 23.4, 22.1, 20.9, 24.0, 22.6, 23.1, 21.4, 22.8, 23.7};
  const auto r = mann_whitney_u(x, y);
  EXPECT_EQ(r.u1, pair_count_u(x, y));
  EXPECT_EQ(r.u1, 12.5);
  EXPECT_NEAR(r.p_value, 0.0019354445910320524, 1e-12);
  EXPECT_EQ(r.u1 + r.u2, 120);
}

TEST(MannWhitney, SameDistributionIsNotSignificantAndAllTiedIsOne) {
  EXPECT_EQ(mann_whitney_u({5, 5, 5, 5, 5, 5, 5, 5}, {5, 5, 5, 5, 5, 5, 5, 5}).p_value, 1.0);
  // Interleaved: U = n1*n2/2 exactly, z clamped at 0.
  const auto r = mann_whitney_u({1, 4, 5, 8, 9, 12, 13, 16}, {2, 3, 6, 7, 10, 11, 14, 15});
  EXPECT_EQ(r.u1, 32);
  EXPECT_EQ(r.p_value, 1.0);
}

TEST(MannWhitney, RejectsEmptyAndNonFinite) {
  EXPECT_THROW(mann_whitney_u({}, {1.0}), std::invalid_argument);
  EXPECT_THROW(mann_whitney_u({1.0, NAN}, {1.0}), std::invalid_argument);
}

}  // namespace
}  // namespace fb
