// pairwise: alltoall in p-1 exchange steps of one n/p block; in step s every rank sends to r+s.
// A rank sends its block when the receiver is ready and the step ends when the receiver has
// acknowledged it (collectives/algorithms/pairwise.cpp): one control message between steps (the
// acknowledgement of step s and the readiness for s+1 travel together), p in all (a readiness
// before step 1, an acknowledgement after step p-1, both at distance 1). Each is a zero-byte
// message over the step's path: lat[lca] of its farthest pair, au inside a domain. On 2 ranks
// there are none (one step, one peer).
// moe_dispatch/moe_combine: p - 1 synchronous steps over the routing's traffic, each as long as its
// largest message (model/traffic.cpp), each with its control message.
// alltoallv is priced as the alltoall of its most loaded rank: n is that rank's bytes (the
// harness's max_rank_bytes), whose steps set the time.
// Each step costs what its slowest flow takes (step(), shift by min(s, p-s)): a fraction
// min(1, d/K) of a K-rank subtree's ranks leave it at distance d, so the first and last steps
// load a subtree's up-link only partly (on 4 hosts under 2 leaves at 2:1, steps 1 and 3 put one
// flow on each up-link, step 2 two) and steps inside a domain wait for the ranks at its edge that
// already leave it. The p-1 steps are summed in closed form: per rail alignment, step() is
// piecewise linear (or constant) in the distance, so the sum splits into O(tiers) pieces found by
// bisection, each summed exactly, whatever p (2^20 ranks cost a few dozen evaluations). Flat
// fabric: (2p-1) a + (p-1)/p n/B (each step's latency and the p control messages'; (p-1) a on
// 2 ranks), plus the own block's copy (2 n/p of memory traffic) on host endpoints.
#include <algorithm>
#include <array>
#include <cmath>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

namespace {

// The control message of a step (its acknowledgement, the readiness for the next): one zero-byte
// message over the step's farthest pair. None on 2 ranks (one peer: nothing to keep apart).
double ack_us(const Topo& T, const Step& s) {
  if (T.p <= 2) return 0;
  return s.lca > 0 ? T.lat[s.lca] : T.au;
}

// A step and its control message, `times` over.
void add_acked_step(Cost& c, const Topo& T, const Step& s, double times = 1) {
  add_step(c, s, times);
  c.add(kLatency, times * ack_us(T, s));
}

// Sum of step(T, shift, r, block, aligned) over the whole distances r in [lo, hi], into c, times
// `weight`: a piece on which latency, transfer and slot agree at both ends and at the quarter
// points is taken as linear and summed exactly; otherwise it is split.
void add_steps(Cost& c, const Topo& T, double lo, double hi, double block, bool aligned, double weight) {
  if (hi < lo || weight <= 0) return;
  auto at = [&](double r) { return step(T, Pairing::shift, r, block, aligned); };
  struct Piece {
    double lo, hi;
  };
  std::array<Piece, 256> todo{};
  int n = 0;
  todo[n++] = {lo, hi};
  while (n > 0) {
    const Piece pc = todo[--n];
    const Step a = at(pc.lo), b = at(pc.hi);
    const double count = pc.hi - pc.lo + 1;
    bool linear = a.slot == b.slot && a.lca == b.lca;
    if (linear && count > 2) {
      for (const double q : {0.25, 0.5, 0.75}) {
        const double r = std::floor(pc.lo + q * (pc.hi - pc.lo));
        const Step m = at(r);
        const double f = (r - pc.lo) / (pc.hi - pc.lo);
        const double want = a.bw_us + f * (b.bw_us - a.bw_us);
        if (m.slot != a.slot || m.lca != a.lca || std::abs(m.bw_us - want) > 1e-9 * std::max(1.0, want) ||
            std::abs(m.alpha - a.alpha) > 1e-12 * std::max(1.0, a.alpha)) {
          linear = false;
          break;
        }
      }
    }
    if (linear || count <= 2 || n + 2 > static_cast<int>(todo.size())) {
      if (count <= 2 && !(a.slot == b.slot && a.lca == b.lca)) {
        add_acked_step(c, T, a, weight);
        if (count == 2) add_acked_step(c, T, b, weight);
        continue;
      }
      // Linear in r (or constant): the sum is the count times the mean of the ends (the
      // acknowledgements' latency is constant: the ends share their lowest common tier).
      c.add(kLatency, weight * count * ((a.alpha + b.alpha) / 2 + ack_us(T, a)));
      c.add(a.slot, weight * count * (a.bw_us + b.bw_us) / 2);
      continue;
    }
    const double mid = std::floor((pc.lo + pc.hi) / 2);
    todo[n++] = {pc.lo, mid};
    todo[n++] = {mid + 1, pc.hi};
  }
}

}  // namespace

Prediction cost_pairwise(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                         const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::alltoall && op != Op::alltoallv && !vocab::is_moe(op))
    return unavailable("pairwise does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "pairwise", Proto::none, out)) return out;
  if (vocab::is_moe(op)) {
    // p - 1 synchronous steps, each as long as its largest message (model/traffic.cpp).
    if (!pl.traffic) return unavailable(op_name + " needs its routing's traffic");
    // Each step's latency and its control message's, and the readiness before step 1.
    const double g = std::min(T.g, T.p);
    const double ctl = T.p > 2 ? 1 : 0;  // none on 2 ranks (ack_us)
    const double out_us = T.m > 1 ? T.lat[T.top] : T.aux, out_ctl_us = ctl * (T.m > 1 ? T.lat[T.top] : T.au);
    return skewed_exchange(T, op, n, *pl.traffic, ExchangeKind::stepped,
                           (g - 1) * (T.aux + ctl * T.au) + (T.p - g) * (out_us + out_ctl_us) +
                               (g > 1 ? ctl * T.au : out_ctl_us),
                           1.0, "pairwise", Proto::none);
  }

  const double block = n / T.p;
  // Steps s and p-s move the same distance; s = p/2 (p even) once.
  const double half = std::floor((T.p - 1) / 2);
  const bool even = std::fmod(T.p, 2) == 0;
  // With rails, the distances that are multiples of g keep the local index (rail-aligned).
  const bool rails = T.rails > 1 && T.g > 1;
  const double aligned_share = rails ? 1 / T.g : 1;
  Cost c;
  add_steps(c, T, 1, half, block, !rails, 2 * (1 - aligned_share) + (rails ? 0 : 2 * aligned_share));
  if (rails) add_steps(c, T, 1, half, block, true, 2 * aligned_share);
  if (even) add_acked_step(c, T, step(T, Pairing::shift, T.p / 2, block));
  c.add(kLatency, ack_us(T, step(T, Pairing::shift, 1, block)));  // the readiness before step 1
  add_own_block_copy(c, T, block);
  return finish(T, op, n, c, "pairwise", Proto::none);
}

}  // namespace fb::model::detail
