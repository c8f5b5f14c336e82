// The shared terms of model/algorithms/common.hpp (the model is described there).
#include "model/algorithms/common.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "model/rates.hpp"
#include "model/routing.hpp"

namespace fb::model::detail {

namespace {

bool is_multiple(double a, double b) {
  if (!(b > 0)) return false;
  const double q = a / b;
  return q >= 1 - 1e-9 && std::fabs(q - std::round(q)) <= 1e-9 * std::max(1.0, q);
}

std::string num(double x) {
  std::string s = std::to_string(x);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string fabric_label(const Fabric& f) {
  return f.name.empty() ? std::string("fabric") : "fabric '" + f.name + "'";
}

}  // namespace

// ---- ops and protocols ------------------------------------------------------------------------

Op parse_op(const std::string& op) {
  if (const auto k = vocab::parse_op(op)) return *k;
  throw std::invalid_argument("model: unknown op '" + op + "' (known: " + vocab::op_names() + ")");
}

}  // namespace fb::model::detail

namespace fb::model {
double reuse_interval_us(const std::string& op, double time_us) {
  const auto k = vocab::parse_op(op);
  return (k && vocab::is_round_trip(*k) ? 2 : 1) * time_us;
}
}  // namespace fb::model

namespace fb::model::detail {

Proto parse_proto(const std::string& s) {
  if (s == "ll") return Proto::ll;
  if (s == "ll128") return Proto::ll128;
  if (s == "simple") return Proto::simple;
  return Proto::none;
}

const char* proto_name(Proto p) {
  switch (p) {
    case Proto::ll:
      return "ll";
    case Proto::ll128:
      return "ll128";
    case Proto::simple:
      return "simple";
    case Proto::none:
      break;
  }
  return "";
}

// ---- cost --------------------------------------------------------------------------------------

double Cost::total() const {
  double t = 0;
  for (double x : v) t += x;
  return t;
}

int Cost::dominant() const {
  int best = kLatency;
  for (int i = 1; i < kNumSlots; ++i)
    if (v[static_cast<std::size_t>(i)] > v[static_cast<std::size_t>(best)]) best = i;
  return best;
}

// ---- topology ------------------------------------------------------------------------------------

double scaleup_rate(const Fabric& f, double concurrent) {
  const double bu = f.scale_up.bandwidth_GBps;
  if (!(f.scale_up.aggregate_bandwidth_GBps > 0) || !(concurrent > 0)) return bu;
  return std::min(bu, f.scale_up.aggregate_bandwidth_GBps / concurrent);
}

bool Topo::aligned_at(double r) const {
  return rails <= 1 || g <= 1 || is_multiple(r, g);
}

namespace {

// The placement fits the fabric: at least one rank, and no more per domain than a domain holds.
void check_placement(const Fabric& f, const Placement& pl) {
  if (pl.nranks < 1) throw std::invalid_argument("model: the placement needs at least 1 rank (got 0)");
  if (pl.ranks_per_domain < 1)
    throw std::invalid_argument("model: ranks per domain must be at least 1 (got 0)");
  if (f.scale_up.domain_size < 1)
    throw std::invalid_argument("model: " + fabric_label(f) + " has domain_size " +
                                std::to_string(f.scale_up.domain_size) + "; it must be at least 1");
  if (pl.ranks_per_domain > static_cast<std::uint64_t>(f.scale_up.domain_size))
    throw std::invalid_argument("model: " + std::to_string(pl.ranks_per_domain) +
                                " ranks per domain, but a domain of " + fabric_label(f) + " holds " +
                                std::to_string(f.scale_up.domain_size) + " endpoints (scale_up.domain_size)");
}

// The scale-up terms of T for g ranks per domain.
void set_scale_up(Topo& T, const Fabric& f, std::uint64_t g) {
  // Collectives keep every endpoint of a domain moving data at once: g concurrent transfers.
  // Achievable rates (model/rates.hpp): the share of the line rate NCCL's ring moves, and the
  // NVLS rate, on GPU fabrics; 1 on hosts.
  T.bu = scaleup_rate(f, static_cast<double>(g)) * scaleup_efficiency(f);
  T.nvls = f.scale_up.bandwidth_GBps * nvls_efficiency(f);
  T.au = f.scale_up.latency_us > 0 ? f.scale_up.latency_us : 0;
  T.aux = f.scale_up.exchange_latency_us > 0 ? f.scale_up.exchange_latency_us : T.au;
  T.reduce_GBps = f.endpoint.reduce_bandwidth_GBps;
  T.memory_GBps = f.endpoint.memory_bandwidth_GBps;
  if (f.scale_up.forward_bandwidth_GBps > 0 && f.scale_up.forward_bandwidth_GBps < f.scale_up.bandwidth_GBps)
    T.fwd = f.scale_up.bandwidth_GBps / f.scale_up.forward_bandwidth_GBps;
  T.afw = g > 1 ? f.scale_up.forward_overhead_us : 0;
  if (g > 1 && !(T.bu > 0 && std::isfinite(T.bu)))
    throw std::invalid_argument("model: " + fabric_label(f) + " has scale-up bandwidth " + num(T.bu) +
                                " GB/s, but " + std::to_string(g) + " ranks share a domain");
  T.S[0] = 1;
  T.lat[0] = T.au;
}

// The per-endpoint NIC terms of T (b0, rails) for placements spanning m > 1 domains; returns
// the NICs per domain.
double set_nics(Topo& T, const Fabric& f, const Placement& pl, std::uint64_t g, std::uint64_t m) {
  if (!f.has_scaleout())
    throw std::invalid_argument("model: " + std::to_string(pl.nranks) + " ranks at " + std::to_string(g) +
                                " per domain span " + std::to_string(m) + " domains, but " + fabric_label(f) +
                                " has no scale-out network (scale_out.tiers is empty); it holds " +
                                std::to_string(f.scale_up.domain_size) + " endpoints");
  if (f.scale_out.tiers.size() > static_cast<std::size_t>(kMaxTiers))
    throw std::invalid_argument("model: " + fabric_label(f) + " has " +
                                std::to_string(f.scale_out.tiers.size()) +
                                " switch tiers; the model handles at most " + std::to_string(kMaxTiers));
  T.b0 = f.nic_GBps_per_endpoint() * nic_efficiency(f);
  T.nic_extra_us = nic_extra_latency_us(f);
  T.stripe_bytes = nic_stripe_bytes(f);
  if (f.endpoint.kind == "gpu" && f.scale_up.domain_size > 0)
    T.nics_per_ep = f.scale_out.nics_per_domain / static_cast<double>(f.scale_up.domain_size);
  // A host's NICs serve the ranks actually on it (the kernel shares them); a GPU uses the NIC on
  // its own PCIe switch, so a domain's idle GPUs leave their NICs idle.
  if (f.endpoint.kind == "host" && T.g < f.scale_up.domain_size) T.b0 *= f.scale_up.domain_size / T.g;
  if (!(T.b0 > 0 && std::isfinite(T.b0)))
    throw std::invalid_argument("model: " + fabric_label(f) + " gives each endpoint " + num(T.b0) +
                                " GB/s of scale-out bandwidth; domains cannot talk");
  const double nics = f.scale_out.nics_per_domain > 0 ? f.scale_out.nics_per_domain : 1;
  T.rails = std::clamp<double>(f.scale_out.rails, 1, nics);
  return nics;
}

// Per switch tier t: the domains it spans (S), the bandwidth left after oversubscription (C),
// its latency; and the lowest tier (top) that spans all of T's domains.
void set_switch_tiers(Topo& T, const Fabric& f, double nics) {
  T.L = static_cast<int>(f.scale_out.tiers.size());
  T.C[0] = T.b0;
  double ports = 1, cum_o = 1, below_us = 0, concentration = std::max(1.0, T.g / nics);
  const double nic_lat = f.scale_out.latency_us > 0 ? f.scale_out.latency_us : 0;
  for (int t = 1; t <= T.L; ++t) {
    const SwitchTier& st = f.scale_out.tiers[static_cast<std::size_t>(t - 1)];
    if (st.radix < 1)
      throw std::invalid_argument("model: " + fabric_label(f) + " tier '" + st.name + "' has radix " +
                                  std::to_string(st.radix));
    if (!(st.oversubscription > 0) || !std::isfinite(st.oversubscription))
      throw std::invalid_argument("model: " + fabric_label(f) + " tier '" + st.name +
                                  "' has oversubscription " + num(st.oversubscription));
    const double o = std::max(1.0, st.oversubscription);  // under-subscribed = non-blocking
    const double k = st.radix;
    double down = k;
    if (t < T.L && k >= 2) down = std::clamp(std::floor(k * o / (1 + o) + 1e-9), 1.0, k - 1);
    ports *= down;
    T.up[t] = t < T.L ? std::max(1.0, k - down) : 0;
    T.fan[t] = down * concentration;
    T.balance[t] = static_cast<int>(parse_balance(st.load_balancing));
    if (t < T.L) concentration *= down / T.up[t];
    T.S[t] = t == 1 ? down * T.rails / nics : std::max(T.S[t - 1], ports / nics);
    cum_o *= o;
    T.C[t] = T.b0 / cum_o;
    const double hop = st.hop_latency_us > 0 ? st.hop_latency_us : 0;
    T.switch_us[t] = 2 * below_us + hop;
    below_us += hop;
    T.lat[t] = nic_lat + T.switch_us[t];
  }
  T.top = T.L;
  for (int t = 1; t <= T.L; ++t)
    if (T.m <= T.S[t] * (1 + 1e-12)) {
      T.top = t;
      break;
    }
}

}  // namespace

Topo make_topo(const Fabric& f, const Placement& pl) {
  check_placement(f, pl);
  Topo T;
  T.f = &f;
  const std::uint64_t g = std::min(pl.ranks_per_domain, pl.nranks);
  const std::uint64_t m = (pl.nranks + g - 1) / g;
  T.p = static_cast<double>(pl.nranks);
  T.g = static_cast<double>(g);
  T.m = static_cast<double>(m);
  set_scale_up(T, f, g);
  if (m <= 1) return T;
  const double nics = set_nics(T, f, pl, g, m);
  set_switch_tiers(T, f, nics);
  return T;
}

// ---- patterns ------------------------------------------------------------------------------------

double crossing(Pairing pr, double p, double unit, double r) {
  if (p <= unit * (1 + 1e-12)) return 0;
  switch (pr) {
    case Pairing::xor_:
      if (r >= unit) return 1;
      if (is_multiple(unit, 2 * r)) return 0;
      return std::min(1.0, 2 * r / unit);
    case Pairing::shift:
      if (r >= unit) return 1;
      return r / unit;
    case Pairing::tree:
      if (r < unit && is_multiple(unit, 2 * r)) return 0;
      return std::min(1.0, 1 / unit);
  }
  return 1;
}

Step step(const Topo& T, Pairing pr, double r, double bytes) {
  return step(T, pr, r, bytes, T.aligned_at(r));
}

namespace {

Step step_impl(const Topo& T, Pairing pr, double r, double bytes, bool aligned, bool forwarded) {
  const double x0 = T.m <= 1 ? 0 : crossing(pr, T.p, T.g, r);
  const bool intra_pairs = T.g > 1 && x0 < 1 && !(pr == Pairing::tree && r >= T.g);
  const Rate intra = forwarded ? scaleup_fwd_rate(T) : Rate{T.bu, kScaleUp};
  const double intra_us = intra_pairs ? xfer_us(bytes, intra.GBps) : 0;
  // Exchanges pay the exchange latency inside a domain; a tree step is one-way.
  const double a_in = (pr == Pairing::tree ? T.au : T.aux) + (forwarded && intra_pairs ? T.afw : 0);
  if (x0 <= 0) return Step{a_in, intra_us, intra.slot, 0};
  double worst = 1 / T.b0;
  int slot = kNic, lca = T.L;
  for (int t = 1; t <= T.L; ++t) {
    const double x = crossing(pr, T.p, T.unit(t, aligned), r);
    if (x <= 0) {
      lca = t;
      break;
    }
    if (t >= T.L) continue;
    int tier_slot_t = 0;  // one partner per rank: x connections per port climb
    const double cap = routed_capacity(T, t, T.fan[t] * x, tier_slot_t);
    if (x / cap > worst) {
      worst = x / cap;
      slot = tier_slot_t;
    }
  }
  Step s{T.lat[lca], bytes * worst / 1e3, slot, lca};
  if (intra_us > s.bw_us) {
    s.bw_us = intra_us;
    s.slot = intra.slot;
  }
  if (a_in > s.alpha) s.alpha = a_in;
  return s;
}

}  // namespace

Step step(const Topo& T, Pairing pr, double r, double bytes, bool aligned) {
  return step_impl(T, pr, r, bytes, aligned, false);
}

Step step_fwd(const Topo& T, Pairing pr, double r, double bytes) {
  return step_impl(T, pr, r, bytes, T.aligned_at(r), true);
}

Rate ring_rate(const Topo& T, bool aligned) {
  // Host ranks share their host's NICs (g / nics_per_domain ranks per NIC: B0 is already the
  // share of the g ranks there), and a ring has one flow per direction across each domain
  // boundary: that flow has the whole NIC, and the whole up-link of a subtree it leaves, not one
  // endpoint's share (GPUs keep their own NIC's share: they use the NIC on their PCIe switch).
  double share = 1;
  if (T.f && T.f->endpoint.kind == "host" && T.f->scale_out.nics_per_domain > 0)
    share = std::max(1.0, T.g / T.f->scale_out.nics_per_domain);
  Rate r{T.b0 * share, kNic};
  for (int t = 1; t < T.L; ++t) {
    const double s = T.subtree(t, aligned);
    if (T.m <= s) break;
    int slot = 0;  // one flow per boundary: one connection climbs through a switch
    const double cap = std::max(1.0, s) * routed_capacity(T, t, 1, slot) * share;
    if (cap < r.GBps) r = Rate{cap, slot};
  }
  return r;
}

Rate striped_rate(const Topo& T, Rate r, double bytes) {
  const double k = T.nics_per_ep, u = T.stripe_bytes;
  if (!(u > 0) || k <= 1 || !(bytes > 0) || bytes >= k * u) return r;
  const double busiest = std::max(bytes / k, std::min(bytes, u));
  const double nic = T.b0 * (bytes / k) / busiest;
  return nic < r.GBps ? Rate{nic, kNic} : r;
}

Rate dense_rate(const Topo& T, double aligned_share) {
  Rate r{T.b0, kNic};
  if (T.m <= 1) return r;
  for (int t = 1; t < T.L; ++t) {
    const double fa = (T.m - std::min(T.m, T.subtree(t, true))) / (T.m - 1);
    const double fc = (T.m - std::min(T.m, T.subtree(t, false))) / (T.m - 1);
    const double x = aligned_share * fa + (1 - aligned_share) * fc;
    int slot = 0;  // all peers at once: x (p - 1) connections per endpoint climb
    const double cap = x > 0 ? routed_capacity(T, t, T.fan[t] * x * (T.p - 1), slot) : 0;
    if (x > 0 && cap / x < r.GBps) r = Rate{cap / x, slot};
  }
  return r;
}

double routed_capacity(const Topo& T, int t, double connections, int& slot) {
  slot = tier_slot(t);
  if (!T.f || t < 1 || t >= T.L) return T.C[t];
  const auto b = static_cast<Balance>(T.balance[t]);
  if (b == Balance::spray) return T.C[t];
  bool collision = false;
  const double factor = routing_factor(b, T.f->scale_out.tiers[static_cast<std::size_t>(t - 1)], connections,
                                       T.up[t], collision);
  if (collision) slot = collision_slot(t);
  return T.C[t] / factor;
}

double rail_aligned_share(const Topo& T) {
  if (T.rails <= 1 || T.g <= 1) return 1;
  return 1 / std::min(T.rails, T.g);
}

int tree_level_tier(const Topo& T, int level) {
  const double span = std::ldexp(2.0, level);  // a parent and child 2^level domains apart
  for (int t = 1; t <= T.L; ++t)
    if (T.S[t] >= span || T.m <= T.S[t]) return t;
  return T.L;
}

void add_reduction(Cost& c, const Topo& T, double bytes) {
  if (T.reduce_GBps > 0 && bytes > 0) c.add(kReduction, xfer_us(bytes, T.reduce_GBps));
}

void add_memory(Cost& c, const Topo& T, double traffic_bytes) {
  if (T.memory_GBps > 0 && traffic_bytes > 0) c.add(kMemory, xfer_us(traffic_bytes, T.memory_GBps));
}

void add_own_block_copy(Cost& c, const Topo& T, double block) {
  if (T.f && T.f->endpoint.kind == "host") add_memory(c, T, 2 * block);
}

// ---- results ---------------------------------------------------------------------------------------

std::string slot_name(const Topo& T, int slot) {
  switch (slot) {
    case kLatency:
      return "latency";
    case kScaleUp:
      return "scale-up";
    case kNic:
      return "nic";
    case kReduction:
      return "reduction";
    case kMemory:
      return "memory";
    case kInNetwork:
      return "in-network";
    case kProtocol:
      return "protocol";
    case kForward:
      return "scale-up";
    default:
      break;
  }
  if (slot >= kCollision && slot < kCollision + kMaxTiers) {
    const int c = slot - kCollision + 1;
    if (T.f && c <= static_cast<int>(T.f->scale_out.tiers.size()))
      return slot_name(T, tier_slot(c)) + " (" +
             collision_note(T.f->scale_out.tiers[static_cast<std::size_t>(c - 1)]) + ")";
  }
  const int t = slot - kTier + 1;
  if (T.f && t >= 1 && t <= static_cast<int>(T.f->scale_out.tiers.size()) &&
      !T.f->scale_out.tiers[static_cast<std::size_t>(t - 1)].name.empty())
    return "tier:" + T.f->scale_out.tiers[static_cast<std::size_t>(t - 1)].name;
  return "tier:" + std::to_string(t);
}

Prediction finish(const Topo& T, Op op, double bytes, const Cost& cost, const char* algo, Proto proto) {
  Cost c = cost;
  if (T.f && T.f->scale_up.cache_bytes > 0) {
    // A host's copies and reductions leave the CPU caches once the ranks' buffers outgrow them.
    // The transfers' in-cache rate is T.bu: what each of the domain's concurrent copies gets
    // (scale_up.aggregate_bandwidth_GBps shares the cache's bandwidth); the share beyond the cache
    // moves at the spilled rate.
    // Reductions over point-to-point also hold their receive slots.
    const bool slots = proto == Proto::none && (op == Op::allreduce || op == Op::reducescatter);
    const double ws = host_working_set(T.g, bytes) + (slots ? reduce_slots_working_set(T.g, T.p, bytes) : 0),
                 cache = T.f->scale_up.cache_bytes, spilled = T.f->scale_up.spilled_bandwidth_GBps;
    // Beyond the outer knee every term slows down by the copies' outer / spilled ratio.
    const double outer = T.f->scale_up.outer_cache_bytes,
                 ratio = outer > 0 ? T.f->scale_up.outer_spilled_bandwidth_GBps / spilled : 1;
    // Memory and reduction beyond the cache: at their own spilled rates where the fabric gives
    // them (the host memory probe measures both), else slowed by the copies' ratio.
    const double M = T.f->endpoint.memory_bandwidth_GBps, Ms = T.f->endpoint.memory_spilled_bandwidth_GBps;
    const double R = T.f->endpoint.reduce_bandwidth_GBps, Rs = T.f->endpoint.reduce_spilled_bandwidth_GBps;
    // Forwarded data in cache sits dirty in the sender's cache; the share beyond the cache moves
    // at the forwarded spilled rate (the spilled rate without one).
    const double Fs = T.f->scale_up.forward_spilled_bandwidth_GBps > 0
                          ? T.f->scale_up.forward_spilled_bandwidth_GBps
                          : spilled;
    auto spill = [&](double outer_ws) {
      Cost s = cost;
      const double k = spill_factor(cache, T.f->scale_up.bandwidth_GBps, spilled, ws, outer, ratio, outer_ws);
      s.v[kMemory] *= Ms > 0 && M > 0 ? spill_factor(cache, M, Ms, ws, outer, ratio, outer_ws) : k;
      s.v[kReduction] *= Rs > 0 && R > 0 ? spill_factor(cache, R, Rs, ws, outer, ratio, outer_ws) : k;
      s.v[kScaleUp] *= spill_factor(cache, std::max(T.bu, spilled), spilled, ws, outer, ratio, outer_ws);
      s.v[kForward] *= spill_factor(cache, T.bu / T.fwd, Fs, ws, outer, ratio, outer_ws);
      return s;
    };
    c = spill(ws);
    // Other work draining the outer cache (scale_up.outer_eviction_GBps) adds what it brings in
    // while the op runs: the op's reuse interval is its own time (a round trip for pingpong and
    // relay, whose time is half of one), which depends on how much spills. The time only grows
    // with it, so this fixed point is approached from below, to 1e-9 or 60 rounds.
    const double X = outer > 0 ? T.f->scale_up.outer_eviction_GBps : 0;
    if (X > 0 && ws > cache) {
      const double reuse = is_round_trip(op) ? 2 : 1;
      double t = c.total();
      for (int i = 0; i < 60; ++i) {
        c = spill(outer_working_set(ws, X, reuse * t));
        const double next = c.total();
        if (!(next > t * (1 + 1e-9))) break;
        t = next;
      }
    }
  }
  c.v[kScaleUp] += c.v[kForward];
  c.v[kForward] = 0;
  Prediction out;
  out.time_us = c.total();
  if (!(out.time_us > kMinTimeUs)) {
    out.time_us = kMinTimeUs;
    out.bottleneck = "latency";
  } else {
    out.bottleneck = slot_name(T, c.dominant());
  }
  out.algbw_GBps = bytes / (out.time_us * 1e3);
  out.busbw_GBps = T.p > 1 ? out.algbw_GBps * busbw_factor(op, T.p) : 0;
  out.algo = algo;
  out.protocol = proto_name(proto);
  return out;
}

Prediction unavailable(const std::string& why) {
  Prediction out;
  out.time_us = -1;
  out.bottleneck = why;
  return out;
}

bool local_case(const Topo& T, Op op, double bytes, const char* algo, Proto proto, Prediction& out) {
  if (T.p > 1) return false;
  if (is_pair_op(op)) {
    out = unavailable("a point-to-point op needs at least 2 ranks");
    return true;
  }
  Cost c;
  add_memory(c, T, 2 * bytes);  // out-of-place: read the send buffer, write the receive buffer
  out = finish(T, op, bytes, c, algo, proto);
  return true;
}

// ---- NCCL ------------------------------------------------------------------------------------------

// NCCL's latency tables (shared/reference/nccl-cost-model.md; microseconds; LL / LL128 / Simple).
const NcclTable kNcclRingLat{{6.6, 14, 8.4}, {0.6, 1.9, 3.4}, {2.7, 4.0, 14}, {true, true, true}};
const NcclTable kNcclTreeLat{{6.8, 14, 8.4}, {0.6, 1.25, 4.0}, {5.0, 8.5, 14}, {true, true, true}};
const NcclTable kNcclNvlsLat{{0, 0, 0}, {0, 0, 25}, {0, 0, 18}, {false, false, true}};
const NcclTable kNcclNvlsTreeLat{{0, 0, 0}, {0, 0, 25}, {0, 0, 20.9}, {false, false, true}};
const NcclTable kNcclCollnetDirectLat{{0, 0, 0}, {0, 0, 3.7}, {0, 0, 31}, {false, false, true}};
const NcclTable kNcclCollnetChainLat{{0, 0, 0}, {0, 0, 2.8}, {0, 0, 30}, {false, false, true}};
const NcclTable kNcclPatLat{{0, 0, 8}, {0, 0, 4}, {0, 0, 14}, {false, false, true}};
// Grouped send/recv: one hop of Ring's table; NCCL's p2p runs LL (small) and Simple.
const NcclTable kNcclP2pLat{{6.6, 14, 8.4}, {0.6, 1.9, 3.4}, {2.7, 4.0, 14}, {true, false, true}};

Gpu gpu_generation(const Fabric& f) {
  if (f.endpoint.generation == "hopper") return Gpu::hopper;
  if (f.endpoint.generation == "blackwell") return Gpu::blackwell;
  return Gpu::other;
}

double proto_efficiency(const Fabric& f, Proto pr) {
  switch (pr) {
    case Proto::ll:
      return f.protocols.ll;
    case Proto::ll128:
      return f.protocols.ll128;
    case Proto::simple:
      return f.protocols.simple;
    case Proto::none:
      break;
  }
  return 1.0;
}

bool nccl_protocol_ok(const NcclTable& tb, Proto pr, const char* algo, Prediction& out) {
  if (pr == Proto::none) {
    out = unavailable(std::string(algo) + " needs a protocol: ll, ll128 or simple");
    return false;
  }
  if (!tb.ok[static_cast<int>(pr)]) {
    out = unavailable(std::string(algo) + " does not run the " + proto_name(pr) + " protocol");
    return false;
  }
  return true;
}

Prediction nccl_finish(const Topo& T, Op op, double bytes, double lat_us, Rate algbw, const char* algo,
                       Proto pr) {
  Cost c;
  c.add(kLatency, lat_us);
  if (bytes > 0) c.add(algbw.slot, xfer_us(bytes, algbw.GBps));
  return finish(T, op, bytes, c, algo, pr);
}

}  // namespace fb::model::detail
