// recursive_halving: reducescatter in log2 p' exchanges, the first at distance p'/2 with n/2 bytes
// down to distance 1 with n/p' (rank r must end with block r, so the halving starts with the top
// bit: big messages travel far). Each exchanged half is reduced. Non-power-of-two: the extra ranks
// fold in (n, reduced) and get their block back (n/p).
#include <bit>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_recursive_halving(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                                  const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::reducescatter) return unavailable("recursive_halving does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "recursive_halving", Proto::none, out)) return out;

  const std::uint64_t pp = std::bit_floor(pl.nranks);
  const int K = std::countr_zero(pp);
  const double P = static_cast<double>(pp);
  Cost c;
  if (pp < pl.nranks) {
    add_step(c, step(T, Pairing::shift, P, n));
    add_reduction(c, T, n);
    add_step(c, step_fwd(T, Pairing::shift, P, n / T.p));
  }
  for (int k = K - 1; k >= 0; --k) {  // the first step sends the send buffer, later ones partial sums
    const double d = std::ldexp(1.0, k);
    const double bytes = n * d / P;
    add_step(c, k == K - 1 ? step(T, Pairing::xor_, d, bytes) : step_fwd(T, Pairing::xor_, d, bytes));
    add_reduction(c, T, bytes);
  }
  return finish(T, op, n, c, "recursive_halving", Proto::none);
}

}  // namespace fb::model::detail
