// nccl_nvls: NCCL's NVLS (NVSwitch multicast and in-switch reduction), Simple protocol only.
//   Inside one domain: busBw = Bu x nvlsEfficiency x (nCh-1)/nCh, doubled for allreduce (the switch
//   reduces, so each GPU sends and receives the buffer once); algBw = busBw x p / nsteps.
//   Across domains only allreduce, and only with in-network reduction (NVLS + SHARP): each NIC
//   carries n/g each way, so busBw is also capped at 2(p-1)/p x g x network rate.
//   latency = intraLat (+ interLat + switch hops to the top tier across domains).
#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_nccl_nvls(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                          const std::string& protocol) {
  const Op op = parse_op(op_name);
  if (op != Op::allreduce && op != Op::allgather && op != Op::reducescatter)
    return unavailable("nccl_nvls does not implement " + op_name);
  if (!f.scale_up.in_switch_reduction)
    return unavailable("nccl_nvls needs in-switch reduction (scale_up.in_switch_reduction: false here)");
  const Proto pr = parse_proto(protocol);
  Prediction out;
  if (!nccl_protocol_ok(kNcclNvlsLat, pr, "nccl_nvls", out)) return out;
  const Topo T = make_topo(f, pl);
  if (local_case(T, op, n, "nccl_nvls", pr, out)) return out;
  if (T.g < 2) return unavailable("nccl_nvls needs at least 2 ranks per domain");
  if (T.m > 1 && !(op == Op::allreduce && f.scale_out.in_network_reduction))
    return unavailable(
        "nccl_nvls spans domains only for allreduce with in-network reduction (NVLS + SHARP); "
        "nccl_nvlstree covers allreduce without it");

  const double eff = nvls_efficiency(gpu_generation(f)) * (kNcclChannels - 1) / kNcclChannels;
  Rate bus{T.bu * eff * (op == Op::allreduce ? 2 : 1), kInNetwork};
  if (T.m > 1) {
    const Rate r = ring_rate(T, true);
    bus = min_rate(bus, Rate{2 * (T.p - 1) / T.p * T.g * r.GBps, r.slot});
  }
  bus.GBps *= proto_efficiency(f, pr);
  const double nsteps = op == Op::allreduce ? 2 * (T.p - 1) : T.p - 1;
  const Rate algbw{bus.GBps * T.p / nsteps, bus.slot};
  double lat = nccl_intra(T, kNcclNvlsLat, pr);
  if (T.m > 1) lat += nccl_inter(T, kNcclNvlsLat, pr, T.top);
  return nccl_finish(T, op, n, lat, algbw, "nccl_nvls", pr);
}

}  // namespace fb::model::detail
