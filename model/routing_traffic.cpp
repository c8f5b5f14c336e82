// Per-flow throughput of a traffic pattern on a routed fabric (model/routing.hpp, predict_traffic).
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "model/algorithms/common.hpp"
#include "model/rates.hpp"
#include "model/routing.hpp"

namespace fb::model {

namespace {

struct Conn {
  std::uint64_t src, dst;
};

std::vector<Conn> pattern_conns(const std::string& pattern, std::uint64_t n, std::mt19937_64& rng) {
  std::vector<Conn> c;
  if (pattern == "ring") {
    for (std::uint64_t i = 0; i < n; ++i) c.push_back({i, (i + 1) % n});
  } else if (pattern == "alltoall") {
    for (std::uint64_t i = 0; i < n; ++i)
      for (std::uint64_t j = 0; j < n; ++j)
        if (i != j) c.push_back({i, j});
  } else {  // permutation: a uniformly random one without fixed points (rejection of fixed points by swaps)
    std::vector<std::uint64_t> p(n);
    std::iota(p.begin(), p.end(), 0);
    std::shuffle(p.begin(), p.end(), rng);
    for (std::uint64_t i = 0; i < n; ++i)
      if (p[i] == i) std::swap(p[i], p[(i + 1) % n]);
    for (std::uint64_t i = 0; i < n; ++i) c.push_back({i, p[i]});
  }
  return c;
}

// Ports a tier-t switch turns down (the rule of model/algorithms/common.hpp section 3).
double down_ports(const SwitchTier& st, bool top) {
  const double o = std::max(1.0, st.oversubscription), k = st.radix;
  if (top || k < 2) return k;
  return std::clamp(std::floor(k * o / (1 + o) + 1e-9), 1.0, k - 1);
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const auto i = static_cast<std::size_t>(std::floor(q * static_cast<double>(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

struct Geometry {
  const Fabric& f;
  detail::Topo T;
  std::uint64_t g;
  double nics;
  std::uint64_t domain(std::uint64_t r) const { return r / g; }
  std::uint64_t nic(std::uint64_t r) const {
    return static_cast<std::uint64_t>(std::floor(static_cast<double>(r % g) * nics / f.scale_up.domain_size));
  }
  std::uint64_t rail(std::uint64_t r) const {
    return static_cast<std::uint64_t>(std::floor(static_cast<double>(nic(r)) * T.rails / nics));
  }
  // The tier-t subtree of endpoint r (tier 1: per rail).
  std::uint64_t subtree(int t, std::uint64_t r) const {
    const auto s =
        static_cast<std::uint64_t>(std::floor(static_cast<double>(domain(r)) / std::max(1.0, T.S[t])));
    return t == 1 ? s * 4096 + rail(r) : s;
  }
  // Whether a connection climbs above tier t.
  bool climbs(int t, const Conn& c) const {
    if (domain(c.src) == domain(c.dst)) return false;
    return subtree(t, c.src) != subtree(t, c.dst);
  }
  // The destination's index for destination-based routing at tier t.
  std::uint64_t dest_index(int t, std::uint64_t r) const {
    return t == 1 ? domain(r) : domain(r) * static_cast<std::uint64_t>(nics) + nic(r);
  }
};

}  // namespace

TrafficResult predict_traffic(const Fabric& f, const TrafficOptions& o) {
  if (o.pattern != "permutation" && o.pattern != "ring" && o.pattern != "alltoall")
    throw std::invalid_argument("traffic: unknown pattern '" + o.pattern +
                                "' (known: permutation, ring, alltoall)");
  if (!f.has_scaleout())
    throw std::invalid_argument("traffic: fabric '" + f.name + "' has no scale-out tiers");
  if (o.seeds < 1) throw std::invalid_argument("traffic: seeds must be at least 1");
  TrafficResult res;
  res.pattern = o.pattern;
  res.seeds = o.seeds;
  res.ranks_per_domain =
      o.ranks_per_domain ? o.ranks_per_domain : static_cast<std::uint64_t>(f.scale_up.domain_size);
  res.nranks = o.nranks ? o.nranks : std::min<std::uint64_t>(f.max_endpoints(), 1024);
  if (res.nranks < 2) throw std::invalid_argument("traffic: needs at least 2 ranks");
  if (res.nranks > f.max_endpoints())
    throw std::invalid_argument("traffic: " + std::to_string(res.nranks) + " ranks exceed what fabric '" +
                                f.name + "' holds (" + std::to_string(f.max_endpoints()) + ")");
  if (o.pattern == "alltoall" && res.nranks > 512)
    throw std::invalid_argument("traffic: alltoall is limited to 512 ranks (got " +
                                std::to_string(res.nranks) + ")");
  const Placement pl{res.nranks, std::min(res.ranks_per_domain, res.nranks)};
  Geometry G{f, detail::make_topo(f, pl), pl.ranks_per_domain,
             f.scale_out.nics_per_domain > 0 ? static_cast<double>(f.scale_out.nics_per_domain) : 1.0};
  const double R = f.scale_out.nic_bandwidth_Gbps * f.scale_out.wire_efficiency * nic_efficiency(f);
  res.nic_Gbps = R;
  const int L = static_cast<int>(f.scale_out.tiers.size());

  // Up-links of one tier-t subtree: its NIC ports over the down:up port ratios up to tier t.
  std::vector<double> paths(static_cast<std::size_t>(L) + 1, 1);
  double ratio = 1;
  for (int t = 1; t < L; ++t) {
    const SwitchTier& st = f.scale_out.tiers[static_cast<std::size_t>(t - 1)];
    const double d = down_ports(st, false);
    ratio *= d / std::max(1.0, st.radix - d);
    const double ports = t == 1 ? d : G.T.S[t] * G.nics;
    paths[static_cast<std::size_t>(t)] = std::max(1.0, std::round(ports / ratio));
  }

  struct Acc {
    std::vector<double> gbps;
    double worst_sum = 0, flows_sum = 0, groups = 0, emax_sum = 0, mmax_sum = 0, conns = 0;
  };
  std::vector<Acc> acc(static_cast<std::size_t>(L) + 1);
  std::mt19937_64 rng(12345);
  for (int s = 0; s < o.seeds; ++s) {
    rng.seed(0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(s + 1));
    const std::vector<Conn> conns = pattern_conns(o.pattern, res.nranks, rng);
    // NIC shares: connections per sending and receiving NIC port.
    std::map<std::uint64_t, double> out_n, in_n;
    auto port = [&](std::uint64_t r) { return G.domain(r) * 4096 + G.nic(r); };
    for (const Conn& c : conns)
      if (G.domain(c.src) != G.domain(c.dst)) {
        out_n[port(c.src)] += 1;
        in_n[port(c.dst)] += 1;
      }
    for (int t = 1; t < L; ++t) {
      const SwitchTier& st = f.scale_out.tiers[static_cast<std::size_t>(t - 1)];
      const auto P = static_cast<std::uint64_t>(paths[static_cast<std::size_t>(t)]);
      const int q = st.load_balancing == "ecmp" ? std::max(1, st.flows_per_connection) : 1;
      // Each climbing connection's subtree, and its sub-flows' up-links.
      std::map<std::uint64_t, std::vector<std::size_t>> by_subtree;
      for (std::size_t k = 0; k < conns.size(); ++k)
        if (G.climbs(t, conns[k])) by_subtree[G.subtree(t, conns[k].src)].push_back(k);
      if (by_subtree.empty()) continue;
      Acc& a = acc[static_cast<std::size_t>(t)];
      double worst = 1e300;
      std::uniform_int_distribution<std::uint64_t> pick(0, P - 1);
      for (const auto& entry : by_subtree) {
        const std::vector<std::size_t>& ks = entry.second;
        const double F = static_cast<double>(ks.size());
        std::vector<std::uint64_t> link(ks.size() * static_cast<std::size_t>(q));
        std::vector<double> load(P, 0);
        for (std::size_t i = 0; i < ks.size(); ++i)
          for (int j = 0; j < q; ++j) {
            const std::size_t x = i * static_cast<std::size_t>(q) + static_cast<std::size_t>(j);
            link[x] = st.load_balancing == "ecmp" ? pick(rng) : G.dest_index(t, conns[ks[i]].dst) % P;
            load[link[x]] += 1;
          }
        const double even = F * q / static_cast<double>(P);
        const double eff =
            st.load_balancing == "adaptive" && st.adaptive_efficiency > 0 ? st.adaptive_efficiency : 1;
        const bool per_flow = st.load_balancing == "ecmp" || st.load_balancing == "static";
        const TierRouting tr = route_tier(st, F, static_cast<double>(P));
        a.emax_sum += tr.max_load;
        a.mmax_sum += per_flow ? *std::max_element(load.begin(), load.end()) : even / eff;
        a.flows_sum += F;
        a.groups += 1;
        for (std::size_t i = 0; i < ks.size(); ++i) {
          const Conn& c = conns[ks[i]];
          const double nic_share = R / std::max(out_n[port(c.src)], in_n[port(c.dst)]);
          double g = 0;
          for (int j = 0; j < q; ++j) {
            const double l = per_flow
                                 ? load[link[i * static_cast<std::size_t>(q) + static_cast<std::size_t>(j)]]
                                 : std::max(1.0, even) / eff;
            // Even spreading gives a flow R P / F of the up-links, never more than its NIC share.
            const double up = per_flow ? R / l : R * eff * static_cast<double>(P) / (F * q);
            g += std::min(nic_share / q, up);
          }
          a.gbps.push_back(g);
          worst = std::min(worst, g);
        }
        a.conns += F;
      }
      a.worst_sum += worst;
    }
  }
  for (int t = 1; t < L; ++t) {
    Acc& a = acc[static_cast<std::size_t>(t)];
    if (a.gbps.empty()) continue;
    const SwitchTier& st = f.scale_out.tiers[static_cast<std::size_t>(t - 1)];
    TierTraffic tt;
    tt.tier = t;
    tt.tier_name = st.name;
    tt.policy = st.load_balancing;
    tt.flows = a.flows_sum / a.groups;
    tt.sub_flows = tt.flows * (st.load_balancing == "ecmp" ? std::max(1, st.flows_per_connection) : 1);
    tt.paths = paths[static_cast<std::size_t>(t)];
    tt.connections = a.conns / o.seeds;
    tt.Gbps.median = quantile(a.gbps, 0.5);
    tt.Gbps.p10 = quantile(a.gbps, 0.1);
    tt.Gbps.min = a.worst_sum / o.seeds;
    tt.Gbps.mean = std::accumulate(a.gbps.begin(), a.gbps.end(), 0.0) / static_cast<double>(a.gbps.size());
    tt.max_load = a.emax_sum / a.groups;
    tt.measured_max_load = a.mmax_sum / a.groups;
    res.tiers.push_back(tt);
  }
  res.connections = 0;
  {
    std::mt19937_64 r0(0x9e3779b97f4a7c15ULL);
    res.connections = pattern_conns(o.pattern, res.nranks, r0).size();
  }
  return res;
}

}  // namespace fb::model
