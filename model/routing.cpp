// Routing and load balancing (model/routing.hpp): the expected maximum load of flows hashed onto
// equal-cost paths, and each policy's factor on a tier's even-spread rate.
#include "model/routing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fb::model {

namespace {

constexpr long kExactFlows = 256;    // exact distribution of the maximum up to this many flows
constexpr double kNormalLoad = 1e3;  // mean load per path beyond which the normal limit is used
constexpr double kTail = 1e-13;      // P(M > k) below which the sum over k stops

// Coefficients up to degree n of a x b.
std::vector<double> mul_trunc(const std::vector<double>& a, const std::vector<double>& b, std::size_t n) {
  std::vector<double> c(std::min(n + 1, a.size() + b.size() - 1), 0.0);
  for (std::size_t i = 0; i < a.size() && i < c.size(); ++i) {
    if (a[i] == 0) continue;
    for (std::size_t j = 0; j < b.size() && i + j < c.size(); ++j) c[i + j] += a[i] * b[j];
  }
  return c;
}

// P(M <= k) for n balls in P bins, exactly: with Y_1..Y_P iid Poisson(n/P), the bins' loads are
// distributed as the Y's given sum = n, so P(M <= k) = P(all Y_i <= k, sum = n) / P(sum = n),
// the first the coefficient of w^n in (sum_{j<=k} pi_j w^j)^P (powers by squaring, truncated at
// degree n), the second the Poisson(n) probability of n: every number stays in [0, 1].
double exact_cdf_max(long n, long P, long k) {
  const double lambda = static_cast<double>(n) / static_cast<double>(P);
  std::vector<double> base(static_cast<std::size_t>(std::min(k, n) + 1));
  for (std::size_t j = 0; j < base.size(); ++j)
    base[j] = std::exp(-lambda + static_cast<double>(j) * std::log(lambda) -
                       std::lgamma(static_cast<double>(j) + 1));
  std::vector<double> result{1.0};
  const auto N = static_cast<std::size_t>(n);
  for (long e = P; e > 0; e >>= 1) {
    if (e & 1) result = mul_trunc(result, base, N);
    if (e > 1) base = mul_trunc(base, base, N);
  }
  const double coef = N < result.size() ? result[N] : 0.0;
  const double dn = static_cast<double>(n);
  const double p_sum = std::exp(-dn + dn * std::log(dn) - std::lgamma(dn + 1));
  return std::clamp(coef / p_sum, 0.0, 1.0);
}

// `groups` independent sets of P bins, n balls each: P(max over all <= k) = P(M <= k)^groups.
double exact_expected_max(long n, long P, int groups) {
  double e = 0;
  for (long k = 0; k < n; ++k) {
    const double tail = 1 - std::pow(exact_cdf_max(n, P, k), groups);
    e += tail;
    if (k >= (n + P - 1) / P && tail < kTail) break;
  }
  return e;
}

// E[max] with the bins taken as independent Binomial(n, 1/P): P(M <= k) ~ cdf(k)^P (the bins'
// negative dependence makes this slightly pessimistic, by under 2% from 256 flows).
double binomial_expected_max(long n, long P, int groups) {
  const double p = 1.0 / static_cast<double>(P), dn = static_cast<double>(n);
  const double mean = dn * p, sd = std::sqrt(dn * p * (1 - p));
  const long lo = std::max(0L, static_cast<long>(std::floor(mean - 12 * sd - 2)));
  auto log_pmf = [&](long k) {
    const double dk = static_cast<double>(k);
    return std::lgamma(dn + 1) - std::lgamma(dk + 1) - std::lgamma(dn - dk + 1) + dk * std::log(p) +
           (dn - dk) * std::log1p(-p);
  };
  double e = static_cast<double>(lo);  // P(M <= k) ~ 0 below lo
  double cdf = 0;                      // P(Y < lo) is below 1e-30 there: taken as 0
  double pmf = std::exp(log_pmf(lo));
  for (long k = lo; k <= n; ++k) {
    cdf = std::min(1.0, cdf + pmf);
    const double all = cdf >= 1 ? 1.0 : std::exp(static_cast<double>(P) * groups * std::log(cdf));
    const double tail = 1 - all;
    e += tail;
    if (static_cast<double>(k) > mean && tail < kTail) break;
    pmf *= (dn - static_cast<double>(k)) / static_cast<double>(k + 1) * p / (1 - p);
  }
  return e;
}

// E[max of P iid standard normals], by integration, memoised per P.
double normal_max(long P) {
  thread_local std::unordered_map<long, double> memo;
  if (auto it = memo.find(P); it != memo.end()) return it->second;
  const double h = 5e-3;
  double e = 0;
  for (double z = -12; z < 12; z += h) {
    const double zm = z + h / 2;
    const double all = std::exp(static_cast<double>(P) * std::log(0.5 * std::erfc(-zm / std::sqrt(2.0))));
    e += zm >= 0 ? (1 - all) * h : -all * h;
  }
  memo[P] = e;
  return e;
}

double expected_max_int(long n, long P, int groups) {
  if (n <= 0) return 0;
  if (P <= 1 || n == 1) return static_cast<double>(n);
  // Per thread, so a lookup takes no lock: a sweep asks for the same few (flows, paths) again and again.
  // A small direct-mapped cache in front of the map: consecutive steps ask for neighbouring counts.
  thread_local std::unordered_map<std::uint64_t, double> memo;
  thread_local std::uint64_t recent_key[64] = {};
  thread_local double recent[64] = {};
  const std::uint64_t key = static_cast<std::uint64_t>(n) << 22 | static_cast<std::uint64_t>(groups) << 20 |
                            static_cast<std::uint64_t>(P);
  const std::size_t slot =
      static_cast<std::size_t>((static_cast<std::uint64_t>(n) * 31 + static_cast<std::uint64_t>(P) * 2 +
                                static_cast<std::uint64_t>(groups)) &
                               63);
  if (P < (1L << 20)) {
    if (recent_key[slot] == key) return recent[slot];
    if (auto it = memo.find(key); it != memo.end()) {
      recent_key[slot] = key;
      recent[slot] = it->second;
      return it->second;
    }
  }
  const double p = 1.0 / static_cast<double>(P), mean = static_cast<double>(n) * p;
  double e;
  if (n <= kExactFlows) {
    e = exact_expected_max(n, P, groups);
  } else if (mean <= kNormalLoad) {
    e = binomial_expected_max(n, P, groups);
  } else {
    e = mean + std::sqrt(static_cast<double>(n) * p * (1 - p)) * normal_max(P * groups);
  }
  if (P < (1L << 20)) memo[key] = e;
  return e;
}

}  // namespace

