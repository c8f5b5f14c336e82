// hierarchical: two levels. allreduce = ring reduce-scatter inside each domain, g concurrent rings
// (one per local index, so on one rail) allreducing n/g across the m domains, ring allgather inside
// each domain:
//   2(g-1) a1 + 2(m-1) a2 + 2(g-1)/g n/B1 + 2(m-1)/(m g) n/B2 (+ (g-1)/g n/R + (m-1)/(m g) n/R).
// allgather = the inter-domain rings gather the n/p blocks of their local index, then a ring inside
// each domain exchanges the n/g each rank holds: (m-1) a2 + (m-1)/(m g) n/B2 + (g-1) a1 + (g-1)/g n/B1.
#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_hierarchical(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                             const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::allreduce && op != Op::allgather)
    return unavailable("hierarchical does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "hierarchical", Proto::none, out)) return out;

  const double g = T.g, m = T.m;
  const double intra_passes = op == Op::allreduce ? 2 : 1;  // reduce-scatter + allgather, or allgather
  const double inter_passes = op == Op::allreduce ? 2 : 1;
  Cost c;
  if (g > 1) {
    c.add(kLatency, intra_passes * (g - 1) * T.aux);
    c.add(kLatency, (intra_passes * (g - 1) - (op == Op::allreduce ? 1 : 0)) * T.afw);
    // Only the first intra-domain hop of an allreduce sends the send buffer; the rest forward.
    const Rate fwd = scaleup_fwd_rate(T);
    const double clean = op == Op::allreduce ? 1 : 0;
    c.add(kScaleUp, clean * xfer_us(n / g, T.bu));
    c.add(fwd.slot, (intra_passes * (g - 1) - clean) * xfer_us(n / g, fwd.GBps));
    if (op == Op::allreduce) add_reduction(c, T, (g - 1) / g * n);
  }
  if (m > 1) {
    const Rate r = ring_rate(T, true);
    c.add(kLatency, inter_passes * boundaries_latency(T, true, [&](int t) { return T.lat[t]; }));
    c.add(r.slot, inter_passes * (m - 1) * xfer_us(n / (g * m), r.GBps));
    if (op == Op::allreduce) add_reduction(c, T, (m - 1) / m * n / g);
  }
  return finish(T, op, n, c, "hierarchical", Proto::none);
}

}  // namespace fb::model::detail
