// Statistics over per-rank, per-sample times.
#pragma once

#include <vector>

namespace fb {

struct SampleStats {
  std::vector<double> per_iter;  // max over ranks of each sample
  double min = 0, p50 = 0, mean = 0, p99 = 0, max = 0;
  int slowest_rank = -1;                    // rank that was the max most often (ties: lowest rank)
  double slowest_share = 0;                 // fraction of samples in which it was the max
  double skew = 0;                          // max over ranks of per-rank median / median of per-rank medians
  std::vector<double> rank_p50, rank_mean;  // each rank's median and mean over its own samples
};

// `times` is rank-major: times[r * iters + i] is rank r's time for sample i. Throws
// std::invalid_argument when the sizes do not agree or there are no samples.
SampleStats compute_stats(const std::vector<double>& times, int nranks, int iters);

// Percentile with linear interpolation between closest ranks (numpy's default), p in [0, 100].
double percentile(std::vector<double> v, double p);

}  // namespace fb
