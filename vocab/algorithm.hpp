// Algorithm names and the ops each implements: the one list that collectives/algorithms/ (the
// code `run --algo` runs) and model/ (a cost function per name) both register under. The model's
// names for NCCL's own algorithms are here too, marked as such: `run` never runs them by name,
// NCCL picks them inside its collectives (run --backend nccl --algo native).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vocab/op.hpp"

namespace fb::vocab {

// A set of ops, one bit per OpKind.
class OpSet {
 public:
  constexpr OpSet(std::initializer_list<OpKind> ops) {
    for (OpKind k : ops) bits_ |= bit(k);
  }
  constexpr bool contains(OpKind k) const { return (bits_ & bit(k)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  // The ops in OpKind order.
  std::vector<OpKind> kinds() const;

 private:
  static constexpr std::uint32_t bit(OpKind k) { return std::uint32_t{1} << static_cast<int>(k); }
  std::uint32_t bits_ = 0;
};

// Who runs an algorithm of this name.
enum class Runner {
  collectives,  // fabricbench's own, over point-to-point (collectives/algorithms/NAME.cpp): run --algo NAME
  backend,      // the backend's own pairwise protocols: run --algo native (or auto)
  nccl,         // NCCL's, chosen inside NCCL: a name for the model only
};

struct Algorithm {
  std::string_view name;
  Runner runner;
  OpSet ops;
  // The model's families: "p2p" (what a UCX/MPI run can run: collectives and backend) and "nccl".
  constexpr std::string_view family() const { return runner == Runner::nccl ? "nccl" : "p2p"; }
  constexpr bool has_protocols() const { return runner == Runner::nccl; }  // ll, ll128, simple
  constexpr bool implements(OpKind k) const { return ops.contains(k); }
};

namespace algo {
using enum OpKind;
inline constexpr Algorithm ring{"ring", Runner::collectives, {allreduce, allgather, reducescatter}};
inline constexpr Algorithm recursive_doubling{
    "recursive_doubling", Runner::collectives, {allreduce, allgather}};
inline constexpr Algorithm rabenseifner{"rabenseifner", Runner::collectives, {allreduce}};
inline constexpr Algorithm recursive_halving{"recursive_halving", Runner::collectives, {reducescatter}};
inline constexpr Algorithm hierarchical{"hierarchical", Runner::collectives, {allreduce, allgather}};
inline constexpr Algorithm pairwise{
    "pairwise", Runner::collectives, {alltoall, alltoallv, moe_dispatch, moe_combine}};
inline constexpr Algorithm bruck{"bruck", Runner::collectives, {alltoall, allgather}};
inline constexpr Algorithm linear{
    "linear", Runner::collectives, {alltoall, gather, scatter, alltoallv, moe_dispatch, moe_combine}};
inline constexpr Algorithm binomial{"binomial", Runner::collectives, {broadcast, reduce, gather, scatter}};
inline constexpr Algorithm chain{"chain", Runner::collectives, {broadcast}};
inline constexpr Algorithm p2p{"p2p", Runner::backend, {sendrecv, unidir, bidir, pingpong, relay}};
inline constexpr Algorithm nccl_ring{
    "nccl_ring", Runner::nccl, {allreduce, allgather, reducescatter, broadcast, reduce}};
inline constexpr Algorithm nccl_tree{"nccl_tree", Runner::nccl, {allreduce}};
inline constexpr Algorithm nccl_nvls{"nccl_nvls", Runner::nccl, {allreduce, allgather, reducescatter}};
inline constexpr Algorithm nccl_nvlstree{"nccl_nvlstree", Runner::nccl, {allreduce}};
inline constexpr Algorithm nccl_collnet_direct{"nccl_collnet_direct", Runner::nccl, {allreduce}};
inline constexpr Algorithm nccl_collnet_chain{"nccl_collnet_chain", Runner::nccl, {allreduce}};
inline constexpr Algorithm nccl_pat{"nccl_pat", Runner::nccl, {allgather, reducescatter}};
inline constexpr Algorithm nccl_p2p{"nccl_p2p",
                                    Runner::nccl,
                                    {alltoall, sendrecv, unidir, bidir, pingpong, relay, gather, scatter,
                                     alltoallv, moe_dispatch, moe_combine}};
}  // namespace algo

// Every algorithm above, in that order.
const std::vector<const Algorithm*>& algorithms();
// nullptr when unknown.
const Algorithm* find_algorithm(std::string_view name);

}  // namespace fb::vocab
