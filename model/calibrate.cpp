// Calibration fitters (model/calibrate.hpp).
#include "model/calibrate.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "model/cost.hpp"
#include "vocab/error.hpp"

namespace fb::model {

namespace {

// The relative squared error of the best constant for these times: sum ((t - c) / t)^2 at
// c = sum(1/t) / sum(1/t^2). R2 = 1 - (the fit's relative squared error) / this, so that it says
// how much of the relative spread the fit explains (the plain mean would sit near the largest
// times and give R2 ~ 1 to any fit of a sweep over several decades).
template <class It, class Time>
double relative_ss_tot(It first, It last, Time time) {
  double a = 0, b = 0, ss = 0;
  for (It i = first; i != last; ++i) a += 1 / time(*i), b += 1 / (time(*i) * time(*i));
  const double c = b > 0 ? a / b : 0;
  for (It i = first; i != last; ++i) ss += std::pow((time(*i) - c) / time(*i), 2);
  return ss;
}

// r2 and max_err_pct of latency + bytes / bandwidth against (bytes, time) points, errors relative.
void score(LinkFit& fit, const std::vector<std::pair<double, double>>& pts) {
  double ss_res = 0;
  for (auto [x, t] : pts) {
    const double pred = fit.latency_us + x / (fit.bandwidth_GBps * 1e3);
    ss_res += (t - pred) * (t - pred) / (t * t);
    fit.max_err_pct = std::max(fit.max_err_pct, 100.0 * std::abs(pred - t) / t);
  }
  const double ss_tot = relative_ss_tot(pts.begin(), pts.end(), [](const auto& p) { return p.second; });
  fit.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
}

// Weighted least squares for y = a + b x: the sums, the line through them, and the slope of the
// line through the origin.
struct LineSums {
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  void add(double x, double y, double w) {
    sw += w, sx += w * x, sy += w * y, sxx += w * x * x, sxy += w * x * y;
  }
  // (a, b); (0, 0) when the xs do not spread.
  std::pair<double, double> line() const {
    const double det = sw * sxx - sx * sx;
    if (!(det > 0)) return {0, 0};
    const double b = (sw * sxy - sx * sy) / det;
    return {(sy - b * sx) / sw, b};
  }
  double origin_slope() const { return sxy / sxx; }
};

}  // namespace

LinkFit fit_link(const std::vector<std::pair<double, double>>& pts) {
  LinkFit fit;
  fit.points = static_cast<int>(pts.size());
  if (pts.size() < 2) throw UsageError("calibrate: need at least 2 sizes to fit a latency and a bandwidth");
  // Weighted least squares for t = a + b x with weights 1/t^2.
  LineSums s;
  for (auto [x, t] : pts) s.add(x, t, 1.0 / (t * t));
  auto [a, b] = s.line();
  if (!(b > 0))
    throw UsageError("calibrate: the times do not grow with size; sweep a wider size range (-e 64M)");
  if (a < 0) {
    // A negative intercept is noise at the small end: refit the slope through the origin.
    a = 0;
    b = s.origin_slope();
  }
  fit.latency_us = a;
  fit.bandwidth_GBps = 1.0 / (b * 1e3);
  score(fit, pts);
  return fit;
}

namespace {

// Relative squared error of a prediction function over the points.
template <class F>
double relative_sse(const std::vector<SpillPoint>& pts, F&& predict) {
  double s = 0;
  for (const auto& q : pts) s += std::pow((predict(q) - q.time_us) / q.time_us, 2);
  return s;
}

// Solves the n x n system m x = r (n <= 4) by Gaussian elimination with partial pivoting; false
// when singular.
bool solve(int n, double m[4][4], double r[4], double x[4]) {
  for (int c = 0; c < n; ++c) {
    int p = c;
    for (int i = c + 1; i < n; ++i)
      if (std::abs(m[i][c]) > std::abs(m[p][c])) p = i;
    if (!(std::abs(m[p][c]) > 0)) return false;
    std::swap(m[p], m[c]);
    std::swap(r[p], r[c]);
    for (int i = c + 1; i < n; ++i) {
      const double k = m[i][c] / m[c][c];
      for (int j = c; j < n; ++j) m[i][j] -= k * m[c][j];
      r[i] -= k * r[c];
    }
  }
  for (int i = n - 1; i >= 0; --i) {
    double v = r[i];
    for (int j = i + 1; j < n; ++j) v -= m[i][j] * x[j];
    x[i] = v / m[i][i];
  }
  return true;
}

}  // namespace

double outer_ws(const SpillPoint& q, double eviction_GBps) {
  return model::outer_working_set(q.working_set, eviction_GBps, q.reuse_us);
}

namespace {

// The bytes of a point at each rate for knees (cache, outer): in cache, between the knees, beyond
// the outer knee (outer 0: one knee).
std::array<double, 3> shares(const SpillPoint& q, double cache, double outer, double eviction) {
  const double f1 = model::cached_share(cache, q.working_set),
               f2 = outer > 0 ? std::max(f1, model::cached_share(outer, outer_ws(q, eviction))) : 1;
  return {q.bytes * f1, q.bytes * (f2 - f1), q.bytes * (1 - f2)};
}

// Weighted (1/t^2) least squares for t = a + x1 u + x2 v (+ x3 w): the bytes at each rate from
// shares(), u, v, w the inverse rates, each at least 10% slower than the one before. nullopt when
// singular or out of those bounds.
std::optional<SpillFit> fit_knees(const std::vector<SpillPoint>& pts, double cache, double outer,
                                  double eviction, double& sse) {
  const int n = outer > 0 ? 4 : 3;
  double m[4][4] = {}, r[4] = {}, x[4] = {};
  for (const auto& q : pts) {
    const auto sh = shares(q, cache, outer, eviction);
    const double row[4] = {1, sh[0], sh[1], sh[2]}, w = 1 / (q.time_us * q.time_us);
    for (int i = 0; i < n; ++i) {
      r[i] += w * row[i] * q.time_us;
      for (int j = 0; j < n; ++j) m[i][j] += w * row[i] * row[j];
    }
  }
  if (!solve(n, m, r, x) || x[0] < 0 || !(x[1] > 0) || !(x[2] > 1.1 * x[1]) ||
      (n == 4 && !(x[3] > 1.1 * x[2])))
    return std::nullopt;
  auto predict = [&](const SpillPoint& q) {
    const auto sh = shares(q, cache, outer, eviction);
    return x[0] + sh[0] * x[1] + sh[1] * x[2] + sh[2] * x[3];
  };
  sse = relative_sse(pts, predict);
  SpillFit s;
  s.sse = sse;
  s.link.points = static_cast<int>(pts.size());
  s.link.latency_us = x[0];
  s.link.bandwidth_GBps = 1 / (x[1] * 1e3);
  s.spilled_GBps = 1 / (x[2] * 1e3);
  s.cache_bytes = cache;
  if (n == 4) {
    s.outer_cache_bytes = outer;
    s.outer_spilled_GBps = 1 / (x[3] * 1e3);
    s.outer_eviction_GBps = eviction;
  }
  for (const auto& q : pts)
    s.link.max_err_pct = std::max(s.link.max_err_pct, 100 * std::abs(predict(q) - q.time_us) / q.time_us);
  const double ss_tot =
      relative_ss_tot(pts.begin(), pts.end(), [](const SpillPoint& q) { return q.time_us; });
  s.link.r2 = ss_tot > 0 ? 1 - sse / ss_tot : 1;
  return s;
}

}  // namespace

std::optional<SpillFit> fit_spill(const std::vector<SpillPoint>& pts, double fixed_cache, double fixed_outer,
                                  double eviction) {
  if (pts.size() < 4) return std::nullopt;
  std::vector<std::pair<double, double>> plain;
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const auto& q : pts) {
    plain.emplace_back(q.bytes, q.time_us);
    lo = std::min(lo, q.working_set);
    hi = std::max(hi, q.working_set);
  }
  LinkFit base;
  try {
    base = fit_link(plain);
  } catch (const UsageError&) {
    return std::nullopt;
  }
  const double base_sse = relative_sse(
      pts, [&](const SpillPoint& q) { return base.latency_us + q.bytes / (base.bandwidth_GBps * 1e3); });
  // Knees tried: the given ones, or a 2^(1/4) grid over the working sets. Each region needs 2
  // points. A searched fit must halve the error of the one with a knee fewer; a given knee is
  // kept when it beats it at all.
  std::vector<double> grid;
  for (double c = lo; c < hi; c *= std::pow(2.0, 0.25)) grid.push_back(c);
  const std::vector<double> caches = fixed_cache > 0 ? std::vector<double>{fixed_cache} : grid;
  auto count = [&](double from, double to, bool outer) {
    return std::count_if(pts.begin(), pts.end(), [&](const SpillPoint& q) {
      const double ws = outer ? outer_ws(q, eviction) : q.working_set;
      return ws > from && (to <= 0 || ws <= to);
    });
  };
  std::optional<SpillFit> one, two;
  double one_sse = 0, two_sse = 0;
  for (const double cache : caches) {
    if (count(0, cache, false) < 2 || count(cache, 0, false) < 2) continue;
    double sse = 0;
    if (auto s = fit_knees(pts, cache, 0, 0, sse); s && (!one || sse < one_sse)) one = s, one_sse = sse;
    std::vector<double> outers;
    if (fixed_outer > 0)
      outers.push_back(fixed_outer);
    else if (fixed_cache <= 0)
      for (const double c : grid)
        if (c > cache) outers.push_back(c);
    for (const double outer : outers) {
      if (count(cache, outer, true) < 2 || count(outer, 0, true) < 2) continue;
      if (auto s = fit_knees(pts, cache, outer, eviction, sse); s && (!two || sse < two_sse))
        two = s, two_sse = sse;
    }
  }
  const double gain = fixed_cache > 0 ? 1.0 : 0.5;
  std::optional<SpillFit> best;
  double best_sse = base_sse;
  if (one && one_sse < gain * best_sse) best = one, best_sse = one_sse;
  if (two && two_sse < (fixed_outer > 0 ? 1.0 : 0.5) * best_sse) best = two;
  return best;
}

