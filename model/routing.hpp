// Routing and load balancing on the scale-out tiers (docs/routing.md): how the flows that climb
// above a switch tier share its equal-cost up-links under the tier's `load_balancing` policy.
//
// A tier-t switch (t below the top) has P up-links of one port's rate R. F concurrent flows climb
// through it; with per-flow routing a flow is on one up-link and gets R / (the flows on that link)
// (max-min fair shares of one link), so the step they belong to runs at the rate of the flow on
// the most loaded link, R / M (ecmp: up-links and the links down into the subtree). Under each policy:
//   ecmp      each flow (each of flows_per_connection sub-flows of a connection) is hashed
//             uniformly and independently onto the P up-links: M is the maximum load of F balls
//             thrown into P bins, a random variable. The up-link picks the switch above, so the
//             F flows arriving into the subtree from elsewhere, hashed at their own switches, load
//             its P down-links the same way, independently: a flow's rate is set by the busier of
//             its up-link and the down-link into its destination's subtree, and the step by the
//             busiest link in either direction, the maximum over 2P bins in two groups of P with F
//             balls each; the model uses its expectation E[M]
//             (ecmp_expected_max_load: exact for F <= 256 from the distribution of the maximum,
//             the independent-bin approximation beyond it, and its normal limit for F / P > 1000;
//             memoised, so a sweep to 2^20 GPUs pays each (F, P) once). A given flow shares its
//             up-link with Binomial(F - 1, 1 / P) others.
//   static    deterministic next hops by destination (D-mod-k): M = ceil(F / P). The model's
//             patterns (rings, shifts, recursive doubling's xor partners, all-to-all) are
//             routed without contention by destination-mod-k on a fat tree (Zahavi et al., "Optimized
//             InfiniBand fat-tree routing for shift all-to-all communication patterns", CCPE 2010),
//             so nothing collides; a random permutation does (--traffic permutation places it exactly).
//   adaptive  packets or flowlets spread evenly over the P up-links at adaptive_efficiency of the
//             even spread (NVIDIA Spectrum-X, InfiniBand adaptive routing): a flow is not held to one
//             link; and never worse than hashing the same flows would be (with very many small flows
//             ECMP's maximum comes within a few % of the mean).
//   spray     packets sprayed evenly (AWS SRD): the even spread, the model's rate without routing.
// The cost model (model/algorithms/common.hpp) computes each tier's rate for an even spread of the
// flows over all up-links; routing_factor() is what that rate is divided by under the policy.
// Standard library only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/fabric.hpp"

namespace fb::model {

// E[max load] when `flows` flows are hashed uniformly onto `paths` paths. flows = 1 on any paths
// gives 1; any flows on 1 path gives flows; 2 flows on 2 paths 1.5. A non-integer flow count (an
// average over a tier's switches) interpolates linearly between its neighbours. groups = 2: the
// busiest of two independent such sets (a switch's up-links, and the links from the tier above
// down into its subtree, which the flows arriving from other subtrees were hashed onto at their
// own switches): 2 flows each way on 2 paths 1.75.
double ecmp_expected_max_load(double flows, double paths, int groups = 1);

// P(a given flow shares its up-link with exactly k others) under ECMP: Binomial(F - 1, 1 / P).
double ecmp_share_pmf(long flows, long paths, long k);

// One tier's routing for one step: the policy, the concurrent flows climbing through one of its
// switches and its up-links, the expected load of the most loaded link (up or down) and what the even-spread
// rate is divided by.
struct TierRouting {
  std::string policy;      // the tier's load_balancing
  double flows = 0;        // F: flows climbing through one switch of the tier (sub-flows counted)
  double paths = 1;        // P: the switch's up-links
  double max_load = 0;     // expected flows on its most loaded link, up-links and down-links (ecmp)
  double factor = 1;       // even-spread rate / the policy's slowest-flow rate (>= 1 when it binds)
  bool collision = false;  // flows share an up-link while others carry fewer (ecmp; static when F > P
                           // does not divide evenly)
};

// `flows` connections climbing through a switch of tier `st` with `paths` up-links (each
// connection is st.flows_per_connection sub-flows under ecmp).
TierRouting route_tier(const SwitchTier& st, double connections, double paths);

// The same factor without the record, for the cost model's inner loops: the policy parsed once.
enum class Balance { spray = 0, ecmp, adaptive, static_ };
Balance parse_balance(const std::string& load_balancing);  // unknown names: spray
double routing_factor(Balance b, const SwitchTier& st, double connections, double paths, bool& collision);

// Name of the policy when a collision sets a step's time: "ecmp collision", "static collision".
std::string collision_note(const SwitchTier& st);

}  // namespace fb::model

