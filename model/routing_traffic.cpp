// Per-flow throughput of a traffic pattern on a routed fabric (model/routing.hpp, predict_traffic).
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <unordered_map>
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

// `leaf`: the ranks under one tier-1 subtree (the shift's stride).
std::vector<Conn> pattern_conns(const std::string& pattern, std::uint64_t n, std::uint64_t leaf,
                                std::mt19937_64& rng) {
  std::vector<Conn> c;
  if (pattern == "halves") {  // fabricbench's sendrecv pairs: the lower half streams to the upper
    for (std::uint64_t i = 0; i < n / 2; ++i) c.push_back({i, i + n / 2});
  } else if (pattern == "shift") {
    for (std::uint64_t i = 0; i < n; ++i) c.push_back({i, (i + leaf) % n});
  } else if (pattern == "ring") {
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

// The links of one run: each identified by (kind, a, b) with a capacity; each flow's links.
struct Links {
  std::unordered_map<std::uint64_t, int> index;
  std::vector<double> cap;
  std::vector<std::vector<int>> flows;
  int id(std::uint64_t kind, std::uint64_t a, std::uint64_t b, double capacity) {
    const std::uint64_t key = kind << 60 | a << 24 | b;  // a < 2^36, b < 2^24: ranks are <= 1024
    const auto [it, fresh] = index.emplace(key, static_cast<int>(cap.size()));
    if (fresh) cap.push_back(capacity);
    return it->second;
  }
};

}  // namespace

// Progressive filling: every unfrozen flow's rate rises together; when a link fills, the flows
// crossing it freeze at that level. Links that fill at the same level (to 1e-9) freeze together,
// so symmetric patterns (all-to-all) take a few rounds.
std::vector<double> max_min_fair(const std::vector<double>& cap, const std::vector<std::vector<int>>& flows) {
  const std::size_t nl = cap.size();
  std::vector<std::vector<std::size_t>> users(nl);
  for (std::size_t i = 0; i < flows.size(); ++i)
    for (const int l : flows[i]) users[static_cast<std::size_t>(l)].push_back(i);
  std::vector<double> frozen_sum(nl, 0), rate(flows.size(), 0);
  std::vector<std::size_t> active(nl);
  for (std::size_t l = 0; l < nl; ++l) active[l] = users[l].size();
  std::vector<bool> done(flows.size(), false);
  std::size_t left = flows.size();
  while (left > 0) {
    double level = 1e300;
    for (std::size_t l = 0; l < nl; ++l)
      if (active[l] > 0) level = std::min(level, (cap[l] - frozen_sum[l]) / static_cast<double>(active[l]));
    if (level >= 1e300) break;  // the flows left cross no link
    for (std::size_t l = 0; l < nl; ++l) {
      if (active[l] == 0 || (cap[l] - frozen_sum[l]) / static_cast<double>(active[l]) > level * (1 + 1e-9))
        continue;
      for (const std::size_t i : users[l]) {
        if (done[i]) continue;
        done[i] = true;
        rate[i] = level;
        --left;
        for (const int m : flows[i]) {
          frozen_sum[static_cast<std::size_t>(m)] += level;
          --active[static_cast<std::size_t>(m)];
        }
      }
    }
  }
  return rate;
}

bool is_traffic_pattern(const std::string& p) {
  return p == "permutation" || p == "ring" || p == "alltoall" || p == "shift" || p == "halves";
}

namespace {

// What one tier accumulates over the seeds.
struct TierAcc {
  std::vector<double> gbps;  // every climbing connection's rate, all seeds
  double worst_sum = 0, flows_sum = 0, groups = 0, emax_sum = 0, mmax_sum = 0, conns = 0;
};

// The checked options: ranks, ranks per domain and the pattern; throws std::invalid_argument.
TrafficResult resolve(const Fabric& f, const TrafficOptions& o) {
  if (!is_traffic_pattern(o.pattern))
    throw std::invalid_argument("traffic: unknown pattern '" + o.pattern + "' (known: " + kTrafficPatterns +
                                ")");
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
  return res;
}

// Up-links of one tier-t subtree (index t, 1 .. L - 1): its NIC ports over the down:up port
// ratios up to tier t.
std::vector<double> tier_paths(const Geometry& G) {
  const auto& tiers = G.f.scale_out.tiers;
  const int L = static_cast<int>(tiers.size());
  std::vector<double> paths(static_cast<std::size_t>(L) + 1, 1);
  double ratio = 1;
  for (int t = 1; t < L; ++t) {
    const SwitchTier& st = tiers[static_cast<std::size_t>(t - 1)];
    const double d = down_ports(st, false);
    ratio *= d / std::max(1.0, st.radix - d);
    const double ports = t == 1 ? d : G.T.S[t] * G.nics;
    paths[static_cast<std::size_t>(t)] = std::max(1.0, std::round(ports / ratio));
  }
  return paths;
}

// One seed's connections at tier t: each connection leaving its domain as q sub-flows over its NIC
// ports and, when it climbs above tier t, over the up- and down-link its tier's policy picks (ECMP:
// a hash draw; static: by destination; adaptive/spray: a pool of all P links). The flows share
// the links max-min fairly; each source subtree's climbing connections add their rates, the
// busiest link's expected and drawn load, and the worst rate to `a`.
void route_seed_tier(const Geometry& G, const std::vector<Conn>& conns, int t, std::uint64_t P, double R,
                     std::mt19937_64& rng, TierAcc& a) {
  const SwitchTier& st = G.f.scale_out.tiers[static_cast<std::size_t>(t - 1)];
  const bool ecmp = st.load_balancing == "ecmp";
  const bool per_flow = ecmp || st.load_balancing == "static";
  const int q = ecmp ? std::max(1, st.flows_per_connection) : 1;
  const double eff =
      st.load_balancing == "adaptive" && st.adaptive_efficiency > 0 ? st.adaptive_efficiency : 1;
  const auto port = [&](std::uint64_t r) { return G.domain(r) * 4096 + G.nic(r); };
  Links net;
  std::vector<std::size_t> owner;                                // each sub-flow's connection
  std::map<std::uint64_t, std::vector<std::size_t>> by_subtree;  // climbing connections by source subtree
  std::map<std::uint64_t, double> up_load, down_load;            // climbing sub-flows per link
  std::uniform_int_distribution<std::uint64_t> pick(0, P - 1);
  for (std::size_t k = 0; k < conns.size(); ++k) {
    const Conn& c = conns[k];
    if (G.domain(c.src) == G.domain(c.dst)) continue;
    const bool climbs = G.climbs(t, c);
    if (climbs) by_subtree[G.subtree(t, c.src)].push_back(k);
    const std::uint64_t s_src = G.subtree(t, c.src), s_dst = G.subtree(t, c.dst);
    for (int j = 0; j < q; ++j) {
      std::vector<int> ls{net.id(0, port(c.src), 0, R), net.id(1, port(c.dst), 0, R)};
      if (climbs) {
        if (per_flow) {
          const std::uint64_t x = ecmp ? pick(rng) : G.dest_index(t, c.dst) % P;
          ls.push_back(net.id(2, s_src, x, R));
          ls.push_back(net.id(3, s_dst, x, R));
          up_load[s_src * P + x] += 1;
          down_load[s_dst * P + x] += 1;
        } else {  // spread over all P links each way
          const double pool = R * static_cast<double>(P) * eff;
          ls.push_back(net.id(2, s_src, P, pool));
          ls.push_back(net.id(3, s_dst, P, pool));
        }
      }
      net.flows.push_back(std::move(ls));
      owner.push_back(k);
    }
  }
  if (by_subtree.empty()) return;
  const std::vector<double> sub = max_min_fair(net.cap, net.flows);
  std::vector<double> rate(conns.size(), 0);
  for (std::size_t x = 0; x < sub.size(); ++x) rate[owner[x]] += sub[x];
  double worst = 1e300;
  for (const auto& [subtree, ks] : by_subtree) {
    const double F = static_cast<double>(ks.size());
    a.emax_sum += route_tier(st, F, static_cast<double>(P)).max_load;
    double busiest = F * q / static_cast<double>(P) / eff;
    if (per_flow) {
      busiest = 0;
      for (std::uint64_t x = 0; x < P; ++x) {
        const std::uint64_t key = subtree * P + x;
        if (auto it = up_load.find(key); it != up_load.end()) busiest = std::max(busiest, it->second);
        if (auto it = down_load.find(key); it != down_load.end()) busiest = std::max(busiest, it->second);
      }
    }
    a.mmax_sum += busiest;
    a.flows_sum += F;
    a.groups += 1;
    for (const std::size_t k : ks) {
      a.gbps.push_back(rate[k]);
      worst = std::min(worst, rate[k]);
    }
    a.conns += F;
  }
  a.worst_sum += worst;
}

// Tier t's line of the result from what its seeds accumulated.
TierTraffic summarize(const SwitchTier& st, int t, double paths, int seeds, const TierAcc& a) {
  TierTraffic tt;
  tt.tier = t;
  tt.tier_name = st.name;
  tt.policy = st.load_balancing;
  tt.flows = a.flows_sum / a.groups;
  tt.sub_flows = tt.flows * (st.load_balancing == "ecmp" ? std::max(1, st.flows_per_connection) : 1);
  tt.paths = paths;
  tt.connections = a.conns / seeds;
  tt.Gbps.median = quantile(a.gbps, 0.5);
  tt.Gbps.p10 = quantile(a.gbps, 0.1);
  tt.Gbps.min = a.worst_sum / seeds;
  tt.Gbps.mean = std::accumulate(a.gbps.begin(), a.gbps.end(), 0.0) / static_cast<double>(a.gbps.size());
  tt.max_load = a.emax_sum / a.groups;
  tt.measured_max_load = a.mmax_sum / a.groups;
  return tt;
}

}  // namespace

TrafficResult predict_traffic(const Fabric& f, const TrafficOptions& o) {
  TrafficResult res = resolve(f, o);
  const Placement pl{res.nranks, std::min(res.ranks_per_domain, res.nranks)};
  Geometry G{f, detail::make_topo(f, pl), pl.ranks_per_domain,
             f.scale_out.nics_per_domain > 0 ? static_cast<double>(f.scale_out.nics_per_domain) : 1.0};
  const double R = f.scale_out.nic_bandwidth_Gbps * f.scale_out.wire_efficiency * nic_efficiency(f);
  res.nic_Gbps = R;
  const int L = static_cast<int>(f.scale_out.tiers.size());
  const auto leaf_ranks = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::llround(std::max(1.0, G.T.S[1]) * static_cast<double>(G.g))));
  const std::vector<double> paths = tier_paths(G);

  std::vector<TierAcc> acc(static_cast<std::size_t>(L) + 1);
  std::mt19937_64 rng(12345);
  for (int s = 0; s < o.seeds; ++s) {
    rng.seed(0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(s + 1));
    const std::vector<Conn> conns = pattern_conns(o.pattern, res.nranks, leaf_ranks, rng);
    for (int t = 1; t < L; ++t)
      route_seed_tier(G, conns, t, static_cast<std::uint64_t>(paths[static_cast<std::size_t>(t)]), R, rng,
                      acc[static_cast<std::size_t>(t)]);
  }
  for (int t = 1; t < L; ++t) {
    const TierAcc& a = acc[static_cast<std::size_t>(t)];
    if (!a.gbps.empty())
      res.tiers.push_back(summarize(f.scale_out.tiers[static_cast<std::size_t>(t - 1)], t,
                                    paths[static_cast<std::size_t>(t)], o.seeds, a));
  }
  std::mt19937_64 r0(0x9e3779b97f4a7c15ULL);
  res.connections = pattern_conns(o.pattern, res.nranks, leaf_ranks, r0).size();
  return res;
}

}  // namespace fb::model
