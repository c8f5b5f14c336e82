// The two-sided Mann-Whitney U test (Wilcoxon rank-sum) for two independent samples, as
// `fabricbench compare` uses it on per-iteration times.
//
// Method (as scipy.stats.mannwhitneyu's "auto"):
//  - exact: when the smaller sample has fewer than 8 values, there are no ties and the larger has
//    at most 1000 values, p comes from the exact null distribution of U (all C(n1+n2, n1)
//    arrangements equally likely), two-sided p = min(1, 2 * min(P(U <= u1), P(U >= u1)));
//  - otherwise the normal approximation with the tie correction of the variance and a continuity
//    correction of 0.5: z = (|u1 - n1*n2/2| - 0.5) / sigma, p = erfc(z / sqrt 2), clamped to 1.
//    With ties in a small sample the approximation is used too (the exact distribution assumes
//    no ties).
#pragma once

#include <cstddef>
#include <vector>

namespace fb {

struct MannWhitneyResult {
  double u1 = 0;       // U of the first sample: pairs (x, y) with x > y, ties counted 1/2
  double u2 = 0;       // n1*n2 - u1
  double z = 0;        // the normal approximation's z (0 when exact)
  double p_value = 1;  // two-sided
  bool exact = false;
  bool ties = false;
};

// Throws std::invalid_argument when a sample is empty or holds a value that is not finite.
MannWhitneyResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y);

// The exact null distribution of U for sample sizes (m, n) without ties: counts[u] = number of
// the C(m+n, m) arrangements with U = u, u = 0..m*n. For m, n small enough not to overflow.
std::vector<double> mann_whitney_exact_counts(std::size_t m, std::size_t n);

}  // namespace fb
