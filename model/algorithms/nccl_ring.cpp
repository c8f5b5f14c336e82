// nccl_ring: NCCL's Ring for allreduce, allgather, reducescatter, broadcast and reduce.
//   latency = base + (nsteps - nInter) intraLat + nInter interLat, nsteps 2(p-1) / p-1 / p-1 / p / p
//   and nInter 2(m-1) / m-1 / m-1 / m-1 / m-1 (reduce is broadcast's chain run backwards, as
//   NCCL's tuning prices it); each network hop adds the fabric's switch hops to the
//   lowest common tier of the two domains (a ring over consecutive domains, on its rail).
//   busBw = min(Bu, g x ring rate) (the domain's g NICs carry its channels), then the protocol:
//   on a generation NCCL tunes (nccl_tuning.hpp): LL min(llMaxBw, busBw x ll x (1/2 or 2/3)),
//   LL128 min(0.92 busBw, nCh x perChMaxRingLL128); elsewhere the payload efficiency.
//   algBw = busBw x p / nsteps.
#include <limits>

#include "model/algorithms/common.hpp"
#include "model/algorithms/nccl_tuning.hpp"

namespace fb::model::detail {

Prediction cost_nccl_ring(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                          const std::string& protocol) {
  const Op op = parse_op(op_name);
  if (op != Op::allreduce && op != Op::allgather && op != Op::reducescatter && op != Op::broadcast &&
      op != Op::reduce)
    return unavailable("nccl_ring does not implement " + op_name);
  const Proto pr = parse_proto(protocol);
  Prediction out;
  if (!nccl_protocol_ok(kNcclRingLat, pr, "nccl_ring", out)) return out;
  const Topo T = make_topo(f, pl);
  if (local_case(T, op, n, "nccl_ring", pr, out)) return out;

  const double passes = op == Op::allreduce ? 2 : 1;
  const double nsteps =
      op == Op::allreduce ? 2 * (T.p - 1) : (op == Op::broadcast || op == Op::reduce ? T.p : T.p - 1);
  const double ninter = passes * (T.m - 1);

  Rate bus{std::numeric_limits<double>::infinity(), kScaleUp};
  if (T.g > 1) bus = Rate{T.bu, kScaleUp};
  if (T.m > 1) {
    // Each GPU's NIC carries its share of the nsteps x n/p that cross each domain boundary.
    const Rate r = striped_rate(T, ring_rate(T, true), nsteps * n / (T.p * T.g));
    bus = min_rate(bus, Rate{T.g * r.GBps, r.slot});
  }
  const NcclCaps* caps = nccl_caps(f);
  if (caps && pr == Proto::ll) {
    bus.GBps *= nccl_ring_ll_share(f, op, T.m);
    bus = cap_rate(bus, caps->ll_max[nccl_nodes_index(T)]);
  } else if (caps && pr == Proto::ll128) {
    bus.GBps *= 0.92;
    bus = cap_rate(bus, kNcclChannels * caps->per_ch_ring_ll128[nccl_nodes_index(T)]);
  } else {
    bus.GBps *= proto_efficiency(f, pr);
  }
  const Rate algbw{bus.GBps * T.p / nsteps, bus.slot};

  const double lat =
      kNcclRingLat.base[static_cast<int>(pr)] + (nsteps - ninter) * nccl_intra(T, kNcclRingLat, pr) +
      passes * boundaries_latency(T, true, [&](int t) { return nccl_inter(T, kNcclRingLat, pr, t); });
  return nccl_finish(T, op, n, lat, algbw, "nccl_ring", pr);
}

}  // namespace fb::model::detail
