// linear: alltoall with every send and receive posted at once. One network latency (the farthest
// peer's), kRequestOverheadUs per posted request (2(p-1) of them), and the intra-domain bytes
// ((g-1) n/p over scale-up) moving concurrently with the inter-domain ones ((p-g) n/p per endpoint,
// a fraction 1 - S_t/m of all bytes above tier t), plus the own block's copy on host endpoints. No
// incast or congestion is modelled.
#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_linear(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                       const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::alltoall) return unavailable("linear does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "linear", Proto::none, out)) return out;

  const double block = n / T.p;
  const double intra_us = T.g > 1 ? (T.g - 1) * xfer_us(block, T.bu) : 0;
  Rate inter{T.b0, kNic};
  double inter_us = 0;
  if (T.m > 1) {
    inter = dense_rate(T, rail_aligned_share(T));
    inter_us = (T.p - T.g) * xfer_us(block, inter.GBps);
  }
  Cost c;
  c.add(kLatency, (T.m > 1 ? T.lat[T.top] : T.aux) + 2 * (T.p - 1) * kRequestOverheadUs);
  if (intra_us >= inter_us)
    c.add(kScaleUp, intra_us);
  else
    c.add(inter.slot, inter_us);
  add_own_block_copy(c, T, block);
  return finish(T, op, n, c, "linear", Proto::none);
}

}  // namespace fb::model::detail
