// rabenseifner: allreduce as a recursive-halving reduce-scatter followed by a recursive-doubling
// allgather (MPICH's order: the half-buffer exchange at distance 1 first, so the big messages
// travel the shortest distances). Flat fabric: 2 log2(p) a + 2(p-1)/p n/B + (p-1)/p n/R.
// Non-power-of-two: the p - p' extra ranks fold in (n, reduced) and out (n).
#include <bit>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_rabenseifner(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                             const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::allreduce) return unavailable("rabenseifner does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "rabenseifner", Proto::none, out)) return out;

  const std::uint64_t pp = std::bit_floor(pl.nranks);
  const int K = std::countr_zero(pp);
  Cost c;
  if (pp < pl.nranks) {
    add_step(c, step(T, Pairing::shift, static_cast<double>(pp), n));
    add_step(c, step_fwd(T, Pairing::shift, static_cast<double>(pp), n));
    add_reduction(c, T, n);
  }
  for (int k = 0; k < K; ++k) {
    const double bytes = std::ldexp(n, -(k + 1)), d = std::ldexp(1.0, k);
    const Step fwd = step_fwd(T, Pairing::xor_, d, bytes);
    // Once in the reduce-scatter (the first step sends the send buffer, later ones partial sums),
    // once (mirrored) in the allgather, which sends results.
    add_step(c, k == 0 ? step(T, Pairing::xor_, d, bytes) : fwd);
    add_step(c, fwd);
    add_reduction(c, T, bytes);
  }
  return finish(T, op, n, c, "rabenseifner", Proto::none);
}

}  // namespace fb::model::detail
