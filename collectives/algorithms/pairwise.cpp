// Pairwise exchange all-to-all: in step s (1..p-1) rank r sends its block for r+s and receives
// the block from r-s, one partner at a time. Any rank count; in place goes through scratch.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void run(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block;
  const int p = p2p.size(), r = p2p.rank();
  const void* send = c.send;
  if (c.inplace) {
    if (block > 0) std::memcpy(c.scratch, c.send, block * p * es);
    send = c.scratch;
  }
  if (block) std::memcpy(at(c.recv, r * block, es), at(send, r * block, es), block * es);
  for (int s = 1; s < p; ++s) {
    const int dst = mod(r + s, p), src = mod(r - s, p);
    p2p.isend(at(send, dst * block, es), block * es, dst, kTag);
    p2p.irecv(at(c.recv, src * block, es), block * es, src, kTag);
    p2p.wait_all();
  }
}

std::size_t scratch(const OpLayout& l, DType t, int) { return l.send_count * dtype_size(t); }

}  // namespace

const CollectiveAlgorithm pairwise{"pairwise", {OpKind::alltoall}, scratch, run};

}  // namespace fb::algo
