// pairwise: alltoall in p-1 exchange steps of one n/p block (xor partners). Closed form per tier:
// g-1 steps stay in the domain; of the p-g others, g (S_t - S_{t-1}) meet at tier t and climb above
// tiers 1..t-1 with every endpoint at once (rate min(B0, C_{t-1})). Steps whose partner has another
// local index leave the rail (1 - 1/min(rails, g) of them). Flat fabric: (p-1) a + (p-1)/p n/B, plus
// the own block's copy (2 n/p of memory traffic) on host endpoints.
#include <algorithm>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_pairwise(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                         const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::alltoall) return unavailable("pairwise does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "pairwise", Proto::none, out)) return out;

  const double block = n / T.p;
  Cost c;
  if (T.g > 1) {
    c.add(kLatency, (T.g - 1) * T.au);
    c.add(kScaleUp, (T.g - 1) * xfer_us(block, T.bu));
  }
  if (T.m > 1) {
    const double share = rail_aligned_share(T);
    for (const bool aligned : {true, false}) {
      const double weight = aligned ? share : 1 - share;
      if (weight <= 0) continue;
      double prev = 1;  // domains already reached (the own one)
      for (int t = 1; t <= T.L; ++t) {
        const double reach = t == T.L ? T.m : std::max(prev, std::min(T.m, T.subtree(t, aligned)));
        const double steps = T.g * (reach - prev) * weight;
        prev = reach;
        if (steps <= 0) continue;
        // Climbing above tiers 1..t-1 runs at C_{t-1}; the tier that binds is the lowest one
        // already that narrow (the last oversubscribed one below t).
        Rate r{T.b0, kNic};
        for (int s = 1; s < t; ++s)
          if (T.C[s] < r.GBps) r = Rate{T.C[s], tier_slot(s)};
        c.add(kLatency, steps * T.lat[t]);
        c.add(r.slot, steps * xfer_us(block, r.GBps));
      }
    }
  }
  add_own_block_copy(c, T, block);
  return finish(T, op, n, c, "pairwise", Proto::none);
}

}  // namespace fb::model::detail
