// The fabric model's shared terms: placement, topology (subtree sizes, tier capacities, path
// latencies), the traffic patterns algorithms are made of, cost accounting and the NCCL tuning
// facts. Every algorithm file in model/algorithms/ is written with these and nothing else, so two
// algorithms that move the same bytes the same way cost the same.
//
// ================================================================================================
// THE MODEL
// ================================================================================================
//
// Units: bytes; GB/s = 1e9 B/s (so bytes / (GBps * 1e3) is microseconds); times in microseconds.
//
// 1. Placement
//    p ranks, g = min(ranks_per_domain, p) of them in each scale-up domain, m = ceil(p / g)
//    domains. Ranks fill domains in order and consecutive domains sit under the same switches (rank
//    order follows the topology). Rank r has local index r mod g; rank distance is |r - r'|.
//
// 2. Links
//    Scale-up (inside a domain): every endpoint reaches every other one at Bu =
//    scale_up.bandwidth_GBps per direction, one message costs au = scale_up.latency_us. (NVSwitch is
//    non-blocking; for host ranks the "domain" is the host and the link is shared memory.)
//    Scale-out (between domains): each endpoint has B0 = Fabric::nic_GBps_per_endpoint() per
//    direction: its share of its domain's NICs (nics_per_domain counts every rail) after wire
//    efficiency. Planes split each NIC port over identical fabrics: they do not change B0; they
//    change how many endpoints the tiers hold (a plane's switch has more, slower ports, which the
//    fabric file states as the tier's radix). A GPU rank uses its own endpoint's share only: with
//    g < domain_size the idle endpoints' NICs stay idle (GPUs use the NIC on their PCIe switch).
//    Host endpoints (endpoint.kind: host) share the host's NICs among the g ranks actually there:
//    B0 = the domain's NIC bandwidth / g.
//    Multi-rail striping: a GPU with k = nics_per_domain / domain_size > 1 NICs of a kind with a
//    striping unit U (rates.hpp: the EFA kinds) spreads an op's network bytes B over them in
//    units of U; its busiest NIC carries max(B / k, min(B, U)), so the NCCL algorithms cap B0 at
//    B0 (B / k) / that (striped_rate; only for B < k U).
//
// 3. Switch tiers (leaf = tier 1 ... top = tier L) and their subtrees
//    A tier-t switch of radix k_t and oversubscription o_t (down:up) turns
//        d_t = floor(k_t o_t / (1 + o_t))  ports down (k_L at the top tier, which has no up-links),
//    the same rule max_endpoints() uses. A tier-t subtree holds E_t = d_1 d_2 ... d_t NIC ports.
//    A domain has nics_per_domain NICs spread over `rails` rails; rail i of every domain goes to
//    rail i's leaves, so one leaf holds d_1 / (nics_per_domain / rails) domains. Hence, in domains,
//        S_0 = 1 (the domain itself)
//        S_1 = d_1 * rails / nics_per_domain
//        S_t = max(S_{t-1}, E_t / nics_per_domain)          (t >= 2: rails join at tier 2)
//    Traffic between different rails (different local indices in a rail-optimised design,
//    rails > 1) cannot meet at a leaf: for it S_1 is taken as min(S_1, 1). An XOR or shift partner at
//    a rank distance that is a multiple of g keeps the local index, hence the rail ("aligned").
//    NCCL keeps its inter-domain traffic on rails (PXN), so NCCL patterns are aligned.
//    Beyond the top tier (m > S_L, more GPUs than the fabric holds) the model extrapolates as if the
//    top tier grew: nothing is charged above tier L. Callers that must refuse such scales compare
//    with Fabric::max_endpoints().
//
// 4. Tier capacity
//    Traffic that climbs above tier t (its lowest common switch is above t) has, per endpoint,
//        C_t = B0 / (o_1 o_2 ... o_t)        (C_0 = B0)
//    when every endpoint under the subtree sends up at once. A pattern in which only a fraction x
//    of a subtree's endpoints send up gets C_t / x each, never more than B0. So a phase in which
//    each endpoint sends b bytes over the network, a fraction x_t of them above tier t, costs
//        b * max(1 / B0, max_{t < L} x_t / C_t)
//    and its bottleneck is "nic" or "tier:<name>" of the binding t.
//    C_t is the even spread over the tier's up-links; under the tier's load_balancing it is divided
//    by the routing factor of the flows climbing through one switch (model/routing.hpp,
//    routed_capacity(): ECMP's expected busiest link, up or down, adaptive's efficiency), and a binding
//    ECMP collision is reported as "tier:<name> (ecmp collision)".
//
// 5. Latency
//    One message whose lowest common switch is tier t costs
//        lat_t = scale_out.latency_us + 2 (h_1 + ... + h_{t-1}) + h_t      (up and down the tree)
//    (lat_0 = au). A step in which all ranks exchange at once pays the largest lat over its pairs.
//
// 6. Traffic patterns (closed forms; "unit" = the ranks of one tier-t subtree, U_t = S_t g, U_0 = g)
//    xor(r)   pairs (i, i ^ r) (recursive doubling/halving, Rabenseifner): no pair leaves a unit
//             when U is a multiple of 2r; all leave when r >= U; otherwise at most r at each edge
//             of a unit: x = min(1, 2r / U).
//    shift(r) pairs (i, i + r) (Bruck, send/recv partners at p/2, fold-in of extra ranks):
//             x = min(1, r / U) when p > U (the last r of each unit send out).
//    tree(r)  binomial broadcast: senders at multiples of 2r send r ahead: at most one sender per
//             unit leaves it: x = 1 / U (0 when U is a multiple of 2r).
//    ring     consecutive ranks (ring, chain, hierarchical's inter-domain rings, NCCL ring/tree,
//             CollNet/NVLS aggregation): one flow per subtree boundary, so a flow crossing tier t
//             gets min(B0, S_t C_t) -- oversubscription binds only when it exceeds the subtree's
//             domains. Host ranks share their host's NICs: there the one flow gets the whole
//             NIC (B0 x domain_size / nics_per_domain) and its subtree's whole up-link (the same
//             factor on S_t C_t). Of the m-1 domain boundaries, floor((m-1) / S_t) cross tier t; hop
//             latencies are summed over that distribution.
//    dense    everyone to everyone (pairwise/linear all-to-all, NCCL all-to-all): a fraction
//             (m - min(m, S_t)) / (m - 1) of each endpoint's scale-out bytes climbs above tier t
//             ((1 - S_t/m) of all its bytes). Pairwise runs it as p - 1 steps: g (S_t - S_{t-1})
//             of them meet at tier t and run at min(B0, C_{t-1}).
//
// 7. Cost
//    time = sum over phases of (steps x alpha + bytes / bandwidth) + reduction + memory. Each term
//    is charged to a slot: "latency" (alpha terms), "scale-up", "nic", "tier:<name>",
//    "reduction" (gamma: bytes reduced / reduce_bandwidth_GBps, per reduction step), "memory"
//    (local copies: bytes read + written / memory_bandwidth_GBps; Bruck's rotations, one rank's
//    out-of-place copy), "in-network" (the switch does the work and its rate binds: NVLS's
//    nvlsEfficiency x Bu; the network legs of SHARP/CollNet are charged to "nic"/"tier" like any
//    other flow, as the fabric gives no separate aggregation rate) and "protocol" (an NCCL
//    protocol's own throughput cap binds: llMaxBw and the per-channel caps on Hopper). The
//    bottleneck is the slot with the largest total; when one slot holds several steps' terms
//    (pairwise's per-tier steps), their sum counts. A reduce or memory bandwidth <= 0 omits the
//    term (not modelled).
//    A step in which some pairs are inside a domain and some cross it costs the slower of the two.
//    p == 1: one local copy of the buffer (2 bytes of memory traffic per byte), busbw 0; times are
//    floored at kMinTimeUs.
//    Forwarding: a step that sends what the rank received or reduced earlier in the op (ring hops
//    after the first, recursive doubling/halving and Rabenseifner steps after the first, the
//    allgather halves, chain and binomial non-root hops, Bruck's packed steps, fold-outs) moves
//    its scale-up bytes at Bu / fwd (fwd = bandwidth_GBps / forward_bandwidth_GBps, 1 without a
//    forward rate; slot kForward, reported as "scale-up"). The network legs are not affected.
//    Exchanges: inside a domain a step in which every rank sends and receives (ring hops, xor and
//    shift steps, pairwise, linear, chain's middle ranks) costs aux = exchange_latency_us (a host
//    CPU runs both directions' protocol; latency_us without it); one-way messages (pingpong,
//    relay, unidir, binomial tree steps) cost au.
//    Host cache (scale_up.cache_bytes > 0): with working set W = 2 g n (reductions over
//    point-to-point add their receive slots, 2 g min(256 KiB, n/p)) and the cached share
//    f = 1 up to the cache, 2 - W / cache beyond it, 0 from twice the cache (cached_share),
//    scale-up time x (f + (1 - f) Bu' / Bs) with Bu' the concurrent copies' rate T.bu and Bs the
//    spilled rate (beyond the cache every copy gets Bs, whatever it got in cache), forwarded time
//    x (f + (1 - f) (Bu' / fwd) / Fs) with Fs = scale_up.forward_spilled_bandwidth_GBps (Bs
//    without it), memory and reduction x (f + (1 - f) M / Ms) and
//    (f + (1 - f) R / Rs) with their spilled rates (endpoint.*_spilled_bandwidth_GBps), or
//    x (f + (1 - f) Bu / Bs) without them. An outer knee (scale_up.outer_cache_bytes, g =
//    max(f, cached_share(outer, W'))) adds (1 - g) x (the term's spilled slowdown) x (Bs / Bo - 1)
//    to each factor, Bo the outer spilled rate (model/cost.hpp, spill_factor). W' = W + X r t
//    with X = scale_up.outer_eviction_GBps (other work through the outer cache; W' = W without),
//    t the op's time and r its reuse (2 for pingpong and relay, whose time is half a round trip,
//    else 1): a fixed point in t, iterated from the time without X.
//    Forward overhead (scale_up.forward_overhead_us, afw): every forwarded scale-up transfer pays
//    it on top of its step's latency.
//
// 8. Point-to-point algorithms (UCX/MPI; the names the harness's --algo takes)
//    ring                (allreduce 2 passes, allgather/reducescatter 1) p-1 hops per pass, of
//                        which m-1 cross domains; bytes n/p per hop at the slowest link of the ring;
//                        reduction (p-1)/p n. Its domain exit goes from local index g-1 to 0:
//                        across rails when g > 1.
//    recursive_doubling  allreduce: log2 p' xor steps of n (+ n reduced each); allgather: step k
//                        moves 2^k n/p. p' = 2^floor(log2 p); the p - p' extra ranks fold in and
//                        out: 2 more steps (allreduce: n each and one more reduction of n;
//                        allgather: n/p in, n out) at shift p'.
//    rabenseifner        allreduce: recursive-halving reduce-scatter from distance 1 (n/2) up,
//                        recursive-doubling allgather mirrored: big messages at short distances.
//    recursive_halving   reducescatter: distance p'/2 with n/2 down to distance 1 with n/p'.
//    hierarchical        allreduce: intra-domain ring reduce-scatter, g concurrent inter-domain
//                        rings allreduce n/g, intra-domain ring allgather (the two-level form
//                        2(g-1)a1 + 2(m-1)a2 + 2(g-1)/g n/B1 + 2(m-1)/(m g) n/B2); allgather:
//                        inter-domain rings of n/p blocks, then an intra-domain ring of n/g blocks.
//    pairwise            alltoall in p-1 shift steps of n/p (step s: r sends to r+s; closed form per tier).
//                        A zero-byte control message between steps (the receiver's acknowledgement
//                        and its readiness for the next step), p in all (none on 2 ranks): one more
//                        latency of the pair each (lat[lca], or au inside a domain).
//    bruck               alltoall: ceil(log2 p) shift steps of the blocks whose index has bit k
//                        set, plus rotations and packing through memory; allgather:
//                        ceil(log2 p) shift steps of min(2^k, p - 2^k) blocks and a final rotation.
//    linear              alltoall with all 2(p-1) requests posted at once: one network latency,
//                        kRequestOverheadUs per request, intra and inter bytes concurrently (no
//                        incast or congestion modelled).
//    binomial            broadcast: ceil(log2 p) tree steps of n, farthest first (MPICH order).
//    chain               broadcast pipelined down the rank chain in k segments, k chosen
//                        optimally in closed form (real-valued): T = A - a_b + n/B_b + 2 sqrt(a_b n X)
//                        with A the sum of hop latencies, (a_b, B_b) the bottleneck hop and X the
//                        sum of 1/B over the other hops; uniform links give (sqrt((p-2)a)+sqrt(n/B))^2.
//    p2p                 unidir/bidir/pingpong/relay between r and r + p/2 (the harness's pairs):
//                        one message at the pairs' largest latency, n at the slowest path; bidir
//                        is full duplex (same time, busbw counts both ways); pingpong is one way;
//                        relay is half a clean and half a forwarded message. sendrecv (the ring
//                        shift, r to r + 1): one shift(1) step of n, every rank at once.
//
// 9. NCCL algorithms (shared/reference/nccl-cost-model.md): time = latency + bytes / algBw, with
//    NCCL's latency tables (base + per-hop, per protocol; a hop's latency is at least the fabric's:
//    NVLink hop = max(table, au), network hop = table + the fabric's switch hops to the lowest
//    common tier), NCCL's busBw -> algBw ratios and corrections, and busBw taken from the fabric:
//    min(Bu, g x the per-endpoint scale-out rate of the pattern) -- the domain's g NICs carry its
//    channels. Protocol payload efficiencies come from Fabric::protocols. The caps of NCCL's
//    per-generation tables (llMaxBw, perChMaxRingLL128, perChMaxTreeLL128, perChMaxTree,
//    perChMaxNVLSTree with kNcclChannels channels) and its LL/LL128 ring and tree factors apply on
//    the generations NCCL tunes (ampere, hopper, blackwell: model/algorithms/nccl_tuning.hpp), the
//    NVLS efficiency on Hopper (0.85) and Blackwell (0.74); the generation is the fabric's
//    endpoint.generation key. Other fabrics get the protocol facts only. NCCL's reductions overlap
//    the transfers (no gamma term). Which protocol wins at each size: docs/model-latency.md.
//    nccl_ring  AR/AG/RS/broadcast: nsteps 2(p-1) / p-1 / p-1 / p, nInter 2(m-1) / m-1 / m-1 / m-1.
//    nccl_tree  AR: base + 2((g-1) intraLat + sum over floor(log2 m) tree levels of interLat);
//               busBw x0.92, x0.85 when each domain has one NIC (NCCL's plain TREE pattern);
//               algBw = busBw / 2.
//    nccl_nvls  AR/AG/RS, Simple: busBw = Bu x nvlsEfficiency x (nCh-1)/nCh, doubled for AR.
//               Across domains only all-reduce, and only with in-network reduction (NVLS+SHARP:
//               each NIC carries n/g each way).
//    nccl_nvlstree AR across domains, Simple: NVLS inside at the generation's NVLSTree share of
//               the NVLS rate (model/rates.hpp nvlstree_share), tree across: busBw capped by g x
//               the network rate; base + intraLat + 2 sum over tree levels of interLat.
//    nccl_collnet_direct / _chain AR across domains with in-network reduction, Simple:
//               algBw = min(intra, 0.5 g x network rate / Direct's GPU/NIC factor, as NCCL's
//               tuning prices CollNet); intra Bu g/(2(g-1)) (direct: reduce-scatter
//               + allgather in the domain) or Bu/2 (chain: up and down a chain); latency
//               2(min(1, g-1) intraLat + 0.4 (g-1)) + interLat (direct) or 2(g-1) intraLat +
//               interLat (chain), as NCCL's tuning.cc.
//    nccl_pat   AG/RS with one rank per domain, Simple: Bruck-pattern steps, busBw x0.75;
//               8 + log2(m) interLat / 3.5 + 2.8 p.
//    nccl_p2p   grouped send/recv: alltoall (all peers at once, as linear, plus NCCL's base and
//               hop latency) and sendrecv (ring shift)/unidir/bidir/pingpong; LL and Simple, Ring's latency
//               table.
//
// 10. Cost of a prediction: O(tiers) or O(tiers x log2 p); no per-rank arrays, no loops over ranks.
// ================================================================================================
#pragma once

