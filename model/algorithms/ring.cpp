// ring: allreduce (reduce-scatter pass + allgather pass), allgather, reducescatter over one ring in
// rank order. Each pass is p-1 hops of n/p bytes; m-1 of its hops cross domains, and the slowest
// link sets the pace: 2(p-1)a + 2(p-1)/p n/B + (p-1)/p n/R on a flat fabric (allreduce).
// Only the first hop sends from the send buffer: every later one forwards a block the rank has
// just received or reduced (forward rate). Out-of-place allgather also copies its own block.
#include <algorithm>
#include <limits>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_ring(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                     const std::string&) {
  const Op op = parse_op(op_name);
  double passes = 1;
  bool reduces = false;
  switch (op) {
    case Op::allreduce:
      passes = 2, reduces = true;
      break;
    case Op::allgather:
      break;
    case Op::reducescatter:
      reduces = true;
      break;
    default:
      return unavailable("ring does not implement " + op_name);
  }
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "ring", Proto::none, out)) return out;

  // The exit from a domain goes from local index g-1 to local index 0: across rails when g > 1.
  const bool aligned = T.aligned_at(1);
  Rate rate{std::numeric_limits<double>::infinity(), kScaleUp}, fwd = rate;
  if (T.g > 1) rate = Rate{T.bu, kScaleUp}, fwd = scaleup_fwd_rate(T);
  if (T.m > 1) {
    const Rate net = ring_rate(T, aligned);  // the network legs forward at their own rate
    rate = min_rate(rate, net), fwd = min_rate(fwd, net);
  }

  const double hops = T.p - 1, inter_hops = T.m - 1;
  const double pass_latency =
      (hops - inter_hops) * T.aux + boundaries_latency(T, aligned, [&](int t) { return T.lat[t]; });
  Cost c;
  c.add(kLatency, passes * pass_latency + std::max(0.0, passes * (hops - inter_hops) - 1) * T.afw);
  c.add(rate.slot, xfer_us(n / T.p, rate.GBps));
  c.add(fwd.slot, (passes * hops - 1) * xfer_us(n / T.p, fwd.GBps));
  if (reduces) add_reduction(c, T, hops / T.p * n);
  if (op == Op::allgather) add_own_block_copy(c, T, n / T.p);
  return finish(T, op, n, c, "ring", Proto::none);
}

}  // namespace fb::model::detail
