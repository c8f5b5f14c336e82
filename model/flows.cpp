// Concurrent flows (model/flows.hpp): the links each flow crosses, then max-min fair rates.
#include "model/flows.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "model/algorithms/common.hpp"

namespace fb::model {

namespace {

struct Link {
  double capacity = 0;  // GB/s, one direction
  int slot = 0;         // detail::Slot: what the link is (scale-up, nic, tier)
  std::vector<std::size_t> flows;
};

using Links = std::map<std::string, Link>;

// The links each flow crosses on a placement's topology.
struct Router {
  const Fabric& f;
  const detail::Topo& T;
  std::uint64_t g;  // ranks per domain
  double nics;      // NICs per domain
  double nic_GBps;
  Links links;

  Router(const Fabric& fabric, const detail::Topo& topo)
      : f(fabric),
        T(topo),
        g(static_cast<std::uint64_t>(topo.g)),
        nics(fabric.scale_out.nics_per_domain > 0 ? fabric.scale_out.nics_per_domain : 1),
        nic_GBps(fabric.scale_out.nic_bandwidth_Gbps / 8.0 * fabric.scale_out.wire_efficiency) {}

  // Which NIC of its domain an endpoint uses, and that NIC's rail (flows between rails meet above
  // the leaf). Local indices count endpoints of the fabric's domain; a placement with fewer ranks
  // per domain keeps each rank on the NIC of its local index.
  std::uint64_t nic_of(std::uint64_t local) const {
    return static_cast<std::uint64_t>(std::floor(static_cast<double>(local) * nics / f.scale_up.domain_size));
  }
  std::uint64_t rail_of(std::uint64_t nic) const {
    return static_cast<std::uint64_t>(std::floor(static_cast<double>(nic) * T.rails / nics));
  }
  // Tier-t subtree of domain d (t >= 1), and the capacity of its up- (or down-) link.
  std::uint64_t subtree_of(int t, std::uint64_t d) const {
    return static_cast<std::uint64_t>(std::floor(static_cast<double>(d) / std::max(1.0, T.S[t])));
  }
  double subtree_capacity(int t) const {
    const double ports = t == 1 ? T.S[1] * nics / T.rails : T.S[t] * nics;
    double o = 1;
    for (int k = 1; k <= t; ++k)
      o *= std::max(1.0, f.scale_out.tiers[static_cast<std::size_t>(k - 1)].oversubscription);
    return ports * nic_GBps / o;
  }

  void use(const std::string& key, double capacity, int slot, std::size_t flow) {
    Link& l = links[key];
    l.capacity = capacity;
    l.slot = slot;
    l.flows.push_back(flow);
  }

  // Flow k's links, and its tier and latency into `out`.
  void route(std::size_t k, const Flow& fl, FlowPrediction& out) {
    using namespace detail;
    const std::uint64_t ds = fl.src / g, dd = fl.dst / g;
    if (ds == dd) {
      out.tier = 0;
      out.latency_us = T.au;
      use("up-out:" + std::to_string(fl.src), T.bu, kScaleUp, k);
      use("up-in:" + std::to_string(fl.dst), T.bu, kScaleUp, k);
      return;
    }
    const std::uint64_t ns = nic_of(fl.src % g), nd = nic_of(fl.dst % g);
    const std::uint64_t rs = rail_of(ns), rd = rail_of(nd);
    use("nic-out:" + std::to_string(ds) + "." + std::to_string(ns), nic_GBps, kNic, k);
    use("nic-in:" + std::to_string(dd) + "." + std::to_string(nd), nic_GBps, kNic, k);
    int lca = T.L;
    for (int t = 1; t <= T.L; ++t) {
      const bool same = subtree_of(t, ds) == subtree_of(t, dd) && (t > 1 || rs == rd);
      if (same || t == T.L) {
        lca = t;
        break;
      }
      // Below the top tier, leaving a tier-t subtree climbs its up-link, and the receiver's
      // subtree's down-link (leaf subtrees are per rail).
      const std::string where = std::to_string(t) + ":" + (t == 1 ? std::to_string(rs) + ":" : "");
      use("tier-up:" + where + std::to_string(subtree_of(t, ds)), subtree_capacity(t), tier_slot(t), k);
      const std::string where_d = std::to_string(t) + ":" + (t == 1 ? std::to_string(rd) + ":" : "");
      use("tier-down:" + where_d + std::to_string(subtree_of(t, dd)), subtree_capacity(t), tier_slot(t), k);
    }
    out.tier = lca;
    out.latency_us = T.lat[lca];
  }
};

// Progressive filling: the link with the smallest fair share among its unfixed flows fixes
// them at that share; its capacity left over is what the fixed flows did not take.
void fill_fair_rates(const Links& links, const detail::Topo& T, std::vector<FlowPrediction>& out) {
  std::vector<bool> fixed(out.size(), false);
  std::size_t left = out.size();
  while (left > 0) {
    const Link* best = nullptr;
    double best_share = std::numeric_limits<double>::infinity();
    for (const auto& [key, l] : links) {
      double used = 0;
      int unfixed = 0;
      for (std::size_t k : l.flows) {
        if (fixed[k])
          used += out[k].GBps;
        else
          ++unfixed;
      }
      if (unfixed == 0) continue;
      const double share = std::max(0.0, l.capacity - used) / unfixed;
      if (share < best_share) {
        best_share = share;
        best = &l;
      }
    }
    if (!best) break;  // every flow crosses a link; not reached
    for (std::size_t k : best->flows)
      if (!fixed[k]) {
        fixed[k] = true;
        out[k].GBps = best_share;
        out[k].bottleneck = detail::slot_name(T, best->slot);
        --left;
      }
  }
}

}  // namespace

std::vector<FlowPrediction> predict_flows(const Fabric& f, const Placement& pl,
                                          const std::vector<Flow>& flows) {
  const detail::Topo T = detail::make_topo(f, pl);
  Router router(f, T);
  std::vector<FlowPrediction> out(flows.size());
  for (std::size_t k = 0; k < flows.size(); ++k) {
    const Flow& fl = flows[k];
    if (fl.src >= pl.nranks || fl.dst >= pl.nranks || fl.src == fl.dst)
      throw std::invalid_argument("model: flow " + std::to_string(fl.src) + " -> " + std::to_string(fl.dst) +
                                  " is not between two of the placement's " + std::to_string(pl.nranks) +
                                  " endpoints");
    router.route(k, fl, out[k]);
  }
  fill_fair_rates(router.links, T, out);
  return out;
}

}  // namespace fb::model