#include <array>
#include <cmath>
#include <string>

#include "model/cost.hpp"
#include "model/fabric.hpp"
#include "vocab/op.hpp"

namespace fb::model::detail {

// ---- ops and protocols ------------------------------------------------------------------------

// The vocabulary's ops (vocab/op.hpp).
using Op = vocab::OpKind;
// The op named `op`; throws std::invalid_argument naming the known ops for any other name.
Op parse_op(const std::string& op);
using vocab::is_pair_op;
using vocab::is_ring_shift;
// The ops whose reported time is half a round trip (model/cost.hpp, reuse_interval_us).
using vocab::is_round_trip;

enum class Proto { ll = 0, ll128 = 1, simple = 2, none = 3 };
// "ll", "ll128", "simple"; "" and anything else: none.
Proto parse_proto(const std::string& s);
const char* proto_name(Proto p);

// ---- model constants (not fabric properties; calibrate can only fit the fabric's) --------------

constexpr int kMaxTiers = 8;
constexpr double kMinTimeUs = 1e-3;          // floor of any prediction (a 0-byte local op)
constexpr double kRequestOverheadUs = 0.05;  // posting one nonblocking request (LogGP's o) for
                                             // all-at-once algorithms: linear, NCCL all-to-all
constexpr double kNcclChannels = 16;         // NCCL's collective channels on NVSwitch systems
                                             // (nccl "16 coll channels"): scales its per-channel caps

// ---- cost slots ---------------------------------------------------------------------------------

enum Slot : int {
  kLatency,
  kScaleUp,
  kNic,
  kReduction,
  kMemory,
  kInNetwork,
  kProtocol,
  kForward,  // scale-up time of forwarded data; finish() folds it into kScaleUp
  kTier,
  kCollision = kTier + kMaxTiers,  // a tier whose up-links' routing (model/routing.hpp) collides
  kNumSlots = kCollision + kMaxTiers
};
inline int tier_slot(int t) {
  return kTier + t - 1;
}  // t = 1..L: "tier:<name of tier t>"
inline int collision_slot(int t) {
  return kCollision + t - 1;
}  // "tier:<name> (ecmp collision)"

struct Cost {
  std::array<double, kNumSlots> v{};
  void add(int slot, double us) { v[static_cast<std::size_t>(slot)] += us; }
  double total() const;
  int dominant() const;  // ties go to the lower slot
};

// ---- topology ------------------------------------------------------------------------------------

struct Topo {
  const Fabric* f = nullptr;
  double p = 1, g = 1, m = 1;  // ranks, ranks per domain, domains
  double bu = 0, au = 0;       // scale-up GB/s per direction, latency us
  double aux = 0;              // scale-up latency of an exchange step (every rank sends and receives)
  double b0 = 0;               // per-endpoint scale-out GB/s
  double nvls = 0;             // NVLS rate per GPU per direction, GB/s (0: no NVLS)
  double nic_extra_us = 0;     // what the NIC kind's transport adds to NCCL's network hop (rates.hpp)
  double nics_per_ep = 1;      // NICs per GPU endpoint (nics_per_domain / domain_size; 1 on hosts)
  double stripe_bytes = 0;     // multi-rail striping unit of the NIC kind (rates.hpp; 0: none)
  int L = 0;                   // tiers (0: no scale-out used)
  int top = 0;                 // lowest tier whose subtree holds all m domains (L if none; 0 if m == 1)
  double rails = 1;
  double S[kMaxTiers + 1] = {};          // domains per tier-t subtree, S[0] = 1
  double C[kMaxTiers + 1] = {};          // per-endpoint capacity above tier t, C[0] = b0
  double lat[kMaxTiers + 1] = {};        // latency of a message meeting at tier t, lat[0] = au
  double switch_us[kMaxTiers + 1] = {};  // switch hops part of lat[t] (lat[t] - scale_out.latency_us)
  // Routing (model/routing.hpp): up-links of one tier-t switch, and the connections that climb
  // through one tier-t switch per connection leaving each NIC port (the ports below it, times the
  // flow concentration of the tiers below, times the endpoints sharing a port).
  double up[kMaxTiers + 1] = {};
  double fan[kMaxTiers + 1] = {};
  int balance[kMaxTiers + 1] = {};  // tier t's load_balancing, parsed (model::Balance)
  double reduce_GBps = 0, memory_GBps = 0;
  // Scale-up time of forwarded data over that of clean data, in cache: bandwidth_GBps /
  // forward_bandwidth_GBps (1 when the fabric gives no forward rate).
  double fwd = 1;
  // What each forwarded scale-up transfer pays on top of its step's latency (forward_overhead_us).
  double afw = 0;