EvictionFit fit_eviction(const std::vector<SpillPoint>& concurrent, const std::vector<SpillPoint>& single) {
  struct Try {
    std::optional<SpillFit> spill;
    double sse = -1;  // -1: the fits are not both there
  };
  auto attempt = [&](double X) {
    Try t;
    const std::optional<SpillFit> knee = concurrent.empty() ? std::nullopt : fit_spill(concurrent, 0, 0, X);
    t.spill =
        knee ? fit_spill(single, knee->cache_bytes, knee->outer_cache_bytes, X) : fit_spill(single, 0, 0, X);
    if (knee && t.spill) t.sse = knee->sse + t.spill->sse;
    if (X > 0 && !(knee && knee->outer_cache_bytes > 0 && t.spill && t.spill->outer_cache_bytes > 0))
      t.sse = -1;
    return t;
  };
  const Try none = attempt(0);
  EvictionFit out;
  out.spill = none.spill;
  if (none.spill) out.spill->outer_eviction_GBps = 0;
  out.sse = out.sse_without = none.sse;
  if (none.sse < 0) return out;
  for (int k = -2; k <= 16; ++k) {
    const Try t = attempt(std::pow(2.0, k / 2.0));
    if (t.sse >= 0 && t.sse <= 0.75 * none.sse && t.sse < out.sse) out.spill = t.spill, out.sse = t.sse;
  }
  return out;
}

