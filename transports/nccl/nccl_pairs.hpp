// Which side of a pairwise op (unidir, pingpong, relay) sends first on the nccl backend. Pure:
// unit-tested without NCCL (tests/unit/test_nccl_pure.cpp).
#pragma once

#include "transports/backend.hpp"

namespace fb::transports::nccl_pairs {

// The runner's choice (OpCall::sender): the default pairs' first half, or the lower rank of an
// explicit pair (validate's round-robin rounds). Deciding here from (rank, size) instead made
// both ranks of an explicit pair send (or receive) first: a deadlock at >= 4 ranks.
inline bool sends_first(const OpCall& c) {
  return c.sender;
}

}  // namespace fb::transports::nccl_pairs
