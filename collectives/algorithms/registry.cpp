// Every collective algorithm fabricbench implements over P2P (one file each beside this one), and
// the rule --algo auto picks by.
#include "collectives/algorithms/common.hpp"

namespace fb {

const std::vector<const CollectiveAlgorithm*>& collective_algorithms() {
  static const std::vector<const CollectiveAlgorithm*> v{&algo::ring,
                                                         &algo::recursive_doubling,
                                                         &algo::rabenseifner,
                                                         &algo::hierarchical,
                                                         &algo::recursive_halving,
                                                         &algo::pairwise,
                                                         &algo::bruck,
                                                         &algo::linear,
                                                         &algo::binomial,
                                                         &algo::chain};
  return v;
}

const CollectiveAlgorithm* find_collective_algorithm(std::string_view name) {
  for (const auto* a : collective_algorithms())
    if (a->name == name) return a;
  return nullptr;
}

bool algorithm_supports(const CollectiveAlgorithm& a, OpKind op) {
  return a.ops.contains(op);
}

bool any_algorithm_supports(OpKind op) {
  return !algorithms_for(op).empty();
}

std::string algorithms_for(OpKind op) {
  std::string s;
  for (const auto* a : collective_algorithms())
    if (algorithm_supports(*a, op)) s += (s.empty() ? "" : ", ") + std::string(a->name);
  return s;
}

const char* const kAutoRule =
    "auto picks by op and size (bytes as in the size column): allreduce: recursive_doubling below 16 KiB, "
    "else hierarchical on several nodes with several ranks each, else rabenseifner below 1 MiB, else ring; "
    "allgather: recursive_doubling below 64 KiB, else ring; reducescatter: recursive_halving below 64 KiB, "
    "else ring; alltoall (per-peer block): bruck up to 256 B, linear below 16 KiB, else pairwise; "
    "broadcast: binomial below 64 KiB, else chain; reduce: binomial; gather, scatter: binomial below 64 KiB, "
    "else linear; alltoallv, moe_dispatch, moe_combine (average per-peer block): linear below 16 KiB, else "
    "pairwise; sendrecv, bidir, "
    "pingpong, relay: native";

std::string_view auto_algorithm(OpKind op, const OpLayout& l, DType dtype, const AutoTopology& t) {
  constexpr std::size_t KiB = 1024, MiB = 1024 * KiB;
  const std::size_t bytes = l.bytes, block = l.block * dtype_size(dtype);
  switch (op) {
    case OpKind::allreduce:
      if (bytes < 16 * KiB) return algo::recursive_doubling.name;
      if (t.nnodes > 1 && t.max_ranks_per_node > 1) return algo::hierarchical.name;
      return bytes < MiB ? algo::rabenseifner.name : algo::ring.name;
    case OpKind::allgather:
      return bytes < 64 * KiB ? algo::recursive_doubling.name : algo::ring.name;
    case OpKind::reducescatter:
      return bytes < 64 * KiB ? algo::recursive_halving.name : algo::ring.name;
    case OpKind::alltoall:
      if (block <= 256) return algo::bruck.name;
      return block < 16 * KiB ? algo::linear.name : algo::pairwise.name;
    case OpKind::broadcast:
      return bytes < 64 * KiB ? algo::binomial.name : algo::chain.name;
    case OpKind::reduce:
      return algo::binomial.name;
    case OpKind::gather:
    case OpKind::scatter:
      return bytes < 64 * KiB ? algo::binomial.name : algo::linear.name;
    case OpKind::alltoallv:
    case OpKind::moe_dispatch:
    case OpKind::moe_combine:
      return block < 16 * KiB ? algo::linear.name : algo::pairwise.name;
    case OpKind::sendrecv:
    case OpKind::unidir:
    case OpKind::bidir:
    case OpKind::pingpong:
    case OpKind::relay:
      break;
  }
  return "native";
}

}  // namespace fb