namespace {

// A relay's round trip is one clean leg (the mean pingpong one-way time at its size) and one
// forwarded leg: per relay row with a pingpong row of its size whose working set `keep` accepts,
// (the row, the clean leg, the forwarded leg), in microseconds.
struct RelayLeg {
  SpillPoint row;
  double clean_us, forwarded_us;
};
template <class Keep>
std::vector<RelayLeg> relay_legs(const std::vector<SpillPoint>& relay,
                                 const std::vector<SpillPoint>& pingpong, Keep keep) {
  std::map<double, std::vector<double>> pp;  // bytes -> pingpong times
  for (const auto& q : pingpong) pp[q.bytes].push_back(q.time_us);
  std::vector<RelayLeg> out;
  for (const auto& q : relay) {
    const auto it = pp.find(q.bytes);
    if (it == pp.end() || !keep(q)) continue;
    double clean = 0;
    for (double t : it->second) clean += t / static_cast<double>(it->second.size());
    out.push_back({q, clean, 2 * q.time_us - clean});
  }
  return out;
}

}  // namespace

std::optional<LinkFit> fit_forward(const std::vector<SpillPoint>& relay,
                                   const std::vector<SpillPoint>& pingpong, double latency_us,
                                   double clean_GBps, double cache_bytes) {
  std::vector<std::pair<double, double>> legs;  // (bytes, forwarded leg us)
  std::vector<std::pair<double, double>> xfer;  // (clean transfer us, forwarded transfer us)
  for (const auto& l : relay_legs(relay, pingpong, [&](const SpillPoint& q) {
         return !(cache_bytes > 0) || q.working_set <= cache_bytes;
       })) {
    if (l.clean_us - latency_us < latency_us || !(l.forwarded_us - latency_us > 0)) continue;
    legs.emplace_back(l.row.bytes, l.forwarded_us);
    xfer.emplace_back(l.clean_us - latency_us, l.forwarded_us - latency_us);
  }
  if (legs.size() < 2 || !(clean_GBps > 0)) return std::nullopt;
  // forwarded = overhead + slowdown x clean, weighted (1/forwarded^2) least squares; without a
  // negative overhead or a slowdown below 1 (then the other is fitted alone).
  LineSums s;
  for (const auto& [x, y] : xfer) s.add(x, y, 1 / (y * y));
  auto [overhead, slow] = s.line();
  if (slow == 0) overhead = -1;  // singular: fall back as below
  if (overhead < 0 || slow < 1) {
    overhead = 0, slow = s.origin_slope();
    if (slow < 1) slow = 1, overhead = std::max(0.0, (s.sy - s.sx) / s.sw);
  }
  LinkFit fit;
  fit.points = static_cast<int>(legs.size());
  fit.latency_us = latency_us + overhead;
  fit.bandwidth_GBps = clean_GBps / slow;
  score(fit, legs);
  return fit;
}