double ecmp_expected_max_load(double flows, double paths, int groups) {
  if (!(flows > 0)) return 0;
  const long P = std::max(1L, std::lround(paths));
  if (P == 1) return flows;
  groups = std::clamp(groups, 1, 2);
  const double lo = std::floor(flows);
  const double f = flows - lo;
  const double a = expected_max_int(static_cast<long>(lo), P, groups);
  if (f < 1e-12) return a;
  const double b = expected_max_int(static_cast<long>(lo) + 1, P, groups);
  return a + f * (b - a);
}

double ecmp_share_pmf(long flows, long paths, long k) {
  if (flows < 1 || k < 0 || k > flows - 1) return 0;
  if (paths <= 1) return k == flows - 1 ? 1 : 0;
  const double n = static_cast<double>(flows - 1), p = 1.0 / static_cast<double>(paths),
               dk = static_cast<double>(k);
  return std::exp(std::lgamma(n + 1) - std::lgamma(dk + 1) - std::lgamma(n - dk + 1) + dk * std::log(p) +
                  (n - dk) * std::log1p(-p));
}

Balance parse_balance(const std::string& lb) {
  if (lb == "ecmp") return Balance::ecmp;
  if (lb == "adaptive") return Balance::adaptive;
  if (lb == "static") return Balance::static_;
  return Balance::spray;
}

namespace {

double factor_of(Balance b, const SwitchTier& st, double flows, double paths, double max_load);

// A switch's up-links and the links down into its subtree: F flows leave through the first P,
// F flows (from other subtrees, hashed at their own switches) arrive through the second P.
constexpr int kBothDirections = 2;

// max_load and factor of route_tier for `flows` sub-flows.
double max_load_of(Balance b, const SwitchTier& st, double flows, double paths) {
  const double even = flows / paths;
  switch (b) {
    case Balance::ecmp:
      return ecmp_expected_max_load(std::max(1.0, flows), paths, kBothDirections);
    case Balance::static_:
      return std::max(1.0, std::ceil(even - 1e-9));
    case Balance::adaptive:
      return even * factor_of(b, st, flows, paths, 0);
    case Balance::spray:
      break;
  }
  return even;
}

double factor_of(Balance b, const SwitchTier& st, double flows, double paths, double max_load) {
  if (b == Balance::adaptive) {
    // Adaptive routing moves traffic off loaded links: never worse than hashing the same flows.
    const double hashed =
        std::max(1.0, ecmp_expected_max_load(std::max(1.0, flows), paths, kBothDirections) * paths / flows);
    return std::min(1 / (st.adaptive_efficiency > 0 ? st.adaptive_efficiency : 1), hashed);
  }
  if (b == Balance::spray) return 1;
  // Per-flow routing: the slowest flow gets R / M where the even spread gives R P / F.
  return std::max(1.0, max_load * paths / flows);
}

}  // namespace

double routing_factor(Balance b, const SwitchTier& st, double connections, double paths, bool& collision) {
  collision = false;
  if (b == Balance::spray || !(connections > 0)) return 1;
  const double P = std::max(1.0, std::round(paths));
  const double flows = connections * (b == Balance::ecmp ? std::max(1, st.flows_per_connection) : 1);
  const double m = max_load_of(b, st, flows, P);
  if (b == Balance::ecmp) collision = m > std::max(1.0, std::ceil(flows / P - 1e-9)) + 1e-6;
  return factor_of(b, st, flows, P, m);
}

TierRouting route_tier(const SwitchTier& st, double connections, double paths) {
  TierRouting r;
  r.policy = st.load_balancing;
  r.paths = std::max(1.0, std::round(paths));
  const Balance b = parse_balance(st.load_balancing);
  r.flows = std::max(0.0, connections) * (b == Balance::ecmp ? std::max(1, st.flows_per_connection) : 1);
  if (!(r.flows > 0)) return r;
  r.max_load = max_load_of(b, st, r.flows, r.paths);
  r.factor = routing_factor(b, st, connections, r.paths, r.collision);
  return r;
}

std::string collision_note(const SwitchTier& st) {
  return st.load_balancing + " collision";
}

}  // namespace fb::model
