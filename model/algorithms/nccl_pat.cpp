// nccl_pat: NCCL's PAT allgather / reducescatter, one rank per domain, Simple protocol only.
// The data moves in ceil(log2 p) steps at distance 2^k carrying min(2^k, p - 2^k) blocks (the
// Bruck pattern, each step against the tiers it crosses); NCCL's x0.75 PAT correction applies to
// that rate. latency = 8 + log2(m) interLat / 3.5 + 2.8 p (NCCL's form; interLat + switch hops to
// the job's top tier).
#include <bit>
#include <cmath>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_nccl_pat(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                         const std::string& protocol) {
  const Op op = parse_op(op_name);
  if (op != Op::allgather && op != Op::reducescatter)
    return unavailable("nccl_pat does not implement " + op_name);
  const Proto pr = parse_proto(protocol);
  Prediction out;
  if (!nccl_protocol_ok(kNcclPatLat, pr, "nccl_pat", out)) return out;
  const Topo T = make_topo(f, pl);
  if (local_case(T, op, n, "nccl_pat", pr, out)) return out;
  if (T.g > 1) return unavailable("nccl_pat runs with one rank per domain (NCCL uses it only then)");

  const int K = std::bit_width(pl.nranks - 1);
  const double block = n / T.p, scale = 1 / (0.75 * proto_efficiency(f, pr));
  Cost c;
  for (int k = 0; k < K; ++k) {
    const double d = std::ldexp(1.0, k);
    const double blocks = d < T.p - d ? d : T.p - d;
    const Step s = step(T, Pairing::shift, d, blocks * block);
    c.add(s.slot, s.bw_us * scale);
  }
  c.add(kLatency, kNcclPatLat.base[static_cast<int>(pr)] +
                      std::log2(T.m) * nccl_inter(T, kNcclPatLat, pr, T.top) / 3.5 + 2.8 * T.p);
  return finish(T, op, n, c, "nccl_pat", pr);
}

}  // namespace fb::model::detail
