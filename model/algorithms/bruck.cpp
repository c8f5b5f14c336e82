// bruck: ceil(log2 p) steps at shift 2^k.
//   alltoall: step k sends the blocks whose index has bit k set (n/2 per step for p = 2^K:
//     ceil(log2 p) a + (n/2) log2(p)/B), plus memory traffic: the initial and final rotations
//     (read + write n each) and packing/unpacking every step's blocks (read + write, twice).
//   allgather: step k sends min(2^k, p - 2^k) blocks (ceil(log2 p) a + (p-1)/p n/B) and rotates the
//     result once at the end (read + write n).
// Every step sends data the rank has just packed or received: forwarded (step_fwd).
#include <bit>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

namespace {

// Indices i in [0, p) with bit k set.
double blocks_with_bit(std::uint64_t p, int k) {
  const std::uint64_t bit = std::uint64_t{1} << k;
  const std::uint64_t full = (p >> (k + 1)) << k;
  const std::uint64_t rem = p & ((bit << 1) - 1);
  return static_cast<double>(full + (rem > bit ? rem - bit : 0));
}

}  // namespace

Prediction cost_bruck(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                      const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::alltoall && op != Op::allgather) return unavailable("bruck does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "bruck", Proto::none, out)) return out;

  const int K = std::bit_width(pl.nranks - 1);  // ceil(log2 p)
  const double block = n / T.p;
  Cost c;
  double memory = 0;
  for (int k = 0; k < K; ++k) {
    const double d = std::ldexp(1.0, k);
    if (op == Op::alltoall) {
      const double bytes = blocks_with_bit(pl.nranks, k) * block;
      add_step(c, step_fwd(T, Pairing::shift, d, bytes));  // packed just now
      memory += 4 * bytes;                                 // pack (read + write) and unpack (read + write)
    } else {
      const double blocks = d < T.p - d ? d : T.p - d;
      add_step(c, step_fwd(T, Pairing::shift, d, blocks * block));  // rotated/received
    }
  }
  memory += op == Op::alltoall ? 4 * n : 2 * n;  // rotations
  add_memory(c, T, memory);
  return finish(T, op, n, c, "bruck", Proto::none);
}

}  // namespace fb::model::detail