namespace fb::model {

// ---- traffic patterns (fabricbench model --traffic) ------------------------------------------------
//
// The per-flow throughput a pairwise traffic pattern gets on each tier it crosses, under the
// tier's policy, for comparison with measurements on a routed (emulated) fabric. Endpoints are
// ranks in placement order, `ranks_per_domain` per domain, each on the NIC and rail of its local
// index (as model/flows.hpp). A connection climbs above tier t when its ends are in different
// tier-t subtrees (different leaves or rails at tier 1); the connections climbing out of one
// subtree share its up-links: one leaf's u_1 up-links at tier 1, at tier t >= 2 every up-link of
// the subtree's tier-t switches (per-hop hashes are independent, so a flow's tier-t up-link is
// uniform over them). Every port runs at the NIC's payload rate (line rate x wire_efficiency x
// the NIC kind's share). Per run (seed): a permutation is drawn (ring and alltoall are fixed),
// every ECMP sub-flow hashed uniformly onto up-link j of its source subtree (a flow shares its
// up-link with Binomial(F - 1, 1 / P) others), static routes by destination mod P; up-link j leads
// to the switch whose down-link j enters every subtree, so the sub-flow also crosses down-link j
// of its destination's subtree, where flows from other subtrees may join it (the spine->leaf
// collision). Adaptive and spray spread a subtree's traffic over its P up-links (and P down-links)
// evenly: one pooled link of P x the port rate x adaptive_efficiency each way. Rates are max-min
// fair (progressive filling) over every link a sub-flow crosses: its sender's and receiver's NIC
// ports (shared with every connection leaving or entering the domain), the up-link and the
// down-link; a connection gets the sum over its q sub-flows.
// The patterns predict_traffic knows, for messages.
inline constexpr const char* kTrafficPatterns = "permutation, ring, alltoall, shift, halves";
bool is_traffic_pattern(const std::string& pattern);

struct TrafficOptions {
  std::string pattern;                 // "permutation", "ring", "alltoall", "shift" (each rank to the
                                       // rank at its place under the next leaf), "halves" (rank r
                                       // < n/2 to r + n/2: the pairs of `run --op sendrecv`)
  std::uint64_t nranks = 0;            // 0: the fabric's endpoints, at most 1024
  std::uint64_t ranks_per_domain = 0;  // 0: the domain size
  int seeds = 20;                      // runs (permutations and hash draws)
};

struct FlowDistribution {
  double median = 0, p10 = 0, min = 0, mean = 0;  // Gbit/s per connection
};

struct TierTraffic {
  int tier = 0;  // 1-based tier the connections climb above
  std::string tier_name;
  std::string policy;
  double flows = 0;              // connections climbing through one subtree's up-links, mean over them
  double sub_flows = 0;          // flows x flows_per_connection (ecmp)
  double paths = 0;              // P: the subtree's up-links
  double connections = 0;        // connections crossing this tier per run
  FlowDistribution Gbps;         // min: the worst connection of a run, averaged over runs
  double max_load = 0;           // expected flows on the most loaded link of a subtree, up or down
                                 // (ecmp: E[max], ecmp_expected_max_load per subtree, both
                                 // directions), mean over subtrees and runs
  double measured_max_load = 0;  // the same from the runs' draws
};

struct TrafficResult {
  std::string pattern;
  std::uint64_t nranks = 0, ranks_per_domain = 0, connections = 0;
  int seeds = 0;
  double nic_Gbps = 0;             // one port's payload rate
  std::vector<TierTraffic> tiers;  // tiers crossed, leaf first (empty: nothing leaves a leaf)
};

// Max-min fair rates of flows over links: flows[i] lists the links (indices into capacity) flow i
// crosses, each flow crosses at least one. The rates predict_traffic gives its sub-flows.
std::vector<double> max_min_fair(const std::vector<double>& capacity,
                                 const std::vector<std::vector<int>>& flows);

// Throws std::invalid_argument for an unknown pattern, a placement the fabric cannot hold, or an
// all-to-all of more than 512 ranks.
TrafficResult predict_traffic(const Fabric& f, const TrafficOptions& o);

}  // namespace fb::model