std::optional<LinkFit> fit_forward_spilled(const std::vector<SpillPoint>& relay,
                                           const std::vector<SpillPoint>& pingpong, double latency_us,
                                           double cache_bytes, double outer_bytes, double eviction) {
  if (!(cache_bytes > 0)) return std::nullopt;
  std::vector<std::pair<double, double>> legs;  // (bytes, forwarded leg us)
  LineSums s;
  for (const auto& l : relay_legs(relay, pingpong, [&](const SpillPoint& q) {
         return model::cached_share(cache_bytes, q.working_set) == 0 &&
                (!(outer_bytes > 0) || outer_ws(q, eviction) <= outer_bytes);
       })) {
    const double y = l.forwarded_us - latency_us, w = 1 / (l.forwarded_us * l.forwarded_us);
    if (!(y > 0)) continue;
    legs.emplace_back(l.row.bytes, l.forwarded_us);
    s.add(l.row.bytes, y, w);
  }
  if (legs.size() < 2 || !(s.sxy > 0)) return std::nullopt;
  LinkFit fit;
  fit.points = static_cast<int>(legs.size());
  fit.latency_us = latency_us;
  fit.bandwidth_GBps = 1 / (s.origin_slope() * 1e3);  // us per byte -> GB/s
  score(fit, legs);
  return fit;
}

