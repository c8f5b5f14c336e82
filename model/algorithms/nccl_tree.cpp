// nccl_tree: NCCL's Tree allreduce (a chain inside each domain, double binary trees across them).
//   latency = base + 2 ((g-1) intraLat + sum over the floor(log2 m) tree levels of interLat), a
//   level's network hop adding the switch hops to the lowest common tier of domains 2^level apart.
//   algBw = min(Bu / 2, g x network rate / tree_network_load(m)): inside a domain each channel's
//   tree is a chain, and a GPU in it sends n up (the partial sums) and n down (the result) through
//   its one scale-up port, and receives as much (NCCL's own tuning halves a tree's busBw for the
//   same reason); across domains each NIC carries what the double binary tree puts on it. On a
//   generation NCCL tunes (nccl_tuning.hpp): capped at nCh x perChMaxTree / 2 (NCCL's busBw of a
//   tree is twice its algBw); LL / 3.8 capped at llMaxBw / 2; LL128 x 7/9 on one domain, else x
//   ll128, capped at nCh x perChMaxTreeLL128 / 2. Elsewhere LL x ll, LL128 x ll128. x 0.85 when
//   each domain has one NIC (NCCL's plain TREE pattern).
#include <bit>
#include <limits>

#include "model/algorithms/common.hpp"
#include "model/algorithms/nccl_tuning.hpp"

namespace fb::model::detail {

Prediction cost_nccl_tree(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                          const std::string& protocol) {
  const Op op = parse_op(op_name);
  if (op != Op::allreduce) return unavailable("nccl_tree does not implement " + op_name);
  const Proto pr = parse_proto(protocol);
  Prediction out;
  if (!nccl_protocol_ok(kNcclTreeLat, pr, "nccl_tree", out)) return out;
  const Topo T = make_topo(f, pl);
  if (local_case(T, op, n, "nccl_tree", pr, out)) return out;

  const NcclCaps* caps = nccl_caps(f);
  const int idx = nccl_nodes_index(T);
  Rate algbw{std::numeric_limits<double>::infinity(), kScaleUp};
  if (T.g > 1) algbw = Rate{T.bu / 2, kScaleUp};
  if (T.m > 1) {
    const Rate r = striped_rate(T, ring_rate(T, true), tree_network_load(T.m) * n / T.g);
    algbw = min_rate(algbw, Rate{T.g * r.GBps / tree_network_load(T.m), r.slot});
  }
  if (caps) algbw = cap_rate(algbw, kNcclChannels * caps->per_ch_tree[idx] / 2);
  if (pr == Proto::ll) {
    if (caps) {
      algbw.GBps /= kNcclTreeLlDivisor;
      algbw = cap_rate(algbw, caps->ll_max[idx] / 2);
    } else {
      algbw.GBps *= proto_efficiency(f, pr);
    }
  } else if (pr == Proto::ll128) {
    algbw.GBps *= (caps && T.m <= 1) ? 7.0 / 9.0 : proto_efficiency(f, pr);
    if (caps) algbw = cap_rate(algbw, kNcclChannels * caps->per_ch_tree_ll128[idx] / 2);
  } else {
    algbw.GBps *= proto_efficiency(f, pr);
  }
  if (f.scale_out.nics_per_domain == 1 && T.m > 1) algbw.GBps *= 0.85;

  const std::uint64_t domains =
      (pl.nranks + static_cast<std::uint64_t>(T.g) - 1) / static_cast<std::uint64_t>(T.g);
  const int levels = std::bit_width(domains) - 1;  // floor(log2 m), NCCL's log2i
  double inter = 0;
  for (int l = 0; l < levels; ++l) inter += nccl_inter(T, kNcclTreeLat, pr, tree_level_tier(T, l));
  const double lat =
      kNcclTreeLat.base[static_cast<int>(pr)] + 2 * ((T.g - 1) * nccl_intra(T, kNcclTreeLat, pr) + inter);
  return nccl_finish(T, op, n, lat, algbw, "nccl_tree", pr);
}

}  // namespace fb::model::detail
