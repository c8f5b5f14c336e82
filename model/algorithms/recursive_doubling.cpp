// recursive_doubling: allreduce in log2 p' exchanges of the whole buffer (each reduced), allgather
// in log2 p' exchanges of doubling size. p' = 2^floor(log2 p); the p - p' extra ranks fold in
// before and out after (two more steps at shift p'). Flat fabric: log2(p) (a + n/B + n/R).
// Steps that send what the rank received or reduced earlier move at the forward rate.
#include <bit>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_recursive_doubling(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                                   const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::allreduce && op != Op::allgather)
    return unavailable("recursive_doubling does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "recursive_doubling", Proto::none, out)) return out;

  const std::uint64_t pp = std::bit_floor(pl.nranks);
  const int K = std::countr_zero(pp);
  const double P = static_cast<double>(pp);
  const bool folded = pp < pl.nranks;
  Cost c;
  if (op == Op::allreduce) {
    for (int k = 0; k < K; ++k) {  // step 0 sends the send buffer, later ones the running result
      add_step(c, k == 0 ? step(T, Pairing::xor_, 1, n) : step_fwd(T, Pairing::xor_, std::ldexp(1.0, k), n));
      add_reduction(c, T, n);
    }
    if (folded) {  // extras hand their buffer in (reduced there) and get the result back
      add_step(c, step(T, Pairing::shift, P, n));
      add_step(c, step_fwd(T, Pairing::shift, P, n));
      add_reduction(c, T, n);
    }
  } else {  // the own block is copied into the receive buffer first, and every step sends from there
    add_own_block_copy(c, T, n / T.p);
    for (int k = 0; k < K; ++k)
      add_step(c, step_fwd(T, Pairing::xor_, std::ldexp(1.0, k), std::ldexp(n / P, k)));
    if (folded) {  // extras hand their block in and get the whole buffer back
      add_step(c, step_fwd(T, Pairing::shift, P, n / T.p));
      add_step(c, step_fwd(T, Pairing::shift, P, n));
    }
  }
  return finish(T, op, n, c, "recursive_doubling", Proto::none);
}

}  // namespace fb::model::detail
