// linear: every send and receive posted at once.
//   alltoall, alltoallv: one network latency (the farthest peer's), kRequestOverheadUs per posted
//   request (2(p-1) of them), and the intra-domain bytes ((g-1) n/p over scale-up) moving
//   concurrently with the inter-domain ones ((p-g) n/p per endpoint, a fraction 1 - S_t/m of all
//   bytes above tier t), plus the own block's copy on host endpoints. No incast or congestion is
//   modelled. alltoallv: n is the most loaded rank's bytes (the harness's max_rank_bytes).
//   moe_dispatch, moe_combine (Placement::traffic): the same latency; the most loaded rank's
//   scale-up and NIC bytes (max over ranks of sent and received, model/traffic.cpp) move at once.
//   gather, scatter: the root receives (sends) p-1 blocks of n/p at once: its own endpoint carries
//   them all, (g-1) n/p over scale-up concurrently with (p-g) n/p through its NIC (the incast is
//   the root's link, which the model charges in full), one latency and p-1 requests.
#include "model/algorithms/common.hpp"

namespace fb::model::detail {

namespace {

Prediction rooted(const Topo& T, Op op, double n) {
  const double block = n / T.p;
  const double intra_us = T.g > 1 ? xfer_us((std::min(T.g, T.p) - 1) * block, T.bu) : 0;
  const double inter_us = T.m > 1 ? xfer_us((T.p - T.g) * block, T.b0) : 0;
  Cost c;
  c.add(kLatency, (T.m > 1 ? T.lat[T.top] : T.au) + (T.p - 1) * kRequestOverheadUs);
  if (intra_us >= inter_us)
    c.add(kScaleUp, intra_us);
  else
    c.add(kNic, inter_us);
  add_own_block_copy(c, T, block);
  return finish(T, op, n, c, "linear", Proto::none);
}

}  // namespace

Prediction cost_linear(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                       const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::alltoall && op != Op::alltoallv && op != Op::gather && op != Op::scatter &&
      !vocab::is_moe(op))
    return unavailable("linear does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "linear", Proto::none, out)) return out;
  if (vocab::is_moe(op)) {
    if (!pl.traffic) return unavailable(op_name + " needs its routing's traffic");
    return skewed_exchange(T, op, n, *pl.traffic, ExchangeKind::at_once,
                           (T.m > 1 ? T.lat[T.top] : T.aux) + 2 * (T.p - 1) * kRequestOverheadUs, 1.0,
                           "linear", Proto::none);
  }
  if (op == Op::gather || op == Op::scatter) return rooted(T, op, n);

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
