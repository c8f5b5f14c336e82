#include "harness/mann_whitney.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace fb {

std::vector<double> mann_whitney_exact_counts(std::size_t m, std::size_t n) {
  // Generating function of U: the Gaussian binomial [m+n choose m]_q, built one factor at a
  // time: [n+i, i] = [n+i-1, i-1] * (1 - q^(n+i)) / (1 - q^i). Integer arithmetic, exact while
  // C(m+n, m) stays far below 2^63.
  if (m > n) std::swap(m, n);
  std::vector<std::int64_t> c(m * n + 1, 0);
  c[0] = 1;
  // Power series truncated at degree m*n (the true degree): the division only reads lower
  // coefficients, so the truncation is exact.
  for (std::size_t i = 1; i <= m; ++i) {
    const std::size_t mul = n + i;
    for (std::size_t k = c.size(); k-- > mul;) c[k] -= c[k - mul];  // * (1 - q^mul)
    for (std::size_t k = i; k < c.size(); ++k) c[k] += c[k - i];    // / (1 - q^i)
  }
  return std::vector<double>(c.begin(), c.end());
}

MannWhitneyResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.empty() || y.empty()) throw std::invalid_argument("Mann-Whitney U: a sample is empty");
  for (const auto* v : {&x, &y})
    for (double d : *v)
      if (!std::isfinite(d)) throw std::invalid_argument("Mann-Whitney U: a value is not finite");
  const std::size_t n1 = x.size(), n2 = y.size(), n = n1 + n2;

  // Mid-ranks of the pooled sample; the rank sum of x gives u1.
  std::vector<std::pair<double, int>> all;
  all.reserve(n);
  for (double d : x) all.emplace_back(d, 0);
  for (double d : y) all.emplace_back(d, 1);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double rank_sum_x = 0, tie_term = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].first == all[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double mid = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k)
      if (all[k].second == 0) rank_sum_x += mid;
    tie_term += t * t * t - t;
    i = j;
  }
  MannWhitneyResult r;
  const double d1 = static_cast<double>(n1), d2 = static_cast<double>(n2);
  r.u1 = rank_sum_x - d1 * (d1 + 1) / 2.0;
  r.u2 = d1 * d2 - r.u1;
  r.ties = tie_term > 0;

  if (std::min(n1, n2) < 8 && !r.ties && std::max(n1, n2) <= 1000) {
    const auto counts = mann_whitney_exact_counts(n1, n2);
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    const auto u = static_cast<std::size_t>(std::llround(r.u1));
    double le = 0, ge = 0;
    for (std::size_t k = 0; k < counts.size(); ++k) {
      if (k <= u) le += counts[k];
      if (k >= u) ge += counts[k];
    }
    r.exact = true;
    r.p_value = std::min(1.0, 2.0 * std::min(le, ge) / total);
    return r;
  }

  const double dn = static_cast<double>(n);
  const double var = d1 * d2 / 12.0 * ((dn + 1) - tie_term / (dn * (dn - 1)));
  if (!(var > 0)) {  // every value the same: no evidence of a difference
    r.p_value = 1;
    return r;
  }
  const double mu = d1 * d2 / 2.0;
  r.z = std::max(0.0, std::abs(r.u1 - mu) - 0.5) / std::sqrt(var);
  r.p_value = std::min(1.0, std::erfc(r.z / std::sqrt(2.0)));
  return r;
}

}  // namespace fb