  // Domains per tier-t subtree for aligned (same rail) or cross-rail traffic.
  double subtree(int t, bool aligned) const {
    return (t == 1 && !aligned && rails > 1 && S[1] > 1) ? 1.0 : S[t];
  }
  double unit(int t, bool aligned) const { return t == 0 ? g : subtree(t, aligned) * g; }
  // Rail-aligned when the partner keeps the local index (rank distance a multiple of g).
  bool aligned_at(double r) const;
};

// Throws std::invalid_argument for an impossible placement (0 ranks, more ranks per domain than
// the domain holds, domains without a scale-out network, zero bandwidths that would be used).
// The rate of one scale-up transfer while `concurrent` transfers run in its domain:
// min(bandwidth, aggregate / concurrent) (the bandwidth alone without an aggregate limit).
double scaleup_rate(const Fabric& f, double concurrent);

Topo make_topo(const Fabric& f, const Placement& pl);

// ---- rates and steps -----------------------------------------------------------------------------

struct Rate {
  double GBps;
  int slot;
};
inline Rate min_rate(Rate a, Rate b) {
  return b.GBps < a.GBps ? b : a;
}
inline double xfer_us(double bytes, double GBps) {
  return bytes / (GBps * 1e3);
}

enum class Pairing { xor_, shift, tree };
// Fraction of a unit's ranks whose partner lies outside the unit (section 6 above).
double crossing(Pairing pr, double p, double unit, double r);

struct Step {
  double alpha;  // latency of the step (largest over its pairs)
  double bw_us;  // transfer time of the slowest pair
  int slot;      // what bounds bw_us
  int lca;       // lowest common tier of the farthest pair (0: all inside domains)
};
// Every rank sends `bytes` to its partner at rank distance r. `aligned`: whether the partners keep
// their local index (rail-aligned); by default T.aligned_at(r).
Step step(const Topo& T, Pairing pr, double r, double bytes);
Step step(const Topo& T, Pairing pr, double r, double bytes, bool aligned);
// The same step sending forwarded data: what the rank received or reduced earlier in the op. Its
// scale-up part moves at the forward rate (slot kForward).
Step step_fwd(const Topo& T, Pairing pr, double r, double bytes);
// The scale-up rate of forwarded data.
inline Rate scaleup_fwd_rate(const Topo& T) {
  return Rate{T.bu / T.fwd, T.fwd > 1 ? kForward : kScaleUp};
}
inline void add_step(Cost& c, const Step& s, double times = 1) {
  c.add(kLatency, times * s.alpha);
  c.add(s.slot, times * s.bw_us);
}

// The per-endpoint capacity above tier t (C_t) when `connections` climb through each tier-t
// switch, divided by the tier's routing factor (model/routing.hpp); `slot` becomes the tier's
// slot, or its collision slot when colliding flows set that rate.
double routed_capacity(const Topo& T, int t, double connections, int& slot);
// Per-flow scale-out rate of a ring-like pattern (one flow per subtree boundary).
Rate ring_rate(const Topo& T, bool aligned);
// Multi-rail striping (rates.hpp, nic_stripe_bytes): an op that puts `bytes` per endpoint on the
// network with k = nics_per_ep > 1 NICs per GPU loads its busiest NIC with max(bytes / k,
// min(bytes, U)), U = stripe_bytes, so its NICs move the bytes at B0 x (bytes / k) / that. Returns
// `r` capped at that rate (slot kNic when the cap binds); `r` unchanged when the fabric has no
// striping unit, one NIC or fewer per GPU, or bytes >= k U.
Rate striped_rate(const Topo& T, Rate r, double bytes);
// Per-endpoint scale-out rate of an everyone-to-everyone pattern, `aligned_share` of it on rails.
Rate dense_rate(const Topo& T, double aligned_share);
// Share of an everyone-to-everyone pattern's inter-domain pairs that stay on their rail.
double rail_aligned_share(const Topo& T);
// NCCL's double binary tree over m domains: the bytes each NIC carries each way, in units of n/g
// (n/2 per tree): 1 on 2 domains (each is the root of one tree and the leaf of the other: n/2 up
// and n/2 down each way), 2 from 3 (an inner node, with two children and a parent, in one tree and
// a leaf in the other: 3 n/2 + n/2). This is why a 2-node all-reduce's busbw exceeds the NICs'.
inline double tree_network_load(double m) {
  return m <= 2 ? 1 : 2;
}
// Sum over the m-1 boundaries between consecutive domains of hop_latency(lowest common tier).
template <class F>
double boundaries_latency(const Topo& T, bool aligned, F&& hop_latency);
// Lowest common tier of two domains 2^level apart in a binary tree over domains.
int tree_level_tier(const Topo& T, int level);

// Reduction (gamma) and memory terms; nothing when the fabric gives no such bandwidth.
// A skewed exchange (Placement::traffic, model/traffic.cpp): the most loaded rank's bytes over
// scale-up (max over ranks of sent and received inside its domain), over its NIC (outside it),
// its largest own block (a local copy), and pairwise's sum over its steps of the step's largest
// message, split by whether that step's pairs meet inside a domain or outside.
struct ExchangeLoad {
  double up = 0, out = 0, own = 0, step_up = 0, step_out = 0;
};
// `nic_share`: consecutive ranks that share one NIC (the g ranks of a host; GPUs per NIC): `out`
// is the most loaded NIC's bytes over nic_share, so that out / B0 is that NIC's time.
ExchangeLoad exchange_load(const Traffic& t, double p, double g, double nic_share = 1);
// A shared row's domains of g consecutive ranks (the last may be short), each visited with its
// first rank and its entries, except that consecutive whole domains inside one run are alike and
// only the first of them is visited: the cost follows the runs, not n.
template <typename Visit>
void for_each_distinct_domain(const std::vector<Traffic::Run>& runs, std::uint64_t n, std::uint64_t g,
                              Visit&& visit) {
  std::vector<double> vals;
  std::size_t r = 0;
  std::uint64_t start = 0;  // the first rank of runs[r]
  const auto seek = [&](std::uint64_t j) {
    while (start + runs[r].ranks <= j) start += runs[r++].ranks;
  };
  for (std::uint64_t lo = 0; lo < n;) {
    const std::uint64_t hi = std::min(n, lo + g);
    seek(lo);
    const std::uint64_t run_end = start + runs[r].ranks;  // past the run holding lo
    vals.clear();
    for (std::uint64_t j = lo; j < hi; ++j) {
      seek(j);
      vals.push_back(runs[r].bytes);
    }
    visit(lo, static_cast<const std::vector<double>&>(vals));
    // Whole domains after this one that lie inside its run: alike, skipped.
    lo = hi - lo == g && run_end >= hi ? std::max(hi, run_end / g * g) : hi;
  }
}
// How an algorithm runs a skewed exchange: every message at once (linear, nccl_p2p) or in p - 1
// synchronous steps (pairwise); NCCL also relays the other rails' share over scale-up (PXN) and
// runs at its protocol's efficiency.
enum class ExchangeKind { at_once, stepped, nccl };
// The MoE ops priced from the most loaded rank per resource (exchange_load): at once, the slower
// of scale-up and the NIC (tiers through dense_rate) sets the time; stepped, every step lasts as
// long as its largest message. Plus `latency_us`, the largest own block's copy and the combine's
// reduction (Traffic::reduce_bytes).
Prediction skewed_exchange(const Topo& T, Op op, double n, const Traffic& t, ExchangeKind kind,
                           double latency_us, double eff, const char* algo, Proto pr);

void add_reduction(Cost& c, const Topo& T, double bytes);
void add_memory(Cost& c, const Topo& T, double traffic_bytes);
// All-to-all's copy of a rank's own block (send buffer to receive buffer), `block` bytes. On host
// endpoints the CPU that runs the shared-memory copies also does this one, so it adds to them
// (2 x block of memory traffic); a GPU's copy engine overlaps it with the transfers: no term.
void add_own_block_copy(Cost& c, const Topo& T, double block);

// ---- results ---------------------------------------------------------------------------------------

std::string slot_name(const Topo& T, int slot);
Prediction finish(const Topo& T, Op op, double bytes, const Cost& c, const char* algo, Proto proto);
// A prediction that cannot be made: time_us = -1, `why` in bottleneck (predict() throws with it).
Prediction unavailable(const std::string& why);
// p == 1: a local copy. Returns true and sets `out` when the placement is one rank.
bool local_case(const Topo& T, Op op, double bytes, const char* algo, Proto proto, Prediction& out);
using vocab::busbw_factor;

// ---- NCCL ------------------------------------------------------------------------------------------

enum class Gpu { other, hopper, blackwell };
Gpu gpu_generation(const Fabric& f);

struct NcclTable {
  double base[3];
  double intra[3];  // per NVLink hop
  double inter[3];  // per network hop
  bool ok[3];       // protocols the algorithm runs
};
extern const NcclTable kNcclRingLat, kNcclTreeLat, kNcclNvlsLat, kNcclNvlsTreeLat, kNcclCollnetDirectLat,
    kNcclCollnetChainLat, kNcclPatLat, kNcclP2pLat;

inline double nccl_intra(const Topo& T, const NcclTable& tb, Proto pr) {
  const double x = tb.intra[static_cast<int>(pr)];
  return x > T.au ? x : T.au;
}
inline double nccl_inter(const Topo& T, const NcclTable& tb, Proto pr, int tier) {
  return tb.inter[static_cast<int>(pr)] + T.switch_us[tier] + T.nic_extra_us;
}
// Index into NCCL's (1 node, 2 nodes, more) tables.
inline int nccl_nodes_index(const Topo& T) {
  return T.m <= 1 ? 0 : (T.m <= 2 ? 1 : 2);
}
double proto_efficiency(const Fabric& f, Proto pr);
// Caps a rate at `cap` GB/s, charging the protocol slot when the cap binds.
inline Rate cap_rate(Rate r, double cap) {
  return cap < r.GBps ? Rate{cap, kProtocol} : r;
}
// Sanity checks common to the NCCL algorithms; returns false and sets `out` when unavailable.
bool nccl_protocol_ok(const NcclTable& tb, Proto pr, const char* algo, Prediction& out);
// time = lat + bytes / algbw, bandwidth term charged to algbw.slot.
Prediction nccl_finish(const Topo& T, Op op, double bytes, double lat_us, Rate algbw, const char* algo,
                       Proto pr);

// ---- the algorithms (one file each; cost.cpp registers them) ----------------------------------------

#define FB_COST_FN(name)                                                                     \
  Prediction name(const Fabric& f, const std::string& op, const Placement& pl, double bytes, \
                  const std::string& protocol)
FB_COST_FN(cost_ring);
FB_COST_FN(cost_recursive_doubling);
FB_COST_FN(cost_rabenseifner);
FB_COST_FN(cost_recursive_halving);
FB_COST_FN(cost_hierarchical);
FB_COST_FN(cost_pairwise);
FB_COST_FN(cost_bruck);
FB_COST_FN(cost_linear);
FB_COST_FN(cost_binomial);
FB_COST_FN(cost_chain);
FB_COST_FN(cost_p2p);
FB_COST_FN(cost_nccl_ring);
FB_COST_FN(cost_nccl_tree);
FB_COST_FN(cost_nccl_nvls);
FB_COST_FN(cost_nccl_nvlstree);
FB_COST_FN(cost_nccl_collnet_direct);
FB_COST_FN(cost_nccl_collnet_chain);
FB_COST_FN(cost_nccl_pat);
FB_COST_FN(cost_nccl_p2p);
#undef FB_COST_FN

// ---- template definitions --------------------------------------------------------------------------

template <class F>
double boundaries_latency(const Topo& T, bool aligned, F&& hop_latency) {
  if (T.m <= 1) return 0;
  const double n = T.m - 1;  // boundaries between consecutive domains
  double sum = 0;
  double below = n;  // boundaries crossing tier t-1 (all cross "tier 0", the domain)
  for (int t = 1; t <= T.L; ++t) {
    const double s = T.subtree(t, aligned);
    double above = t == T.L ? 0 : (s <= 1 ? n : std::floor(n / s));
    if (above > below) above = below;
    sum += (below - above) * hop_latency(t);
    below = above;
  }
  return sum;
}

}  // namespace fb::model::detail
