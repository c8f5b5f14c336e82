// Statistics over per-rank, per-sample times: an iteration's time is the maximum over ranks.
#include "harness/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <stdexcept>
#include <string>

namespace fb {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) throw std::invalid_argument("percentile of an empty set of samples");
  if (!(p >= 0.0 && p <= 100.0))
    throw std::invalid_argument("percentile " + std::to_string(p) + " is outside [0, 100]");
  std::sort(v.begin(), v.end());
  // numpy's default ("linear"): position (n-1)*p/100 between the two closest ranks.
  const double pos = static_cast<double>(v.size() - 1) * p / 100.0;
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

SampleStats compute_stats(const std::vector<double>& times, int nranks, int iters) {
  if (nranks <= 0)
    throw std::invalid_argument("compute_stats: nranks must be positive, got " + std::to_string(nranks));
  if (iters <= 0)
    throw std::invalid_argument("compute_stats: iters must be positive, got " + std::to_string(iters));
  const auto n = static_cast<std::size_t>(nranks);
  const auto m = static_cast<std::size_t>(iters);
  if (times.size() != n * m)
    throw std::invalid_argument("compute_stats: expected " + std::to_string(n * m) + " times (" +
                                std::to_string(nranks) + " ranks x " + std::to_string(iters) +
                                " samples), got " + std::to_string(times.size()));

  SampleStats s;
  s.per_iter.resize(m);
  std::vector<int> last_count(n, 0);
  for (std::size_t i = 0; i < m; ++i) {
    std::size_t arg = 0;
    for (std::size_t r = 1; r < n; ++r)
      if (times[r * m + i] > times[arg * m + i]) arg = r;  // strict: ties go to the lowest rank
    s.per_iter[i] = times[arg * m + i];
    ++last_count[arg];
  }

  const auto [lo, hi] = std::minmax_element(s.per_iter.begin(), s.per_iter.end());
  s.min = *lo;
  s.max = *hi;
  s.mean = std::accumulate(s.per_iter.begin(), s.per_iter.end(), 0.0) / static_cast<double>(m);
  s.p50 = percentile(s.per_iter, 50.0);
  s.p99 = percentile(s.per_iter, 99.0);

  // max_element returns the first of equal maxima: ties go to the lowest rank.
  const auto slowest = std::max_element(last_count.begin(), last_count.end());
  s.slowest_rank = static_cast<int>(slowest - last_count.begin());
  s.slowest_share = static_cast<double>(*slowest) / static_cast<double>(m);

  std::vector<double> medians(n);
  s.rank_mean.resize(n);
  for (std::size_t r = 0; r < n; ++r) {
    const auto first = times.begin() + static_cast<std::ptrdiff_t>(r * m);
    const auto last = times.begin() + static_cast<std::ptrdiff_t>((r + 1) * m);
    medians[r] = percentile(std::vector<double>(first, last), 50.0);
    s.rank_mean[r] = std::accumulate(first, last, 0.0) / static_cast<double>(m);
  }
  s.rank_p50 = medians;
  const double median_of_medians = percentile(medians, 50.0);
  const double max_median = *std::max_element(medians.begin(), medians.end());
  s.skew = median_of_medians == 0.0 ? 1.0 : max_median / median_of_medians;
  return s;
}

}  // namespace fb
