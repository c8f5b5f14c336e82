// nccl_collnet_direct / nccl_collnet_chain: NCCL's CollNet allreduce across domains with
// in-network reduction (SHARP), Simple protocol only. algBw = the smaller of:
//   inside the domain: Direct reduce-scatters to and allgathers from the heads (each GPU moves
//     2 (g-1)/g n each way over scale-up: Bu g / (2(g-1))); Chain goes up and down a chain (Bu / 2);
//   the network: NCCL's tuning.cc prices CollNet as busBw = nChannels x the per-NIC bandwidth,
//     one channel per head NIC, converted to algBw with its tree ratio 0.5, and for Direct divided
//     by its GPU/NIC factor f = r - (r - 1)/2, r = GPUs per NIC ("CollNet Direct requires all GPUs
//     to have a local NIC to work at full speed"). Here: algBw = collnet_network_share x the
//     domain's NIC rate for the g ranks (g x per-endpoint rate) / f, with the share 0.5 (NCCL's
//     ratio). What CollNet measures agrees with that and not with a full-duplex SHARP exchange
//     at line rate: row 14 (8 x 8 A100, 8 x HDR per node, NCCL 2.14.3) measures 159.75 GB/s busbw;
//     NCCL's structure gives 187, line rate would give 374 (and the scale-up side 260).
// Latency as NCCL's tuning.cc:
//   direct: 2 (min(1, g-1) intraLat + 0.4 (g-1)) + interLat;  chain: 2 (g-1) intraLat + interLat,
// interLat plus the switch hops to the job's top tier.
#include <algorithm>
#include <limits>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

namespace {

// NCCL's tuning.cc converts CollNet's busBw to algBw with the ratio it gives trees: 0.5.
constexpr double kNcclCollnetNetworkShare = 0.5;

// CollNet Direct's GPU/NIC factor (tuning.cc): r = GPUs per NIC in the domain, f = r - (r - 1)/2;
// 1 when every GPU has its own NIC, and for Chain.
double collnet_gpu_nic_factor(const Fabric& f, const Topo& T, bool direct) {
  if (!direct || f.scale_out.nics_per_domain <= 0 || f.scale_up.domain_size <= 0) return 1;
  const double per_gpu =
      static_cast<double>(f.scale_out.nics_per_domain) / static_cast<double>(f.scale_up.domain_size);
  const double r = per_gpu >= 1 || T.g <= 1 ? 1 : 1 / per_gpu;
  return r - (r - 1) / 2;
}

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
  Rate alg{T.g * r.GBps * kNcclCollnetNetworkShare / collnet_gpu_nic_factor(f, T, direct), r.slot};
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
