// binomial: binomial trees of K = ceil(log2 p) steps; at most one sender per subtree leaves it in
// any step (Pairing::tree).
//   broadcast  the whole buffer down the tree, farthest partner first (MPICH's order: the root
//              sends to root + 2^(K-1), then 2^(K-2), ...). Flat fabric: K (a + n/B).
//   reduce     the mirror image, nearest partner first: K steps of the whole buffer, each
//              reduced on arrival (n of reduction per step). Flat fabric: K (a + n/B + n/R).
//   gather     step j (partner 2^j, nearest first) moves the sender's subtree, 2^j blocks of n/p
//              (forwarded after the first step); scatter the same steps in reverse order. Flat
//              fabric: K a + (p-1)/p n/B.
#include <bit>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_binomial(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                         const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::broadcast && op != Op::reduce && op != Op::gather && op != Op::scatter)
    return unavailable("binomial does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "binomial", Proto::none, out)) return out;

  const int K = std::bit_width(pl.nranks - 1);  // ceil(log2 p)
  Cost c;
  if (op == Op::reduce) {
    // A rank forwards the partial result it reduced: every step after the first sends forwarded data.
    for (int j = 0; j < K; ++j) {
      const double r = std::ldexp(1.0, j);
      add_step(c, j == 0 ? step(T, Pairing::tree, r, n) : step_fwd(T, Pairing::tree, r, n));
      add_reduction(c, T, n);
    }
    return finish(T, op, n, c, "binomial", Proto::none);
  }
  if (op == Op::gather || op == Op::scatter) {
    const double block = n / T.p;
    for (int j = 0; j < K; ++j) {
      const double r = std::ldexp(1.0, j);
      // Subtree of 2^j blocks (fewer at the edge of p: the largest is what the step waits for).
      const double bytes = std::min(r, T.p - r) * block;
      const bool first = op == Op::gather ? j == 0 : j == K - 1;
      add_step(c, first ? step(T, Pairing::tree, r, bytes) : step_fwd(T, Pairing::tree, r, bytes));
    }
    return finish(T, op, n, c, "binomial", Proto::none);
  }
  // After the first step the ranks that received forward what just arrived.
  for (int j = K - 1; j >= 0; --j) {
    const double r = std::ldexp(1.0, j);
    add_step(c, j == K - 1 ? step(T, Pairing::tree, r, n) : step_fwd(T, Pairing::tree, r, n));
  }
  return finish(T, op, n, c, "binomial", Proto::none);
}

}  // namespace fb::model::detail
