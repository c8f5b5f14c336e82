// nccl_nvls: NCCL's NVLS (NVSwitch multicast and in-switch reduction), Simple protocol only.
//   Inside one domain, at the NVLS rate B = T.nvls (model/rates.cpp): an all-reduce moves n (1 + 1/g)
//   each way per GPU (the switch reads its whole buffer and multicasts every reduced slice to it; it
//   sends its n/g slice and receives its reduced slice), so algBw = B g / (g + 1) and the reported
//   busBw 2 B (g - 1) / (g + 1); all-gather and reduce-scatter move n each way: algBw = B.
//   Across domains only allreduce, and only with in-network reduction (NVLS + SHARP): each NIC
//   carries n/g each way, so algBw is also capped at g x network rate.
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

  Rate algbw{T.nvls * (op == Op::allreduce ? T.g / (T.g + 1) : 1), kInNetwork};
  if (T.m > 1) {
    const Rate r = striped_rate(T, ring_rate(T, true), n / T.g);
    algbw = min_rate(algbw, Rate{T.g * r.GBps, r.slot});
  }
  algbw.GBps *= proto_efficiency(f, pr);
  double lat = nccl_intra(T, kNcclNvlsLat, pr);
  if (T.m > 1) lat += nccl_inter(T, kNcclNvlsLat, pr, T.top);
  return nccl_finish(T, op, n, lat, algbw, "nccl_nvls", pr);
}

}  // namespace fb::model::detail
