// nccl_nvlstree: NCCL's NVLSTree allreduce across domains (NVLS inside each domain, trees across),
// Simple protocol only. Pipelined stages, the slowest sets the rate: NVLS inside each domain
// (algBw = B g / (g + 1), B = T.nvls x nvlstree_share, the NVLS rate NVLSTree reaches on that
// generation: model/rates.cpp) and the double binary tree across domains (each
// NIC carries tree_network_load(m) x n/g each way: algBw = g x network rate / that load). On a
// generation NCCL tunes (nccl_tuning.hpp): busBw capped at nCh x perChMaxNVLSTree; algBw = busBw x
// p / (2(p-1)).
// latency = intraLat + 2 x sum over the floor(log2 m) tree levels of interLat (+ switch hops).
#include <bit>

#include "model/algorithms/common.hpp"
#include "model/algorithms/nccl_tuning.hpp"
#include "model/rates.hpp"

namespace fb::model::detail {

Prediction cost_nccl_nvlstree(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                              const std::string& protocol) {
  const Op op = parse_op(op_name);
  if (op != Op::allreduce) return unavailable("nccl_nvlstree does not implement " + op_name);
  if (!f.scale_up.in_switch_reduction)
    return unavailable("nccl_nvlstree needs in-switch reduction (scale_up.in_switch_reduction: false here)");
  const Proto pr = parse_proto(protocol);
  Prediction out;
  if (!nccl_protocol_ok(kNcclNvlsTreeLat, pr, "nccl_nvlstree", out)) return out;
  const Topo T = make_topo(f, pl);
  if (local_case(T, op, n, "nccl_nvlstree", pr, out)) return out;
  if (T.m < 2) return unavailable("nccl_nvlstree needs more than one domain (nccl_nvls covers one)");
  if (T.g < 2) return unavailable("nccl_nvlstree needs at least 2 ranks per domain");

  const NcclCaps* caps = nccl_caps(f);
  const Rate r = striped_rate(T, ring_rate(T, true), tree_network_load(T.m) * n / T.g);
  Rate algbw = min_rate(Rate{T.nvls * nvlstree_share(f) * T.g / (T.g + 1), kInNetwork},
                        Rate{T.g * r.GBps / tree_network_load(T.m), r.slot});
  if (caps && caps->per_ch_nvlstree[nccl_nodes_index(T)] > 0)
    algbw =
        cap_rate(algbw, kNcclChannels * caps->per_ch_nvlstree[nccl_nodes_index(T)] * T.p / (2 * (T.p - 1)));
  algbw.GBps *= proto_efficiency(f, pr);

  const std::uint64_t domains =
      (pl.nranks + static_cast<std::uint64_t>(T.g) - 1) / static_cast<std::uint64_t>(T.g);
  const int levels = std::bit_width(domains) - 1;
  double inter = 0;
  for (int l = 0; l < levels; ++l) inter += nccl_inter(T, kNcclNvlsTreeLat, pr, tree_level_tier(T, l));
  const double lat =
      kNcclNvlsTreeLat.base[static_cast<int>(pr)] + nccl_intra(T, kNcclNvlsTreeLat, pr) + 2 * inter;
  return nccl_finish(T, op, n, lat, algbw, "nccl_nvlstree", pr);
}

}  // namespace fb::model::detail
