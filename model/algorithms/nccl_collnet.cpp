// nccl_collnet_direct / nccl_collnet_chain: NCCL's CollNet allreduce across domains with
// in-network reduction (SHARP), Simple protocol only. Each domain's g NICs send n/g up the
// aggregation tree and receive the reduced n/g, so the network side runs at g x network rate;
// inside the domain Direct reduce-scatters and allgathers (algBw Bu g / (2(g-1))) and Chain goes up
// and down a chain (Bu / 2). algBw = the smaller. Latency as NCCL's tuning.cc:
//   direct: 2 (min(1, g-1) intraLat + 0.4 (g-1)) + interLat;  chain: 2 (g-1) intraLat + interLat,
// interLat plus the switch hops to the job's top tier.
#include <algorithm>
#include <limits>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

namespace {

Prediction collnet(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                   const std::string& protocol, bool direct) {
  const char* name = direct ? "nccl_collnet_direct" : "nccl_collnet_chain";
  const NcclTable& tb = direct ? kNcclCollnetDirectLat : kNcclCollnetChainLat;
  const Op op = parse_op(op_name);
  if (op != Op::allreduce) return unavailable(std::string(name) + " does not implement " + op_name);
  if (!f.scale_out.in_network_reduction)
    return unavailable(std::string(name) +
                       " needs in-network reduction (scale_out.in_network_reduction: false here)");
  const Proto pr = parse_proto(protocol);
  Prediction out;
  if (!nccl_protocol_ok(tb, pr, name, out)) return out;
  const Topo T = make_topo(f, pl);
  if (local_case(T, op, n, name, pr, out)) return out;
  if (T.m < 2) return unavailable(std::string(name) + " needs more than one domain");

  const Rate r = ring_rate(T, true);
  Rate alg{T.g * r.GBps, r.slot};
  if (T.g > 1) alg = min_rate(alg, Rate{direct ? T.bu * T.g / (2 * (T.g - 1)) : T.bu / 2, kScaleUp});
  alg.GBps *= proto_efficiency(f, pr);

  const double intra = nccl_intra(T, tb, pr), inter = nccl_inter(T, tb, pr, T.top);
  const double lat =
      tb.base[static_cast<int>(pr)] +
      (direct ? 2 * (std::min(1.0, T.g - 1) * intra + 0.4 * (T.g - 1)) : 2 * (T.g - 1) * intra) + inter;
  return nccl_finish(T, op, n, lat, alg, name, pr);
}

}  // namespace

Prediction cost_nccl_collnet_direct(const Fabric& f, const std::string& op, const Placement& pl, double n,
                                    const std::string& protocol) {
  return collnet(f, op, pl, n, protocol, true);
}

Prediction cost_nccl_collnet_chain(const Fabric& f, const std::string& op, const Placement& pl, double n,
                                   const std::string& protocol) {
  return collnet(f, op, pl, n, protocol, false);
}

}  // namespace fb::model::detail