namespace {

// The rows the model has an algorithm for, with a measured time and a size; `sizes` collects
// their distinct sizes.
std::vector<const CollectiveRow*> modelled_rows(const model::Fabric& f,
                                                const std::vector<CollectiveRow>& rows,
                                                std::set<std::uint64_t>& sizes) {
  std::vector<const CollectiveRow*> use;
  for (const CollectiveRow& r : rows) {
    if (r.bytes == 0 || !(r.time_us > 0)) continue;
    model::Placement p{static_cast<std::uint64_t>(r.nranks),
                       static_cast<std::uint64_t>(std::max(1, r.ranks_per_node))};
    try {
      (void)model::predict(f, r.op, r.algo, p, static_cast<double>(r.bytes), r.protocol);
    } catch (const std::invalid_argument&) {
      continue;  // no model for what ran
    }
    use.push_back(&r);
    sizes.insert(r.bytes);
  }
  return use;
}

// The model linearised at (a, u) with steps (da, du): each row's time, its slopes in a and u,
// and the weighted (1 / measured^2) normal equations of a step, with the residuals' sum.
struct Linear {
  std::vector<double> t, ca, cu;
  double m00 = 0, m01 = 0, m11 = 0, r0 = 0, r1 = 0, ss = 0;
  double det() const { return m00 * m11 - m01 * m01; }
};

// One tier's two numbers as a pingpong sees them, latency a (us) and u = 1 / payload GB/s, and
// the rows' times the model gives for them.
struct TierModel {
  bool up;
  double hop;  // the first switch tier's hop latency, inside a for scale-out
  model::Fabric g;
  const std::vector<const CollectiveRow*>& use;

  void set(model::Fabric& fab, double a, double u) const {
    if (up) {
      fab.scale_up.latency_us = a;
      fab.scale_up.bandwidth_GBps = 1 / u;
    } else {
      fab.scale_out.latency_us = std::max(0.0, a - hop);
      fab.scale_out.nic_bandwidth_Gbps = 8.0 / u / fab.scale_out.wire_efficiency;
    }
  }

  std::vector<double> times(double a, double u) {
    set(g, a, u);
    std::vector<double> t;
    for (const CollectiveRow* x : use) {
      model::Placement p{static_cast<std::uint64_t>(x->nranks),
                         static_cast<std::uint64_t>(std::max(1, x->ranks_per_node))};
      t.push_back(model::predict(g, x->op, x->algo, p, static_cast<double>(x->bytes), x->protocol).time_us);
    }
    return t;
  }

