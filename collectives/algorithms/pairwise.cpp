// Pairwise exchange all-to-all: in step s (1..p-1) rank r sends its block for r+s and receives
// the block from r-s, one partner at a time. Any rank count; in place goes through scratch.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void run(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank();
  const void* send = alltoall_start(c, p, r);
  for (int s = 1; s < p; ++s) {
    const int dst = mod(r + s, p), src = mod(r - s, p);
    exchange(p2p, Exchange{at(send, dst * block, es), block, dst, at(c.recv, src * block, es), nullptr, block, src},
             c.dtype, c.redop, ch, nullptr);
  }
}

std::size_t scratch(const AlgoCall& c, int) { return c.inplace ? c.layout.send_count * dtype_size(c.dtype) : 0; }

}  // namespace

const CollectiveAlgorithm pairwise{"pairwise", {OpKind::alltoall}, scratch, run};

}  // namespace fb::algo
