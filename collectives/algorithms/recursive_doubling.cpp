// Recursive doubling all-reduce: log2(p) steps exchanging the whole buffer with rank r^mask.
// Non-power-of-two counts fold the first 2*rem ranks in pairs before and unfold after (the
// standard MPICH scheme), so any rank count works.
#include "collectives/algorithms/common.hpp"
#include "collectives/reduce.hpp"

namespace fb::algo {

namespace {

void run(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), count = c.layout.count, bytes = count * es;
  if (!c.inplace && count) std::memcpy(c.recv, c.send, bytes);
  const int p = p2p.size(), r = p2p.rank();
  int pof2 = 1;
  while (pof2 * 2 <= p) pof2 *= 2;
  const int rem = p - pof2;
  int newrank;
  if (r < 2 * rem) {
    if (r % 2 == 0) {  // fold into r+1, sit out, get the result back at the end
      p2p.isend(c.recv, bytes, r + 1, kTag);
      p2p.wait_all();
      newrank = -1;
    } else {
      p2p.irecv(c.scratch, bytes, r - 1, kTag);
      p2p.wait_all();
      reduce_inplace(c.recv, c.scratch, count, c.dtype, c.redop);
      newrank = r / 2;
    }
  } else {
    newrank = r - rem;
  }
  if (newrank >= 0) {
    for (int mask = 1; mask < pof2; mask <<= 1) {
      const int newpeer = newrank ^ mask;
      const int peer = newpeer < rem ? newpeer * 2 + 1 : newpeer + rem;
      p2p.isend(c.recv, bytes, peer, kTag);
      p2p.irecv(c.scratch, bytes, peer, kTag);
      p2p.wait_all();
      reduce_inplace(c.recv, c.scratch, count, c.dtype, c.redop);
    }
  }
  if (r < 2 * rem) {
    if (r % 2 == 1) p2p.isend(c.recv, bytes, r - 1, kTag);
    else p2p.irecv(c.recv, bytes, r + 1, kTag);
    p2p.wait_all();
  }
}

std::size_t scratch(const OpLayout& l, DType t, int) { return l.count * dtype_size(t); }

}  // namespace

const CollectiveAlgorithm recursive_doubling{"recursive_doubling", {OpKind::allreduce}, scratch, run};

}  // namespace fb::algo
