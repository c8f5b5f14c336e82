// nccl_p2p: NCCL's grouped send/recv, LL and Simple protocols, with one hop of Ring's latency table
// (base + NVLink or network hop, plus the fabric's switch hops).
//   unidir / bidir / pingpong: pairs r, r + p/2, one message; sendrecv (ring shift): r to r + 1,
//   every rank at once, one message (the shift(1) step's slowest flow, its farthest latency).
//   alltoall, alltoallv: every peer at once (as linear): kRequestOverheadUs per posted send/recv;
//   the inter-domain bytes stay on their rail (PXN first moves the other rails' share over
//   scale-up), so scale-up carries (g-1) n/p + (1 - 1/min(rails, g)) (p-g) n/p and the network
//   (p-g) n/p. alltoallv: n is the most loaded rank's bytes (the harness's max_rank_bytes).
//   moe_dispatch, moe_combine: as alltoall at once, over the routing's traffic (model/traffic.cpp):
//   the most loaded rank's scale-up bytes (plus the PXN relay) and NIC bytes.
//   gather, scatter (nccl-tests: the root sends to or receives from every rank in one group): the
//   root's GPU carries all p-1 blocks, (g-1) n/p over NVLink and (p-g) n/p through its own NIC.
#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_nccl_p2p(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                         const std::string& protocol) {
  const Op op = parse_op(op_name);
  if (op != Op::alltoall && op != Op::alltoallv && op != Op::gather && op != Op::scatter && !is_pair_op(op) &&
      !vocab::is_moe(op))
    return unavailable("nccl_p2p does not implement " + op_name);
  const Proto pr = parse_proto(protocol);
  Prediction out;
  if (!nccl_protocol_ok(kNcclP2pLat, pr, "nccl_p2p", out)) return out;
  const Topo T = make_topo(f, pl);
  if (local_case(T, op, n, "nccl_p2p", pr, out)) return out;

  const double eff = proto_efficiency(f, pr), base = kNcclP2pLat.base[static_cast<int>(pr)];
  Cost c;
  if (is_pair_op(op)) {
    const double distance = is_ring_shift(op) ? 1.0 : static_cast<double>(pl.nranks / 2);
    const Step s = step(T, Pairing::shift, distance, n);
    c.add(kLatency,
          base + (s.lca == 0 ? nccl_intra(T, kNcclP2pLat, pr) : nccl_inter(T, kNcclP2pLat, pr, s.lca)));
    c.add(s.slot, s.bw_us / eff);
    return finish(T, op, n, c, "nccl_p2p", pr);
  }
  if (vocab::is_moe(op)) {
    if (!pl.traffic) return unavailable(op_name + " needs its routing's traffic");
    return skewed_exchange(
        T, op, n, *pl.traffic, ExchangeKind::nccl,
        base + (T.m > 1 ? nccl_inter(T, kNcclP2pLat, pr, T.top) : nccl_intra(T, kNcclP2pLat, pr)) +
            2 * (T.p - 1) * kRequestOverheadUs,
        eff, "nccl_p2p", pr);
  }
  const double block = n / T.p;
  if (op == Op::gather || op == Op::scatter) {
    const double intra = T.g > 1 ? xfer_us((T.g - 1) * block, T.bu) / eff : 0;
    const double inter = T.m > 1 ? xfer_us((T.p - T.g) * block, T.b0) / eff : 0;
    c.add(kLatency, base +
                        (T.m > 1 ? nccl_inter(T, kNcclP2pLat, pr, T.top) : nccl_intra(T, kNcclP2pLat, pr)) +
                        (T.p - 1) * kRequestOverheadUs);
    c.add(intra >= inter ? kScaleUp : kNic, std::max(intra, inter));
    return finish(T, op, n, c, "nccl_p2p", pr);
  }
  const double relay = (1 - rail_aligned_share(T)) * (T.p - T.g) * block;
  const double intra_us = T.g > 1 ? xfer_us((T.g - 1) * block + relay, T.bu) / eff : 0;
  Rate inter{T.b0, kNic};
  double inter_us = 0;
  if (T.m > 1) {
    inter = striped_rate(T, dense_rate(T, 1.0), (T.p - T.g) * block);
    inter_us = xfer_us((T.p - T.g) * block, inter.GBps) / eff;
  }
  c.add(kLatency, base + (T.m > 1 ? nccl_inter(T, kNcclP2pLat, pr, T.top) : nccl_intra(T, kNcclP2pLat, pr)) +
                      2 * (T.p - 1) * kRequestOverheadUs);
  if (intra_us >= inter_us)
    c.add(kScaleUp, intra_us);
  else
    c.add(inter.slot, inter_us);
  return finish(T, op, n, c, "nccl_p2p", pr);
}

}  // namespace fb::model::detail
