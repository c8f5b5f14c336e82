// Concurrent point-to-point flows on a fabric: what each one should get when they all run at once.
// `fabricbench validate` measures its pair matrix in rounds of disjoint pairs, every pair of a
// round at the same time; this is the model's expectation for such a round, for any set of pairs
// (a round of the all-pairs schedule, or one pair alone).
//
// Endpoints are ranks in placement order (model/cost.hpp: ranks fill domains in order, and
// consecutive domains sit under the same switches). Every flow crosses a set of links, each of a
// capacity per direction taken from the fabric file with the rules of model/algorithms/common.hpp:
//
//   same domain      the sender's scale-up egress and the receiver's scale-up ingress, Bu each
//                    (scale_up.bandwidth_GBps per endpoint per direction);
//   other domains    the sender's NIC egress and the receiver's NIC ingress, one NIC's line rate x
//                    wire_efficiency each, where endpoint i of a domain of size D uses NIC
//                    floor(i x nics_per_domain / D): the D / nics_per_domain endpoints behind a NIC
//                    share it (2 host ranks behind one emulated NIC), an endpoint that sends alone
//                    gets all of it;
//                    and for every tier t below the flows' lowest common tier, the sender's tier-t
//                    subtree up-link and the receiver's down-link: the subtree's NIC ports x line
//                    rate x wire_efficiency / (o_1 ... o_t), the capacity C_t of common.hpp summed
//                    over the subtree (a leaf of two 100 Mb/s hosts at 2:1: 100 Mb/s up, shared by
//                    every flow that leaves the leaf). NIC i of a domain is on rail
//                    floor(i x rails / nics_per_domain); flows between rails meet above the leaf.
//
// Rates are max-min fair (progressive filling: the most constrained link fixes its flows' share,
// repeat), as TCP flows and RDMA congestion control share a bottleneck to first order. A flow's
// time for `bytes` is the latency of its lowest common tier (common.hpp section 5) plus bytes at
// its rate. Standard library only, O(flows x links) per round.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/cost.hpp"
#include "model/fabric.hpp"

namespace fb::model {

struct Flow {
  std::uint64_t src = 0, dst = 0;  // endpoints (ranks in placement order), src != dst
};

struct FlowPrediction {
  double GBps = 0;         // the flow's max-min fair rate
  double latency_us = 0;   // one-way latency of one message on its path
  int tier = 0;            // lowest common tier: 0 inside a domain, t = 1.. the tier it turns at
  std::string bottleneck;  // "scale-up", "nic", "tier:<name>": the link that fixed its rate
  double time_us(double bytes) const { return latency_us + (GBps > 0 ? bytes / (GBps * 1e3) : 0); }
};

// Rates of `flows` all running at once. Throws std::invalid_argument for an impossible placement
// (as predict()) or a flow naming an endpoint outside it.
std::vector<FlowPrediction> predict_flows(const Fabric& f, const Placement& p,
                                          const std::vector<Flow>& flows);

}  // namespace fb::model
