// binomial: broadcast down a binomial tree, ceil(log2 p) steps of the whole buffer, farthest
// partner first (MPICH's order: the root sends to root + 2^(K-1), then 2^(K-2), ...). At most one
// sender per subtree leaves it in any step. Flat fabric: ceil(log2 p) (a + n/B).
#include <bit>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_binomial(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                         const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::broadcast) return unavailable("binomial does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "binomial", Proto::none, out)) return out;

  const int K = std::bit_width(pl.nranks - 1);  // ceil(log2 p)
  Cost c;
  // After the first step the ranks that received forward what just arrived.
  for (int j = K - 1; j >= 0; --j) {
    const double r = std::ldexp(1.0, j);
    add_step(c, j == K - 1 ? step(T, Pairing::tree, r, n) : step_fwd(T, Pairing::tree, r, n));
  }
  return finish(T, op, n, c, "binomial", Proto::none);
}

}  // namespace fb::model::detail
