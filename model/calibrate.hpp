// Calibration fitters: fit a fabric's latencies and bandwidths to measurements (`fabricbench
// calibrate`, harness/commands/calibrate.cpp, reads the rows and writes the fabric file). Standard
// library and the model only: no MPI, no results files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/fabric.hpp"

namespace fb::model {

// One fitted tier: time = latency_us + bytes / bandwidth_GBps / 1e3.
struct LinkFit {
  std::string tier;  // "scale-up" or "scale-out"
  int points = 0;
  double latency_us = 0;
  double bandwidth_GBps = 0;
  double r2 = 0;  // of time against the fit
  double max_err_pct = 0;
};
// Weighted least squares (weights 1/t^2: relative errors count equally at every size).
LinkFit fit_link(const std::vector<std::pair<double, double>>& bytes_time_us);

// A host link whose rate drops once the working set leaves the CPU caches (model/cost.hpp,
// spill_factor): time = latency + bytes (f / bandwidth + (1 - f) / spilled),
// f = model::cached_share(cache, ws);
// with an outer knee, time = latency + bytes (f / bandwidth + (g - f) / spilled + (1 - g) / outer),
// g = max(f, model::cached_share(outer_cache, outer_ws)), outer_ws the working set plus what other
// work brings into the outer cache during the point's reuse interval (outer_ws(), model::
// outer_working_set; the working set itself without an eviction rate).
struct SpillFit {
  LinkFit link;  // latency and in-cache bandwidth; r2 and max_err_pct of this fit
  double cache_bytes = 0;
  double spilled_GBps = 0;
  double outer_cache_bytes = 0;  // 0: one knee
  double outer_spilled_GBps = 0;
  double outer_eviction_GBps = 0;  // the eviction rate the fit was made with (with an outer knee)
  double sse = 0;                  // relative squared error: sum of ((fit - time) / time)^2
};
struct SpillPoint {
  double bytes = 0, working_set = 0, time_us = 0;
  // How long the op takes to come back to the same buffers: its time, a round trip (2 x time)
  // for pingpong and relay. 0: not known (the outer working set is then the working set).
  double reuse_us = 0;
};
// The outer cache's working set for a point with other work evicting at eviction_GBps.
double outer_ws(const SpillPoint& q, double eviction_GBps);
// The best fit over cache sizes on a 2^(1/4) grid between the smallest and largest working set,
// or nullopt when none has at least 2 points on each side, a non-negative latency and a spilled
// rate at least 10% below the in-cache one, and halves the relative squared error of fit_link.
// A second, outer knee (again on the grid, 2 points between the knees and 2 beyond, its rate at
// least 10% below the spilled one) is kept when it halves the error of the best one-knee fit.
// With `cache_bytes` given, only that knee is tried, and it is kept when it beats fit_link at all;
// then an outer knee is tried only when `outer_bytes` gives it, and kept when it beats one knee.
// With `eviction_GBps`, the outer knee is placed, and its regions counted, by outer_ws().
std::optional<SpillFit> fit_spill(const std::vector<SpillPoint>& points, double cache_bytes = 0,
                                  double outer_bytes = 0, double eviction_GBps = 0);
// The knees and rates of a host (fit_spill) and the rate at which other work drains its outer
// cache (Fabric::scale_up.outer_eviction_GBps). The knees come from `concurrent` (bidir rows: both
// ends copy at once, as in a collective) when they have one, the rates from `single` (pingpong);
// both carry their reuse intervals. Eviction rates 2^(k/2) GB/s from 0.5 to 256 are tried
// against none: one is kept when, with an outer knee in both fits, it cuts the sum of the two
// fits' relative squared errors to 3/4 or less of that without. An op that takes longer than
// another of the same working set (a pingpong round trip, against a bidir exchange) then spills
// from the outer cache earlier, as on a host whose last-level cache other tenants share.
struct EvictionFit {
  std::optional<SpillFit> spill;    // of `single`; outer_eviction_GBps set when one was kept
  double sse = 0, sse_without = 0;  // the two fits' summed relative squared errors, with and without
};
EvictionFit fit_eviction(const std::vector<SpillPoint>& concurrent, const std::vector<SpillPoint>& single);
// The forward rate (Fabric::scale_up.forward_bandwidth_GBps) from relay and pingpong rows of one host: a
// relay's round trip is one clean leg (pingpong's one-way time) and one forwarded leg, so the
// forwarded leg takes 2 relay - pingpong at each size both measured. Over those sizes, the
// forwarded leg's transfer (leg - latency_us) is fitted as overhead + slowdown x the clean one's
// (pingpong - latency_us), by least squares weighted 1/forwarded^2, with overhead >= 0 and
// slowdown >= 1 (when one falls outside, the other is fitted alone); only sizes whose working set
// fits `cache_bytes` (all when 0: forwarding is slower only from the cache) and whose clean
// transfer is at least the latency (smaller ones are latency noise) count. The rate is
// `clean_GBps` (the fitted scale-up rate) / slowdown, the latency latency_us + overhead (the
// overhead is Fabric::scale_up.forward_overhead_us). Relay rows no slower than pingpong give
// exactly `clean_GBps`. nullopt with fewer than 2 such sizes. r2 and max_err_pct compare
// latency + bytes / rate with the forwarded legs.
std::optional<LinkFit> fit_forward(const std::vector<SpillPoint>& relay,
                                   const std::vector<SpillPoint>& pingpong, double latency_us,
                                   double clean_GBps, double cache_bytes = 0);
// The forwarded rate beyond the cache (Fabric::scale_up.forward_spilled_bandwidth_GBps): relay rows whose
// working set the cache keeps none of (model::cached_share 0) and, with an outer knee, that do not
// pass it; each forwarded leg (2 relay - mean pingpong at its size) less `latency_us` (the
// forwarded latency: scale-up latency + forward overhead) is bytes / rate, fitted through the
// origin weighted 1/leg^2. nullopt without a cache, or with fewer than 2 such sizes.
std::optional<LinkFit> fit_forward_spilled(const std::vector<SpillPoint>& relay,
                                           const std::vector<SpillPoint>& pingpong, double latency_us,
                                           double cache_bytes, double outer_bytes, double eviction_GBps = 0);

// The tier a fit from collective rows sets.
enum class FitTier { scale_up, scale_out };
// One measured collective row as the tier fit sees it: what ran (op, and the model's algorithm
// and protocol for it), where (ranks, ranks per host), its size and its time.
struct CollectiveRow {
  std::string op, algo, protocol;
  int nranks = 0, ranks_per_node = 0;
  std::uint64_t bytes = 0;
  double time_us = 0;
};
// Fits one tier's latency and bandwidth so that the model, with `f`'s other numbers as they are,
// predicts the collective rows best (relative errors, each row alike): Gauss-Newton on
// (latency, 1 / bandwidth) from f's values, with the model itself as the function, so every
// algorithm the model covers counts with its own step and byte counts. On success writes the two
// into f (scale-up: latency_us and bandwidth_GBps; scale-out: the NIC's latency and line rate)
// and returns the fit as a pingpong through the tier would see it (scale-out: the NIC latency plus
// one leaf hop, the NIC's payload rate), with r2 and max_err_pct over the rows. Rows the model has
// no algorithm for are skipped. nullopt when fewer than 2 sizes remain or the rows fix only one
// of the two numbers: no row whose latency terms are three quarters of its time or more, or none
// whose bandwidth terms are, or a standard error of either over a quarter of it.
std::optional<LinkFit> fit_tier_from_collectives(Fabric& f, FitTier tier,
                                                 const std::vector<CollectiveRow>& rows);

}  // namespace fb::model
