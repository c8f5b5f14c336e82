// p2p: the harness's pairwise ops between rank r and r + p/2 (the lower half pairs with the upper
// half). One message: the farthest pair's latency plus n at the slowest pair's path.
//   sendrecv: one way; bidir: both ways at once (full duplex: the same time, busbw counts 2n);
//   pingpong: the one-way time (the harness reports RTT / 2).
#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_p2p(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                    const std::string&) {
  const Op op = parse_op(op_name);
  if (!is_pair_op(op)) return unavailable("p2p does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "p2p", Proto::none, out)) return out;

  Cost c;
  add_step(c, step(T, Pairing::shift, static_cast<double>(pl.nranks / 2), n));
  return finish(T, op, n, c, "p2p", Proto::none);
}

}  // namespace fb::model::detail
