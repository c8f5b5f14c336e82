// p2p: the harness's pairwise ops between rank r and r + p/2 (the lower half pairs with the upper
// half). One message: the farthest pair's latency plus n at the slowest pair's path.
//   unidir: one way; bidir: both ways at once (full duplex: the same time, busbw counts 2n);
//   pingpong: the one-way time (the harness reports RTT / 2); relay: the same, but the reply
//   forwards what arrived: half a clean and half a forwarded message.
// Inside a domain with an aggregate limit, the pairs' transfers share it: g - p/2 pairs have both
// ends in one domain (none when p/2 >= g), one transfer each at a time, two for bidir.
// sendrecv, the ring shift (r sends n to r + 1 and receives n from r - 1, all ranks at once): one
// shift(1) step, as one hop of ring: every rank of a domain copies at once (Bu at g concurrent
// copies), the last rank of each domain sends out, and each rank sends and receives (exchange).
#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_p2p(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                    const std::string&) {
  const Op op = parse_op(op_name);
  if (!is_pair_op(op)) return unavailable("p2p does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "p2p", Proto::none, out)) return out;
  if (is_ring_shift(op)) {
    Cost c;
    add_step(c, step(T, Pairing::shift, 1, n));
    return finish(T, op, n, c, "p2p", Proto::none);
  }

  const double half = static_cast<double>(pl.nranks / 2);
  const double pairs = half < T.g ? T.g - half : 0;
  Topo Tp = T;
  if (pairs > 0) Tp.bu = scaleup_rate(f, pairs * (op == Op::bidir ? 2 : 1));
  if (op != Op::bidir) Tp.aux = Tp.au;  // one way at a time: no exchange
  Cost c;
  if (op == Op::relay) {
    add_step(c, step(Tp, Pairing::shift, half, n), 0.5);
    add_step(c, step_fwd(Tp, Pairing::shift, half, n), 0.5);
  } else {
    add_step(c, step(Tp, Pairing::shift, half, n));
  }
  return finish(Tp, op, n, c, "p2p", Proto::none);
}

}  // namespace fb::model::detail