  Linear linearise(double a, double u, double da, double du) {
    Linear L;
    L.t = times(a, u);
    const auto ta = times(a + da, u), tu = times(a, u + du);
    for (std::size_t i = 0; i < use.size(); ++i) {
      const double y = use[i]->time_us, w = 1 / (y * y), r = y - L.t[i];
      L.ca.push_back((ta[i] - L.t[i]) / da);
      L.cu.push_back((tu[i] - L.t[i]) / du);
      L.m00 += w * L.ca[i] * L.ca[i], L.m01 += w * L.ca[i] * L.cu[i], L.m11 += w * L.cu[i] * L.cu[i];
      L.r0 += w * L.ca[i] * r, L.r1 += w * L.cu[i] * r, L.ss += w * r * r;
    }
    return L;
  }
};

// Gauss-Newton steps from (a, u) until they settle (30 at most); false where the rows cannot fix both.
bool gauss_newton(TierModel& m, double& a, double& u) {
  for (int it = 0; it < 30; ++it) {
    const Linear L = m.linearise(a, u, std::max(0.05, 0.01 * a), 0.01 * u);
    const double det = L.det();
    // Rows that move only with one of the two numbers fix only that one.
    if (!(L.m00 > 0) || !(L.m11 > 0) || !(det > 1e-9 * L.m00 * L.m11)) return false;
    double step_a = (L.m11 * L.r0 - L.m01 * L.r1) / det, step_u = (L.m00 * L.r1 - L.m01 * L.r0) / det;
    // Stay positive: at most halve either number in one step.
    step_a = std::max(step_a, -0.5 * a);
    step_u = std::max(step_u, -0.5 * u);
    a += step_a, u += step_u;
    if (std::abs(step_a) <= 1e-9 * std::max(a, 1e-3) && std::abs(step_u) <= 1e-9 * u) break;
  }
  return true;
}

// Whether the rows, linearised at the fit (a, u), determine both numbers.
bool well_determined(const Linear& L, double a, double u, std::size_t n) {
  // Both numbers must dominate somewhere: a row where the latency terms are three quarters of the
  // time or more, and one where the bandwidth terms are. Else the fit only trades one for the
  // other, or reads the per-byte cost of small messages as the tier's bandwidth: an 8 B - 1 KiB
  // all-reduce on the test VM "fitted" 1.2 GB/s with its 1 KiB row half bandwidth.
  const auto& t = L.t;
  double lat_share = 0, bw_share = 0;
  for (std::size_t i = 0; i < n; ++i) {
    lat_share = std::max(lat_share, L.ca[i] * a / t[i]);
    bw_share = std::max(bw_share, L.cu[i] * u / t[i]);
  }
  if (lat_share < 0.75 || bw_share < 0.75) return false;
  // And the rows must pin them down: the standard errors of the weighted least squares, from its
  // residuals, within a quarter of each number (noise in latency-bound rows also fits a slope).
  if (n < 3 || !(L.det() > 0)) return false;
  const double s2 = L.ss / static_cast<double>(n - 2);
  return !(std::sqrt(s2 * L.m11 / L.det()) > 0.25 * a || std::sqrt(s2 * L.m00 / L.det()) > 0.25 * u);
}

}  // namespace

std::optional<LinkFit> fit_tier_from_collectives(model::Fabric& f, FitTier tier,
                                                 const std::vector<CollectiveRow>& rows) {
  const bool up = tier == FitTier::scale_up;
  if (!up && !f.has_scaleout()) return std::nullopt;
  const double hop = up ? 0 : f.scale_out.tiers.front().hop_latency_us;
  std::set<std::uint64_t> sizes;
  const std::vector<const CollectiveRow*> use = modelled_rows(f, rows, sizes);
  if (sizes.size() < 2) return std::nullopt;
  TierModel m{up, hop, f, use};
  double a = up ? f.scale_up.latency_us : f.scale_out.latency_us + hop;
  double u = 1 / (up ? f.scale_up.bandwidth_GBps
                     : f.scale_out.nic_bandwidth_Gbps * f.scale_out.wire_efficiency / 8.0);
  if (!(a > 0)) a = 1;
  if (!(u > 0) || !std::isfinite(u)) u = 0.1;
  if (!gauss_newton(m, a, u)) return std::nullopt;
  const Linear L = m.linearise(a, u, 0.01 * a, 0.01 * u);
  if (!well_determined(L, a, u, use.size())) return std::nullopt;
  const auto& t = L.t;
  LinkFit fit;
  fit.points = static_cast<int>(use.size());
  fit.latency_us = a;
  fit.bandwidth_GBps = 1 / u;
  double ss_res = 0;
  for (std::size_t i = 0; i < use.size(); ++i) {
    const double y = use[i]->time_us;
    ss_res += std::pow((t[i] - y) / y, 2);
    fit.max_err_pct = std::max(fit.max_err_pct, 100 * std::abs(t[i] - y) / y);
  }
  const double ss_tot =
      relative_ss_tot(use.begin(), use.end(), [](const CollectiveRow* x) { return x->time_us; });
  fit.r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 1;
  m.set(f, a, u);
  return fit;
}
}  // namespace fb::model
